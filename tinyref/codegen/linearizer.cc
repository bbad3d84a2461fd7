#include "tinyref/codegen/linearizer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include "tinyref/codegen/staging.h"
#include "tinyref/codegen/uop_builder.h"
#include "tinyref/error.h"
#include "tinyref/ops_eval.h"

namespace tinyref {

namespace {

constexpr int kLaneVar = 1 << 20;  // the symbolic variable standing for the SIMD lane

Op combine_op(Op reduce) { return reduce == Op::SUM ? Op::ADD : Op::MAX; }  // folds in one more value

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

class Linearizer {
 public:
  explicit Linearizer(const Kernel& k) : k_(k), full_(k.full_shape()) {}

  Program run() {
    check_int32_indexing(k_);
    b_.program().name = k_.name();
    b_.program().bufs = k_.bufs;
    for (size_t i = 0; i < k_.bufs.size(); ++i) {
      globals_.push_back(b_.emit_typed(UOpKind::kDefineGlobal, k_.bufs[i].dtype, {}, 1, static_cast<int64_t>(i)));
    }
    for (size_t d = 0; d < k_.ndim(); ++d) {
      if (k_.axes[d] == Axis::kVector) {
        vdim_ = static_cast<int>(d);
        b_.set_width(static_cast<int>(full_[d]));
      }
    }
    var_uop_.assign(k_.ndim(), -1);
    std::vector<std::vector<int64_t>> ups = combos(Axis::kUpcast);
    const AstNode* store = k_.leaves[0];
    const bool outer_reduce = k_.first_of(Axis::kOuterReduce) >= 0;
    std::vector<int> globals_open;
    if (outer_reduce) {
      // The outer loops add into the output: clear it first, then reduce their shares into it.
      TT_ASSERT(!k_.gpu && store->src[0].get() == k_.reduce);
      const Val init{b_.const_of(reduce_identity(k_.reduce->op, k_.reduce->dtype), k_.reduce->dtype), {}};
      std::vector<int> clear_open = open_loops({Axis::kGlobal}, k_.parallel);
      for (const auto& u : ups) emit_store(0, k_.sts[0], u, init, -1);
      close_loops(clear_open);
    }
    if (k_.gpu) {
      b_.program().global_size = special({Axis::kGlobal}, "gidx");
      b_.program().local_size = special({Axis::kLocal, Axis::kGroup}, "lidx");
    } else {
      globals_open = open_loops({Axis::kGlobal, Axis::kOuterReduce}, k_.parallel);
    }
    if (k_.reduce) reduce_phase(ups);
    // After a GPU group reduce every thread of the block holds the result: one of them writes it.
    int gate = -1;
    if (k_.gpu && k_.first_of(Axis::kGroup) >= 0) {
      gate = b_.alu_uop(Op::CMPLT, DType::kBool, 1, {lidx_, b_.const_of(1, DType::kInt32)});
    }
    for (const auto& u : ups) {
      Val v = render(store->src[0].get(), u);
      if (outer_reduce) v = b_.alu(combine_op(k_.reduce->op), k_.reduce->dtype, {leaf(store, u), v});
      emit_store(0, k_.sts[0], u, v, gate);
    }
    close_loops(globals_open);
    estimate_costs();
    return b_.take();
  }

 private:
  using Val = UOpBuilder::Val;

  // --- loops

  // Loops over the dimensions of these kinds among [first, last), in dimension order.
  std::vector<int> open_loops(std::initializer_list<Axis> kinds, bool parallel_first, size_t first = 0,
                              size_t last = SIZE_MAX) {
    std::vector<int> opened;
    for (size_t d = first; d < std::min(last, k_.ndim()); ++d) {
      if (std::find(kinds.begin(), kinds.end(), k_.axes[d]) == kinds.end()) continue;
      const Axis kind = k_.axes[d];
      UOp u{UOpKind::kRange};
      u.arg = full_[d];
      u.parallel = parallel_first && opened.empty();
      u.tag = kind == Axis::kGlobal ? "gidx" : kind == Axis::kGroup ? "tidx" : kind == Axis::kOuterReduce ? "oidx" : "ridx";
      b_.open_scope();
      var_uop_[d] = b_.emit(u);
      opened.push_back(var_uop_[d]);
    }
    return opened;
  }

  void close_loops(const std::vector<int>& opened) {
    for (size_t i = opened.size(); i-- > 0;) {
      UOp e{UOpKind::kEndRange};
      e.src = {opened[i]};
      b_.emit(e);
      const int start = b_.close_scope();
      for (auto it = memo_.begin(); it != memo_.end();) it = it->second.first >= start ? memo_.erase(it) : std::next(it);
    }
  }

  // GPU: the dimensions of these kinds are the digits of one hardware index (the block index for
  // gidx, the thread index for lidx), the first dimension the most significant. Returns the
  // index's extent, the launch size.
  int64_t special(const std::vector<Axis>& kinds, const char* tag) {
    std::vector<size_t> dims;
    int64_t total = 1;
    for (size_t d = 0; d < k_.ndim(); ++d) {
      if (std::find(kinds.begin(), kinds.end(), k_.axes[d]) == kinds.end()) continue;
      dims.push_back(d);
      total *= full_[d];
    }
    if (dims.empty()) return 1;
    UOp u{UOpKind::kSpecial};
    u.arg = total;
    u.tag = tag;
    const int index = b_.emit(u);
    if (u.tag == std::string("lidx")) lidx_ = index;
    int64_t below = total;
    for (size_t d : dims) {
      below /= full_[d];
      int v = index;
      if (below > 1) v = b_.alu_uop(Op::IDIV, DType::kInt32, 1, {v, b_.const_of(static_cast<double>(below), DType::kInt32)});
      if (d != dims.front()) v = b_.alu_uop(Op::MOD, DType::kInt32, 1, {v, b_.const_of(static_cast<double>(full_[d]), DType::kInt32)});
      var_uop_[d] = v;
    }
    return total;
  }

  // How many partial results a group reduce leaves: on a CPU the iterations of its one group
  // loop; on a GPU every thread of the block, whose group dimensions may be several (the
  // thread index is then the slot).
  int64_t group_size() const {
    if (!k_.gpu) return full_[k_.first_of(Axis::kGroup)];
    int64_t n = 1;
    for (size_t d = 0; d < k_.ndim(); ++d) {
      if (k_.axes[d] == Axis::kGroup) n *= full_[d];
    }
    return n;
  }

  // Every assignment of values to the dimensions of one kind (kUpcast, or kUnroll), as full
  // per-dimension vectors with -1 elsewhere.
  std::vector<std::vector<int64_t>> combos(Axis kind, const std::vector<int64_t>& base = {}) {
    std::vector<std::vector<int64_t>> out = {base.empty() ? std::vector<int64_t>(k_.ndim(), -1) : base};
    for (size_t d = 0; d < k_.ndim(); ++d) {
      if (k_.axes[d] != kind) continue;
      std::vector<std::vector<int64_t>> next;
      for (const auto& c : out) {
        for (int64_t i = 0; i < full_[d]; ++i) {
          next.push_back(c);
          next.back()[d] = i;
        }
      }
      out = std::move(next);
    }
    return out;
  }

  // --- index expressions

  std::pair<sym::Expr, sym::Expr> index_of(const ShapeTracker& st, const std::vector<int64_t>& assign) {
    std::vector<sym::Expr> idx;
    for (size_t d = 0; d < k_.ndim(); ++d) {
      if (st.shape()[d] == 1) {
        idx.push_back(sym::num(0));
      } else if (static_cast<int>(d) == vdim_) {
        idx.push_back(sym::var(kLaneVar, "lane", 0, b_.simd_width() - 1));
      } else if (assign[d] >= 0) {
        idx.push_back(sym::num(assign[d]));
      } else {
        idx.push_back(sym::var(static_cast<int>(d), "d" + std::to_string(d), 0, full_[d] - 1));
      }
    }
    return st.expr(idx);
  }

  int lower(const sym::Expr& e) {
    using sym::Kind;
    switch (e->kind) {
      case Kind::kNum: return b_.const_of(static_cast<double>(e->c), DType::kInt32);
      case Kind::kVar: return var_uop_[e->var_id];
      case Kind::kMul: return b_.alu_uop(Op::MUL, DType::kInt32, 1, {lower(e->a), b_.const_of(e->c, DType::kInt32)});
      case Kind::kSum: {
        int acc = lower(e->terms[0]);
        for (size_t i = 1; i < e->terms.size(); ++i) acc = b_.alu_uop(Op::ADD, DType::kInt32, 1, {acc, lower(e->terms[i])});
        return acc;
      }
      case Kind::kDiv:
      case Kind::kMod: {
        // C's / and % truncate; shift a possibly negative operand up by a multiple of the divisor.
        const int64_t shift = e->a->min < 0 ? sym::ceil_div(-e->a->min, e->c) * e->c : 0;
        int a = lower(shift ? e->a + shift : e->a);
        int r = b_.alu_uop(e->kind == Kind::kDiv ? Op::IDIV : Op::MOD, DType::kInt32, 1, {a, b_.const_of(e->c, DType::kInt32)});
        if (shift && e->kind == Kind::kDiv) r = b_.alu_uop(Op::SUB, DType::kInt32, 1, {r, b_.const_of(shift / e->c, DType::kInt32)});
        return r;
      }
      case Kind::kLt: return b_.alu_uop(Op::CMPLT, DType::kBool, 1, {lower(e->a), b_.const_of(e->c, DType::kInt32)});
      case Kind::kAnd: {
        int acc = lower(e->terms[0]);
        for (size_t i = 1; i < e->terms.size(); ++i) acc = b_.alu_uop(Op::AND, DType::kBool, 1, {acc, lower(e->terms[i])});
        return acc;
      }
    }
    return -1;
  }

  int load_scalar_or_vector(int buf, const sym::Expr& pos, const sym::Expr& valid, int lanes) {
    const DType dt = b_.program().uops[globals_[buf]].dtype;
    if (valid->is_num() && valid->c == 0) {
      int z = b_.const_of(0, dt);
      return lanes == 1 ? z : b_.as_vector({z, {}});
    }
    UOp u{UOpKind::kLoad};
    u.dtype = dt;
    u.lanes = lanes;
    u.arg = lanes > 1 && sym::multiple_of(pos, lanes);
    u.src = {globals_[buf], lower(pos)};
    if (!valid->is_num()) u.src.push_back(lower(valid));
    return b_.emit(u);
  }

  // Loads (or, for CONST, makes) a leaf's value (for the STORE, what the output holds so far):
  // a vector when its index moves by one per lane, one scalar when it does not depend on the
  // lane, else one load per lane.
  Val leaf(const AstNode* n, const std::vector<int64_t>& assign) {
    if (in_k_tile_ && staged_slot_.count(k_.st_index(n))) return staged_leaf(n, assign);
    const ShapeTracker& st = k_.sts[k_.st_index(n)];
    auto [pos, valid] = index_of(st, assign);
    auto make = [&](const sym::Expr& p, const sym::Expr& v, int lanes) -> int {
      if (n->op == Op::BUFFER || n->op == Op::STORE) return load_scalar_or_vector(n->buf, p, v, lanes);
      int c = b_.const_of(n->value, n->dtype);
      if (!(v->is_num() && v->c == 1)) {
        c = v->is_num() ? b_.const_of(0, n->dtype)
                        : b_.alu_uop(Op::WHERE, n->dtype, 1, {lower(v), c, b_.const_of(0, n->dtype)});
      }
      return c;
    };
    const bool lane_dep = vdim_ >= 0 && (sym::contains_var(pos, kLaneVar) || sym::contains_var(valid, kLaneVar));
    if (!lane_dep) return {make(pos, valid, 1), {}};
    int64_t coef;
    sym::Expr rest;
    if (n->op != Op::CONST && sym::split_linear(pos, kLaneVar, &coef, &rest) && coef == 1 &&
        !sym::contains_var(valid, kLaneVar)) {
      return {make(rest, valid, b_.simd_width()), {}};
    }
    Val r;
    for (int l = 0; l < b_.simd_width(); ++l) {
      r.lanes.push_back(make(sym::substitute(pos, kLaneVar, sym::num(l)), sym::substitute(valid, kLaneVar, sym::num(l)), 1));
    }
    return r;
  }

  void emit_store(int buf, const ShapeTracker& st, const std::vector<int64_t>& assign, const Val& v, int gate) {
    auto [pos, valid] = index_of(st, assign);
    TT_ASSERT(valid->is_num() && valid->c == 1);
    auto store = [&](const sym::Expr& p, int value) {
      UOp u{UOpKind::kStore};
      u.dtype = k_.bufs[buf].dtype;
      u.lanes = b_.program().uops[value].lanes;
      u.arg = u.lanes > 1 && sym::multiple_of(p, u.lanes);
      u.src = {globals_[buf], lower(p), value};
      if (gate >= 0) u.src.push_back(gate);
      b_.emit(u);
    };
    int64_t coef;
    sym::Expr rest;
    if (vdim_ < 0 || st.shape()[vdim_] == 1) {
      store(pos, b_.width(v) == 1 ? v.id : b_.lane(v, 0));
    } else if (sym::split_linear(pos, kLaneVar, &coef, &rest) && coef == 1) {
      store(rest, b_.as_vector(v));
    } else {
      for (int l = 0; l < b_.simd_width(); ++l) store(sym::substitute(pos, kLaneVar, sym::num(l)), b_.lane(v, l));
    }
  }

  Val render(const AstNode* n, const std::vector<int64_t>& assign) {
    std::ostringstream key;
    key << n << ":";
    for (int64_t a : assign) key << a << ",";
    if (auto it = memo_.find(key.str()); it != memo_.end()) return it->second.second;
    Val out;
    if (n->op == Op::BUFFER || n->op == Op::CONST) {
      out = leaf(n, assign);
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
    int first = out.lanes.empty() ? out.id : out.lanes[0];
    memo_[key.str()] = {first, out};
    return out;
  }

  void reduce_phase(const std::vector<std::vector<int64_t>>& ups) {
    const AstNode* red = k_.reduce;
    const DType dt = red->dtype;
    const double init = reduce_identity(red->op, dt);
    const Op combine = combine_op(red->op);
    const bool vector_acc = vdim_ >= 0;
    const bool vector_reduce = vector_acc && k_.is_reduce_dim(vdim_);
    const int group = k_.first_of(Axis::kGroup);
    int local = -1;
    std::vector<int> group_open;
    if (group >= 0) {
      local = b_.emit_typed(UOpKind::kDefineLocal, dt, {}, 1, group_size() * static_cast<int64_t>(ups.size()));
      // On a GPU the group is the block's threads (the lidx digits), no loop.
      TT_ASSERT(!k_.gpu || k_.first_of(Axis::kLocal) < 0);
      if (!k_.gpu) group_open = open_loops({Axis::kGroup}, k_.parallel);
    }
    std::vector<int> accs;
    for (size_t i = 0; i < ups.size(); ++i) accs.push_back(b_.define_acc(dt, init, vector_acc ? b_.simd_width() : 1));
    std::vector<int> tile_loop = open_k_tile();  // staged: the loop over K-tiles, else none
    std::vector<int> reduce_open = open_loops({Axis::kReduce}, false, tile_loop.empty() ? 0 : k_.first_of(Axis::kReduce) + 1);
    for (size_t i = 0; i < ups.size(); ++i) {
      for (const auto& r : combos(Axis::kUnroll, ups[i])) {
        Val next = b_.alu(combine, dt, {Val{accs[i], {}}, render(red->src[0].get(), r)});
        b_.emit_typed(UOpKind::kAssign, dt, {accs[i], next.lanes.empty() ? next.id : b_.as_vector(next)}, b_.program().uops[accs[i]].lanes);
      }
    }
    close_loops(reduce_open);
    close_k_tile(tile_loop);
    std::vector<Val> results;
    for (int acc : accs) {
      if (vector_reduce) {
        UOp h{UOpKind::kHReduce};
        h.op = red->op;
        h.dtype = dt;
        h.src = {acc};
        results.push_back({b_.emit(h), {}});
      } else {
        results.push_back({acc, {}});
      }
    }
    if (group >= 0) {
      // Each parallel iteration (thread) t leaves its partials in local[t * n + i].
      const int n = static_cast<int>(ups.size());
      for (int i = 0; i < n; ++i) {
        b_.emit_typed(UOpKind::kStore, dt, {local, slot(k_.gpu ? lidx_ : var_uop_[group], n, b_.int_const(i)), results[i].id});
      }
      close_loops(group_open);
      if (k_.gpu) {
        combine_by_columns(local, n, init, combine, dt, results);
      } else {  // one loop adds up the rows
        std::vector<int> sums;
        for (int i = 0; i < n; ++i) sums.push_back(b_.define_acc(dt, init));
        const int t = open_range(group_size());
        for (int i = 0; i < n; ++i) b_.accumulate(sums[i], combine, dt, b_.emit_typed(UOpKind::kLoad, dt, {local, slot(t, n, b_.int_const(i))}));
        close_loops({t});
        for (int i = 0; i < n; ++i) results[i] = {sums[i], {}};
      }
    }
    for (size_t i = 0; i < ups.size(); ++i) reduced_[ups[i]] = results[i];
  }

  // A GPU block's partials sit in local[t * n + i] (thread t, output i). Thread c adds up column
  // c (and c + T, ... where the n outputs outnumber the T threads) and leaves the sum in row 0;
  // after a barrier every thread reads the n sums. T + n shared reads a thread, where one thread
  // adding up all the columns would do T * n. Only thread 0 stores (the gate in run()).
  void combine_by_columns(int local, int n, double init, Op combine, DType dt, std::vector<Val>& results) {
    const int64_t threads = group_size();
    b_.emit(UOp{UOpKind::kBarrier});
    for (int64_t first = 0; first < n; first += threads) {
      const int col = first == 0 ? lidx_ : b_.alu_uop(Op::ADD, DType::kInt32, 1, {lidx_, b_.int_const(first)});
      const int gate = first + threads > n ? b_.alu_uop(Op::CMPLT, DType::kBool, 1, {col, b_.int_const(n)}) : -1;
      const int acc = b_.define_acc(dt, init);
      const int t = open_range(threads);
      std::vector<int> load_src = {local, slot(t, n, col)};
      if (gate >= 0) load_src.push_back(gate);
      b_.accumulate(acc, combine, dt, b_.emit_typed(UOpKind::kLoad, dt, load_src));
      close_loops({t});
      if (n == 1) {  // thread 0 has the sum already
        results[0] = {acc, {}};
        return;
      }
      std::vector<int> store_src = {local, col, acc};
      if (gate >= 0) store_src.push_back(gate);
      b_.emit_typed(UOpKind::kStore, dt, store_src);
    }
    b_.emit(UOp{UOpKind::kBarrier});
    for (int i = 0; i < n; ++i) results[i] = {b_.emit_typed(UOpKind::kLoad, dt, {local, b_.int_const(i)}), {}};
  }

  int open_range(int64_t extent) {  // a serial loop over a group's partials
    UOp r{UOpKind::kRange};
    r.arg = extent;
    r.tag = "tidx";
    b_.open_scope();
    return b_.emit(r);
  }
  int slot(int row, int64_t n, int col) {  // row * n + col
    return b_.alu_uop(Op::ADD, DType::kInt32, 1, {b_.alu_uop(Op::MUL, DType::kInt32, 1, {row, b_.int_const(n)}), col});
  }

  // --- shared-memory staging (staging.h)

  struct Sink : UOpSink {  // what the staging code may emit through
    explicit Sink(Linearizer& l) : l(l) {}
    int emit(const UOp& u) override { return l.b_.emit(u); }
    int int_const(int64_t v) override { return l.b_.int_const(v); }
    int alu(Op op, DType dt, std::vector<int> src) override { return l.b_.alu_uop(op, dt, 1, std::move(src)); }
    int lower(const sym::Expr& e) override { return l.lower(e); }
    int& var_uop(size_t d) override { return l.var_uop_[d]; }
    int buffer(int buf) override { return l.globals_[buf]; }
    Linearizer& l;
  };

  std::vector<int> open_k_tile() {
    staged_ = plan_staging(k_);
    if (staged_.empty()) return {};
    Sink sink(*this);
    staging_arrays_ = define_staging_arrays(k_, staged_, sink);
    for (size_t i = 0; i < staged_.size(); ++i) staged_slot_[staged_[i].leaf] = i;
    const StagingCopies copies = prepare_staging_copies(k_, staged_, lidx_, b_.program().local_size, sink);
    const size_t outer = static_cast<size_t>(k_.first_of(Axis::kReduce));
    std::vector<int> loop = open_loops({Axis::kReduce}, false, outer, outer + 1);
    emit_staging_copies(k_, staged_, staging_arrays_, copies, sink);
    in_k_tile_ = true;
    return loop;
  }

  void close_k_tile(const std::vector<int>& loop) {
    if (loop.empty()) return;
    in_k_tile_ = false;
    b_.emit(UOp{UOpKind::kBarrier});  // the next turn's copies overwrite what this one reads
    close_loops(loop);
  }

  Val staged_leaf(const AstNode* n, const std::vector<int64_t>& assign) {
    const size_t i = staged_slot_.at(k_.st_index(n));
    Sink sink(*this);
    return {emit_staged_read(staged_[i], staging_arrays_[i], b_.program().uops[staging_arrays_[i]].dtype, assign, vdim_, b_.simd_width(), sink), {}};
  }

  // An op under the reduce runs once per iteration of the loop nest, one above it once per output
  // (counted per iteration, a conv's fused ReLU gradient made MNIST's conv2 176 TFLOP/s).
  void estimate_costs() {
    int64_t per_iteration = 0, per_output = 0;
    std::function<void(const AstNode*, bool)> count = [&](const AstNode* n, bool under_reduce) {
      under_reduce = under_reduce || is_reduce(n->op);
      if (is_elementwise(n->op) || is_reduce(n->op)) ++(under_reduce ? per_iteration : per_output);
      for (const AstRef& s : n->src) count(s.get(), under_reduce);
    };
    count(k_.ast.get(), false);
    b_.program().flops = per_iteration * prod(full_) + per_output * prod(k_.out_shape());
    for (const BufferArg& b : b_.program().bufs) b_.program().bytes += b.size * static_cast<int64_t>(itemsize(b.dtype));
    b_.program().opts = to_string(k_.applied);
  }

  const Kernel& k_;
  const Shape full_;
  UOpBuilder b_;
  std::unordered_map<std::string, std::pair<int, Val>> memo_;
  std::map<std::vector<int64_t>, Val> reduced_;
  std::vector<int> globals_, var_uop_;
  int vdim_ = -1;  // the vector dimension (its extent is the builder's SIMD width), if any
  int lidx_ = -1;  // GPU: the thread index (SPECIAL lidx), if there is one
  std::vector<StagedLeaf> staged_;
  std::vector<int> staging_arrays_;             // DEFINE_LOCAL per staged leaf
  std::unordered_map<int, size_t> staged_slot_;  // leaf index -> position in staged_
  bool in_k_tile_ = false;                      // reads of staged leaves go to shared memory
};

}  // namespace

Program linearize(const Kernel& k) { return Linearizer(k).run(); }

}  // namespace tinyref
