#include "ch06/linearize.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace ch06 {

using ch04::Op;
using ch05::KernelNode;
using ch05::NodeKind;

namespace {

using Fixed = std::map<std::string, int64_t>;

double reduce_init(Op op) { return op == Op::SUM ? 0.0 : -std::numeric_limits<double>::infinity(); }
Op combine_op(Op reduce) { return reduce == Op::SUM ? Op::ADD : Op::MAX; }

// Every assignment of values to the loops of `kind` (the unrolled positions), in the order the
// output is laid out: the loop the STORE moves along fastest varies fastest, so neighbouring
// statements write neighbouring outputs, the pattern the compiler's vectorizer looks for.
std::vector<Fixed> positions(const LoopKernel& k, LoopKind kind) {
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

bool is_const(const Expr& e, int64_t v) { return e->kind == ch04::ExprKind::kConst && e->value == v; }

class Linearizer {
 public:
  explicit Linearizer(const LoopKernel& k) : k_(k) {
    for (size_t i = 0; i < k.leaves.size(); ++i) leaf_of_[k.leaves[i]] = i;
  }

  Program run() {
    check_loop_order();
    p_.name = k_.name;
    p_.buffers = k_.buffers;
    p_.flops = k_.flops;
    for (const std::string& a : k_.applied) p_.opts += (p_.opts.empty() ? "" : ", ") + a;
    for (size_t b = 0; b < k_.buffers.size(); ++b) {
      UOp g{UOpKind::kDefineGlobal};
      g.dtype = k_.buffers[b];
      g.buffer = static_cast<int>(b);
      emit(g);
    }
    const std::vector<int> globals = open_loops(LoopKind::kGlobal);
    std::vector<Fixed> ups = positions(k_, LoopKind::kUpcast);
    std::vector<int> results(ups.size(), -1);
    if (k_.reduce()) results = reduce_phase(ups);
    // After the reduce, what is left reads nothing along the reduced dimensions (stride 0):
    // their variables, out of scope now, are fixed to 0.
    for (Fixed& f : ups) {
      for (const Loop& l : k_.loops) {
        if (is_reduce_kind(l.kind)) f[l.var] = 0;
      }
    }
    const KernelNode* store = k_.leaves[0];
    if (k_.reduce() && store->src[0].get() != k_.reduce() && ups.size() > 1) {
      store_and_reload(ups, results);
    }
    for (size_t i = 0; i < ups.size(); ++i) {
      const Expr valid = guard(ups[i]);
      if (is_const(valid, 0)) continue;  // a tail position that never exists
      UOp s{UOpKind::kStore};
      s.dtype = store->dtype;
      s.buffer = 0;
      s.index = k_.index(0, ups[i]).first;
      s.src = {value(store->src[0].get(), ups[i], results[i])};
      if (!is_const(valid, 1)) s.valid = valid;
      emit(s);
    }
    close_loops(globals);
    return std::move(p_);
  }

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

  // With several upcast accumulators, ops after the reduce (a bias, ReLU's mask) read the
  // reduced values back from the output buffer, where they are stored first. The arithmetic is
  // the same, but GCC's vectorizer packs the accumulators into vector registers only when the
  // end of their loop leads to something this simple: with the selects of a ReLU mask applied
  // to them directly, MNIST's conv2 input gradient fell from 26 to 12 GFLOP/s.
  void store_and_reload(const std::vector<Fixed>& ups, std::vector<int>& results) {
    std::vector<UOp> stores;
    for (size_t i = 0; i < ups.size(); ++i) {
      const Expr valid = guard(ups[i]);
      UOp s{UOpKind::kStore};
      s.dtype = k_.reduce()->dtype;
      s.buffer = 0;
      s.index = k_.index(0, ups[i]).first;
      s.src = {results[i]};
      if (!is_const(valid, 1)) s.valid = valid;
      if (!is_const(valid, 0)) emit(s);
      stores.push_back(s);
    }
    for (size_t i = 0; i < ups.size(); ++i) {  // all stores first: the vectorizer wants them together
      UOp l{UOpKind::kLoad};
      l.dtype = stores[i].dtype;
      l.buffer = 0;
      l.index = stores[i].index;
      l.valid = stores[i].valid;
      if (!(l.valid && is_const(l.valid, 0))) results[i] = emit(l);
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

  // The uop computing node n at the unrolled position `fixed`; `reduced` stands for the reduce.
  int value(const KernelNode* n, const Fixed& fixed, int reduced) {
    switch (n->kind) {
      case NodeKind::kLoad: {
        auto [position, valid] = k_.index(leaf_of_.at(n), fixed);
        valid = simplify(ch04::land(valid, guard(fixed)));  // never read a tail position's memory
        if (is_const(valid, 0)) return constant(0, n->dtype);
        UOp l{UOpKind::kLoad};
        l.dtype = n->dtype;
        l.buffer = n->buffer;
        l.index = position;
        if (!is_const(valid, 1)) l.valid = valid;
        return emit(l);
      }
      case NodeKind::kConst: {
        const Expr valid = k_.index(leaf_of_.at(n), fixed).second;
        if (is_const(valid, 0)) return constant(0, n->dtype);
        return constant(n->value, n->dtype, is_const(valid, 1) ? nullptr : valid);
      }
      case NodeKind::kAlu: {
        UOp a{UOpKind::kAlu};
        a.op = n->op;
        a.dtype = n->dtype;
        for (const ch05::NodeRef& s : n->src) a.src.push_back(value(s.get(), fixed, reduced));
        return emit(a);
      }
      case NodeKind::kReduce: return reduced;
      case NodeKind::kStore: break;
    }
    throw std::invalid_argument("linearize: " + k_.name + ": a STORE inside the kernel's tree");
  }

  // Accumulators for every upcast x unroll position, the reduce loops around their updates,
  // then each upcast position's partials combined: one value per upcast position.
  std::vector<int> reduce_phase(const std::vector<Fixed>& ups) {
    const KernelNode* red = k_.reduce();
    const std::vector<Fixed> unrolled = positions(k_, LoopKind::kUnroll);
    std::vector<std::vector<int>> accs(ups.size());
    for (auto& row : accs) {
      for (size_t j = 0; j < unrolled.size(); ++j) {
        UOp a{UOpKind::kDefineAcc};
        a.dtype = red->dtype;
        a.op = red->op;
        a.value = reduce_init(red->op);
        row.push_back(emit(a));
      }
    }
    const std::vector<int> reduces = open_loops(LoopKind::kReduce);
    for (size_t i = 0; i < ups.size(); ++i) {
      for (size_t j = 0; j < unrolled.size(); ++j) {
        Fixed fixed = ups[i];
        fixed.insert(unrolled[j].begin(), unrolled[j].end());
        const Expr valid = guard(fixed);
        if (is_const(valid, 0)) continue;
        UOp acc{UOpKind::kAccumulate};
        acc.op = red->op;
        acc.dtype = red->dtype;
        acc.src = {accs[i][j], value(red->src[0].get(), fixed, -1)};
        if (!is_const(valid, 1)) acc.valid = valid;
        emit(acc);
      }
    }
    close_loops(reduces);
    std::vector<int> results;
    for (const auto& row : accs) {
      int r = row[0];
      for (size_t j = 1; j < row.size(); ++j) {
        UOp c{UOpKind::kAlu};
        c.op = combine_op(red->op);
        c.dtype = red->dtype;
        c.src = {r, row[j]};
        r = emit(c);
      }
      results.push_back(r);
    }
    return results;
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
