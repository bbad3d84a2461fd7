#include "tinyref/codegen/linearizer.h"

#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "tinyref/codegen/index_lowering.h"
#include "tinyref/codegen/packing.h"
#include "tinyref/codegen/reduce_lowering.h"
#include "tinyref/codegen/uop_builder.h"
#include "tinyref/error.h"
#include "tinyref/ops_eval.h"

namespace tinyref {

namespace {

// Loop indices, buffer positions and the flat positions that join a ShapeTracker's views are
// int32 in every renderer: a kernel needing more would wrap around silently. (The iteration
// count itself may be larger: MNIST's conv2 runs 5.2e9 iterations in loops that each fit.)
void check_int32_indexing(const Kernel& k) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  const auto refuse = [&](const char* what, int64_t n) {
    TT_CHECK(n <= kMax, "kernel " << k.name() << ": " << what << " of " << n << " exceeds tinyref's int32 indexing (at most "
                                  << kMax << ")");
  };
  const Shape full = k.full_shape();
  int64_t blocks = 1;
  for (size_t d = 0; d < k.ndim(); ++d) {
    refuse("a loop", full[d]);
    if (k.gpu && k.axes[d] == Axis::kGlobal) refuse("a grid", blocks *= full[d]);
  }
  for (const BufferArg& b : k.bufs) refuse("a buffer", b.size);
  for (const ShapeTracker& st : k.sts) {
    for (size_t v = 0; v + 1 < st.views.size(); ++v) refuse("a view", st.views[v].size());
  }
}

// An op under the reduce runs once per iteration of the loop nest, one above it once per output
// (counted per iteration, a conv's fused ReLU gradient made MNIST's conv2 176 TFLOP/s).
void estimate_costs(const Kernel& k, Program& p) {
  int64_t per_iteration = 0, per_output = 0;
  std::function<void(const AstNode*, bool)> count = [&](const AstNode* n, bool under_reduce) {
    under_reduce = under_reduce || is_reduce(n->op);
    if (is_elementwise(n->op) || is_reduce(n->op)) ++(under_reduce ? per_iteration : per_output);
    for (const AstRef& s : n->src) count(s.get(), under_reduce);
  };
  count(k.ast.get(), false);
  p.flops = per_iteration * prod(k.full_shape()) + per_output * prod(k.out_shape());
  for (const BufferArg& b : p.bufs) p.bytes += b.size * static_cast<int64_t>(itemsize(b.dtype));
  p.opts = to_string(k.applied);
}

class Linearizer {
 public:
  explicit Linearizer(const Kernel& k) : k_(k), ix_(k, b_), reduce_(k, b_, ix_), pack_(k, b_, ix_) {}

  Program run() {
    b_.program().name = k_.name();
    b_.program().bufs = k_.bufs;
    std::vector<std::vector<int64_t>> ups = ix_.combos(Axis::kUpcast);
    const AstNode* store = k_.leaves[0];
    const bool outer_reduce = k_.first_of(Axis::kOuterReduce) >= 0;
    std::vector<int> globals_open;
    if (outer_reduce) {
      // The outer loops add into the output: clear it first, then reduce their shares into it.
      TT_ASSERT(!k_.gpu && store->src[0].get() == k_.reduce);
      const Val init{b_.const_of(reduce_identity(k_.reduce->op, k_.reduce->dtype), k_.reduce->dtype), {}};
      std::vector<int> clear_open = ix_.open_loops({Axis::kGlobal}, k_.parallel);
      for (const auto& u : ups) ix_.store(0, k_.sts[0], u, init, -1);
      ix_.close_loops(clear_open);
    }
    if (k_.gpu) {
      b_.program().global_size = ix_.special({Axis::kGlobal}, "gidx");
      b_.program().local_size = ix_.special({Axis::kLocal, Axis::kGroup}, "lidx");
    } else {
      // A packed panel is copied inside its loop, before the loops that read it open (hoisted,
      // before them all: the parallel loop is then the first one after the copy).
      const size_t split = pack_.split_after();
      globals_open = ix_.open_loops({Axis::kGlobal, Axis::kOuterReduce}, k_.parallel, 0, split);
      if (split != SIZE_MAX) {
        pack_.emit_copy();
        for (int r : ix_.open_loops({Axis::kGlobal, Axis::kOuterReduce}, k_.parallel && globals_open.empty(), split)) {
          globals_open.push_back(r);
        }
      }
    }
    if (k_.reduce) {
      reduced_ = reduce_.lower(ups, [this](const AstNode* n, const std::vector<int64_t>& a) { return render(n, a); });
    }
    // After a GPU group reduce every thread of the block holds the result: one of them writes it.
    int gate = -1;
    if (k_.gpu && k_.first_of(Axis::kGroup) >= 0) {
      gate = b_.alu_uop(Op::CMPLT, DType::kBool, 1, {ix_.thread_index(), b_.int_const(1)});
    }
    for (const auto& u : ups) {
      Val v = render(store->src[0].get(), u);
      if (outer_reduce) v = b_.alu(combine_op(k_.reduce->op), k_.reduce->dtype, {ix_.load(store, u), v});
      ix_.store(0, k_.sts[0], u, v, gate);
    }
    ix_.close_loops(globals_open);
    estimate_costs(k_, b_.program());
    return b_.take();
  }

 private:
  using Val = UOpBuilder::Val;

  // The value of AST node n at one unrolled position (`assign`, as IndexLowering::index_of
  // takes it), each node once per position while its loops are open.
  Val render(const AstNode* n, const std::vector<int64_t>& assign) {
    std::ostringstream key;
    key << n << ":";
    for (int64_t a : assign) key << a << ",";
    if (const Val* known = b_.recall(key.str())) return *known;
    Val out;
    if (n->op == Op::BUFFER || n->op == Op::CONST) {
      std::optional<Val> copied = reduce_.staged_read(n, assign);
      if (!copied) copied = pack_.read(n, assign);
      out = copied ? *copied : ix_.load(n, assign);
    } else if (is_reduce(n->op)) {
      std::vector<int64_t> u = assign;
      for (size_t d = 0; d < k_.ndim(); ++d) {
        if (k_.axes[d] != Axis::kUpcast) u[d] = -1;
      }
      out = reduced_.at(u);
    } else {
      std::vector<Val> src;
      for (const AstRef& s : n->src) src.push_back(render(s.get(), assign));
      out = b_.alu(n->op, n->dtype, src);
    }
    b_.remember(key.str(), out);
    return out;
  }

  const Kernel& k_;
  UOpBuilder b_;
  IndexLowering ix_;
  ReduceLowering reduce_;
  Packing pack_;
  std::map<std::vector<int64_t>, Val> reduced_;  // the reduce's value per upcast position
};

}  // namespace

Program linearize(const Kernel& k) {
  check_int32_indexing(k);
  Linearizer l(k);
  return l.run();
}

}  // namespace tinyref
