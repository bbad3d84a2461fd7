#include "ch06/linearize.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "chapters/course.h"

namespace ch06 {

using ch04::Op;
using ch05::KernelNode;
using ch05::NodeKind;

namespace {

using Fixed = std::map<std::string, int64_t>;

[[maybe_unused]] double reduce_init(Op op) { return op == Op::SUM ? 0.0 : -std::numeric_limits<double>::infinity(); }
[[maybe_unused]] Op combine_op(Op reduce) { return reduce == Op::SUM ? Op::ADD : Op::MAX; }

// Every assignment of values to the loops of `kind` (the unrolled positions), in the order the
// output is laid out: the loop the STORE moves along fastest varies fastest, so neighbouring
// statements write neighbouring outputs, the pattern the compiler's vectorizer looks for.
[[maybe_unused]] std::vector<Fixed> positions(const LoopKernel& k, LoopKind kind) {
  std::vector<size_t> order;
  for (size_t l = 0; l < k.loops.size(); ++l) {
    if (k.loops[l].kind == kind) order.push_back(l);
  }
  auto store_stride = [&](size_t l) { return std::abs(k.stride(0, l).value_or(0)); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return store_stride(a) > store_stride(b); });
  std::vector<Fixed> out = {{}};
  for (size_t i : order) {
    const Loop& l = k.loops[i];
    std::vector<Fixed> next;
    for (const Fixed& f : out) {
      for (int64_t v = 0; v < l.extent; ++v) {
        next.push_back(f);
        next.back()[l.var] = v;
      }
    }
    out = std::move(next);
  }
  return out;
}

[[maybe_unused]] bool is_const(const Expr& e, int64_t v) { return e->kind == ch04::ExprKind::kConst && e->value == v; }

class Linearizer {
 public:
  explicit Linearizer(const LoopKernel& k) : k_(k) {
    for (size_t i = 0; i < k.leaves.size(); ++i) leaf_of_[k.leaves[i]] = i;
  }

  // TODO(ch06.3): the whole program, in the shape linearize.h draws:
  //  - check_loop_order(), then the program's name, buffers, flops and opts (k_.applied joined
  //    with ", "); a DEFINE_GLOBAL per buffer.
  //  - open_loops(kGlobal); the upcast positions (positions()); reduce_phase() for a reduce kernel.
  //  - After the reduce, the reduce loops' and unroll loops' variables are out of scope: add
  //    them to each upcast position with the value 0 (nothing after the reduce reads along a
  //    reduced dimension, so any value would do).
  //  - For each upcast position: a STORE into buffer 0 at k_.index(0, position), of the value of
  //    the STORE's source, guarded by guard(position) (skipped entirely where that is 0).
  //  - close_loops.
  Program run() { throw course::NotImplemented("ch06.3: linearize"); }

 private:
  void check_loop_order() const {
    bool in_reduce = false;
    for (size_t l = 0; l < k_.loops.size(); ++l) {
      const Loop& loop = k_.loops[l];
      if (loop.kind == LoopKind::kReduce) in_reduce = true;
      if (loop.kind == LoopKind::kGlobal && in_reduce) {
        throw std::invalid_argument("linearize: " + k_.name + ": output loop " + loop.var +
                                    " is inside a reduce loop; output loops come first (" + k_.describe() + ")");
      }
      if (static_cast<int>(l) < k_.parallel && loop.kind != LoopKind::kGlobal) {
        throw std::invalid_argument("linearize: " + k_.name + ": loop " + loop.var + " (" + loop_kind_name(loop.kind) +
                                    ") cannot be shared by threads: only the leading output loops can (" +
                                    k_.describe() + ")");
      }
    }
  }

  // --- emitting, with common subexpressions shared within the loop that computed them

  int emit(const UOp& u) {
    const bool pure = u.kind == UOpKind::kConst || u.kind == UOpKind::kLoad || u.kind == UOpKind::kAlu;
    std::string key;
    if (pure) {
      std::ostringstream os;
      os.precision(17);
      os << static_cast<int>(u.kind) << "|" << static_cast<int>(u.op) << "|" << static_cast<int>(u.dtype) << "|"
         << u.buffer << "|" << u.value << "|" << (u.index ? ch04::render(u.index) : "") << "|"
         << (u.valid ? ch04::render(u.valid) : "");
      for (int s : u.src) os << "|" << s;
      key = os.str();
      for (const auto& scope : scopes_) {
        if (auto it = scope.find(key); it != scope.end()) return it->second;
      }
    }
    p_.uops.push_back(u);
    const int id = static_cast<int>(p_.uops.size()) - 1;
    if (pure) scopes_.back()[key] = id;
    return id;
  }

  int constant(double v, ch04::DType dtype, const Expr& valid = nullptr) {
    UOp c{UOpKind::kConst};
    c.dtype = dtype;
    c.value = v;
    c.valid = valid;
    return emit(c);
  }

  std::vector<int> open_loops(LoopKind kind) {
    std::vector<int> opened;
    for (size_t l = 0; l < k_.loops.size(); ++l) {
      const Loop& loop = k_.loops[l];
      if (loop.kind != kind) continue;
      UOp r{UOpKind::kRange};
      r.var = loop.var;
      r.extent = loop.extent;
      r.parallel = l == 0 ? k_.parallel : 0;
      opened.push_back(emit(r));
      open_vars_.insert(loop.var);
      scopes_.emplace_back();
    }
    return opened;
  }

  void close_loops(const std::vector<int>& opened) {
    for (auto range = opened.rbegin(); range != opened.rend(); ++range) {  // innermost first
      UOp end{UOpKind::kEndRange};
      end.src.push_back(*range);
      emit(end);
      scopes_.pop_back();
      open_vars_.erase(p_.uops[*range].var);
    }
  }

  // The split tails that apply here: every guard whose loops are all open or fixed.
  Expr guard(const Fixed& fixed) const {
    Expr all = ch04::num(1);
    for (const Expr& g : k_.guards) {
      Expr e = g;
      for (const auto& [var, v] : fixed) e = substitute(e, var, ch04::num(v));
      bool applies = true;
      for (const Loop& l : k_.loops) applies = applies && (!mentions(e, l.var) || open_vars_.count(l.var) > 0);
      if (applies) all = ch04::land(all, e);
    }
    return simplify(all);
  }

  // TODO(ch06.3): the uop computing node n at the unrolled position `fixed`; `reduced` stands
  // for the reduce node (its accumulated value).
  //  - LOAD: k_.index(leaf, fixed) gives {position, valid}. AND the validity with guard(fixed)
  //    (simplified): a tail position must not read memory either. Never valid: the constant 0,
  //    no load. Always valid: no `valid` on the uop.
  //  - CONST: its value, with its validity (padding) when that is not the constant 1.
  //  - ALU: the uops of its sources, then the op. REDUCE: `reduced`.
  // emit() shares equal LOADs, CONSTs and ALUs within a loop: no need to remember nodes.
  int value(const KernelNode* n, const Fixed& fixed, int reduced) {
    throw course::NotImplemented("ch06.3: linearize (a node's value)");
  }

  // TODO(ch06.3): one DEFINE_ACC (op: the reduce's, value: reduce_init) per upcast x unroll
  // position, inside the output loops; open_loops(kReduce); for every upcast x unroll position
  // (the two Fixed maps together) an ACCUMULATE of the reduce source's value into its
  // accumulator, guarded by guard(position) (none where it is 0); close the reduce loops; then
  // each upcast position's partials folded together with combine_op (an ALU per pair).
  // Returns one uop per upcast position: its reduced value.
  std::vector<int> reduce_phase(const std::vector<Fixed>& ups) {
    throw course::NotImplemented("ch06.3: linearize (the reduce)");
  }

  const LoopKernel& k_;
  Program p_;
  std::unordered_map<const KernelNode*, size_t> leaf_of_;
  std::vector<std::unordered_map<std::string, int>> scopes_ = {{}};  // one per open loop, plus the function
  std::unordered_set<std::string> open_vars_;
};

}  // namespace

Program linearize(const LoopKernel& k) { return Linearizer(k).run(); }

}  // namespace ch06
