#include "tinyref/codegen/linearizer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include "tinyref/codegen/staging.h"
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
    p_.name = k_.name();
    p_.bufs = k_.bufs;
    for (size_t i = 0; i < k_.bufs.size(); ++i) {
      globals_.push_back(emit_typed(UOpKind::kDefineGlobal, k_.bufs[i].dtype, {}, 1, static_cast<int64_t>(i)));
    }
    for (size_t d = 0; d < k_.ndim(); ++d) {
      if (k_.axes[d] == Axis::kVector) {
        vdim_ = static_cast<int>(d);
        width_ = static_cast<int>(full_[d]);
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
      const Val init{const_of(reduce_identity(k_.reduce->op, k_.reduce->dtype), k_.reduce->dtype), {}};
      std::vector<int> clear_open = open_loops({Axis::kGlobal}, k_.parallel);
      for (const auto& u : ups) emit_store(0, k_.sts[0], u, init, -1);
      close_loops(clear_open);
    }
    if (k_.gpu) {
      p_.global_size = special({Axis::kGlobal}, "gidx");
      p_.local_size = special({Axis::kLocal, Axis::kGroup}, "lidx");
    } else {
      globals_open = open_loops({Axis::kGlobal, Axis::kOuterReduce}, k_.parallel);
    }
    if (k_.reduce) reduce_phase(ups);
    // After a GPU group reduce every thread of the block holds the result: one of them writes it.
    int gate = -1;
    if (k_.gpu && k_.first_of(Axis::kGroup) >= 0) {
      gate = alu_uop(Op::CMPLT, DType::kBool, 1, {lidx_, const_of(1, DType::kInt32)});
    }
    for (const auto& u : ups) {
      Val v = render(store->src[0].get(), u);
      if (outer_reduce) v = alu(combine_op(k_.reduce->op), k_.reduce->dtype, {leaf(store, u), v});
      emit_store(0, k_.sts[0], u, v, gate);
    }
    close_loops(globals_open);
    estimate_costs();
    return std::move(p_);
  }

 private:
  // A value: one uop (scalar or vector), or one scalar uop per SIMD lane.
  struct Val {
    int id = -1;
    std::vector<int> lanes;
  };

  // --- emitting, with common-subexpression elimination scoped to the enclosing loop

  int emit(const UOp& u) {
    bool pure = u.kind == UOpKind::kConst || u.kind == UOpKind::kAlu || u.kind == UOpKind::kLoad ||
                u.kind == UOpKind::kVectorize || u.kind == UOpKind::kGep || u.kind == UOpKind::kBroadcast ||
                u.kind == UOpKind::kHReduce || u.kind == UOpKind::kDefineGlobal;
    for (int s : u.src) {
      // An accumulator's value changes with every ASSIGN: never reuse what read it.
      // A staged tile changes only across barriers, which end the scope its reads live in.
      const UOp& from = p_.uops[s];
      if (from.kind == UOpKind::kDefineAcc || (from.kind == UOpKind::kDefineLocal && from.tag != "stage")) pure = false;
    }
    std::string key;
    if (pure) {
      std::ostringstream os;
      os.precision(17);
      os << static_cast<int>(u.kind) << "|" << static_cast<int>(u.dtype) << "|" << u.lanes << "|"
         << static_cast<int>(u.op) << "|" << u.value << "|" << u.arg << "|";
      for (int s : u.src) os << s << ",";
      key = os.str();
      if (auto it = cse_.find(key); it != cse_.end()) return it->second;
    }
    p_.uops.push_back(u);
    const int id = static_cast<int>(p_.uops.size()) - 1;
    if (pure) cse_[key] = id;
    return id;
  }

  int const_of(double v, DType dt) {
    UOp u{UOpKind::kConst};
    u.dtype = dt;
    u.value = v;
    return emit(u);
  }
  int alu_uop(Op op, DType dt, int lanes, std::vector<int> src) {
    UOp u{UOpKind::kAlu};
    u.op = op;
    u.dtype = dt;
    u.lanes = lanes;
    u.src = std::move(src);
    return emit(u);
  }

  int width(const Val& v) const { return v.lanes.empty() ? p_.uops[v.id].lanes : static_cast<int>(v.lanes.size()); }
  DType dtype(const Val& v) const { return p_.uops[v.lanes.empty() ? v.id : v.lanes[0]].dtype; }

  int as_vector(const Val& v) {
    if (v.lanes.empty()) {
      if (p_.uops[v.id].lanes == width_) return v.id;
      return emit_typed(UOpKind::kBroadcast, p_.uops[v.id].dtype, {v.id}, width_);
    }
    return emit_typed(UOpKind::kVectorize, dtype(v), v.lanes, width_);
  }
  int lane(const Val& v, int l) {
    if (!v.lanes.empty()) return v.lanes[l];
    const UOp& u = p_.uops[v.id];
    if (u.lanes == 1) return v.id;
    if (u.kind == UOpKind::kVectorize) return u.src[l];
    if (u.kind == UOpKind::kBroadcast) return u.src[0];
    return emit_typed(UOpKind::kGep, u.dtype, {v.id}, 1, l);
  }

  Val alu(Op op, DType out, const std::vector<Val>& src) {
    int w = 1;
    for (const Val& s : src) w = std::max(w, width(s));
    if (w == 1) {
      std::vector<int> ids;
      for (const Val& s : src) ids.push_back(s.id);
      return {alu_uop(op, out, 1, ids), {}};
    }
    if (is_float(out) && op_has(op, kVectorForm)) {  // else lane by lane
      std::vector<int> ids;
      for (const Val& s : src) ids.push_back(as_vector(s));
      return {alu_uop(op, out, w, ids), {}};
    }
    Val r;
    for (int l = 0; l < w; ++l) {
      std::vector<int> ids;
      for (const Val& s : src) ids.push_back(lane(s, l));
      r.lanes.push_back(alu_uop(op, out, 1, ids));
    }
    return r;
  }

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
      scopes_.push_back(p_.uops.size());
      var_uop_[d] = emit(u);
      opened.push_back(var_uop_[d]);
    }
    return opened;
  }

  void close_loops(const std::vector<int>& opened) {
    for (size_t i = opened.size(); i-- > 0;) {
      UOp e{UOpKind::kEndRange};
      e.src = {opened[i]};
      emit(e);
      const int start = static_cast<int>(scopes_.back());
      scopes_.pop_back();
      for (auto it = cse_.begin(); it != cse_.end();) it = it->second >= start ? cse_.erase(it) : std::next(it);
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
    const int index = emit(u);
    if (u.tag == std::string("lidx")) lidx_ = index;
    int64_t below = total;
    for (size_t d : dims) {
      below /= full_[d];
      int v = index;
      if (below > 1) v = alu_uop(Op::IDIV, DType::kInt32, 1, {v, const_of(static_cast<double>(below), DType::kInt32)});
      if (d != dims.front()) v = alu_uop(Op::MOD, DType::kInt32, 1, {v, const_of(static_cast<double>(full_[d]), DType::kInt32)});
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
        idx.push_back(sym::var(kLaneVar, "lane", 0, width_ - 1));
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
      case Kind::kNum: return const_of(static_cast<double>(e->c), DType::kInt32);
      case Kind::kVar: return var_uop_[e->var_id];
      case Kind::kMul: return alu_uop(Op::MUL, DType::kInt32, 1, {lower(e->a), const_of(e->c, DType::kInt32)});
      case Kind::kSum: {
        int acc = lower(e->terms[0]);
        for (size_t i = 1; i < e->terms.size(); ++i) acc = alu_uop(Op::ADD, DType::kInt32, 1, {acc, lower(e->terms[i])});
        return acc;
      }
      case Kind::kDiv:
      case Kind::kMod: {
        // C's / and % truncate; shift a possibly negative operand up by a multiple of the divisor.
        const int64_t shift = e->a->min < 0 ? sym::ceil_div(-e->a->min, e->c) * e->c : 0;
        int a = lower(shift ? e->a + shift : e->a);
        int r = alu_uop(e->kind == Kind::kDiv ? Op::IDIV : Op::MOD, DType::kInt32, 1, {a, const_of(e->c, DType::kInt32)});
        if (shift && e->kind == Kind::kDiv) r = alu_uop(Op::SUB, DType::kInt32, 1, {r, const_of(shift / e->c, DType::kInt32)});
        return r;
      }
      case Kind::kLt: return alu_uop(Op::CMPLT, DType::kBool, 1, {lower(e->a), const_of(e->c, DType::kInt32)});
      case Kind::kAnd: {
        int acc = lower(e->terms[0]);
        for (size_t i = 1; i < e->terms.size(); ++i) acc = alu_uop(Op::AND, DType::kBool, 1, {acc, lower(e->terms[i])});
        return acc;
      }
    }
    return -1;
  }

  int load_scalar_or_vector(int buf, const sym::Expr& pos, const sym::Expr& valid, int lanes) {
    const DType dt = p_.uops[globals_[buf]].dtype;
    if (valid->is_num() && valid->c == 0) {
      int z = const_of(0, dt);
      return lanes == 1 ? z : as_vector({z, {}});
    }
    UOp u{UOpKind::kLoad};
    u.dtype = dt;
    u.lanes = lanes;
    u.arg = lanes > 1 && sym::multiple_of(pos, lanes);
    u.src = {globals_[buf], lower(pos)};
    if (!valid->is_num()) u.src.push_back(lower(valid));
    return emit(u);
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
      int c = const_of(n->value, n->dtype);
      if (!(v->is_num() && v->c == 1)) {
        c = v->is_num() ? const_of(0, n->dtype)
                        : alu_uop(Op::WHERE, n->dtype, 1, {lower(v), c, const_of(0, n->dtype)});
      }
      return c;
    };
    const bool lane_dep = vdim_ >= 0 && (sym::contains_var(pos, kLaneVar) || sym::contains_var(valid, kLaneVar));
    if (!lane_dep) return {make(pos, valid, 1), {}};
    int64_t coef;
    sym::Expr rest;
    if (n->op != Op::CONST && sym::split_linear(pos, kLaneVar, &coef, &rest) && coef == 1 &&
        !sym::contains_var(valid, kLaneVar)) {
      return {make(rest, valid, width_), {}};
    }
    Val r;
    for (int l = 0; l < width_; ++l) {
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
      u.lanes = p_.uops[value].lanes;
      u.arg = u.lanes > 1 && sym::multiple_of(p, u.lanes);
      u.src = {globals_[buf], lower(p), value};
      if (gate >= 0) u.src.push_back(gate);
      emit(u);
    };
    int64_t coef;
    sym::Expr rest;
    if (vdim_ < 0 || st.shape()[vdim_] == 1) {
      store(pos, width(v) == 1 ? v.id : lane(v, 0));
    } else if (sym::split_linear(pos, kLaneVar, &coef, &rest) && coef == 1) {
      store(rest, as_vector(v));
    } else {
      for (int l = 0; l < width_; ++l) store(sym::substitute(pos, kLaneVar, sym::num(l)), lane(v, l));
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
      out = alu(n->op, n->dtype, src);
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
      local = emit_typed(UOpKind::kDefineLocal, dt, {}, 1, group_size() * static_cast<int64_t>(ups.size()));
      // On a GPU the group is the block's threads (the lidx digits), no loop.
      TT_ASSERT(!k_.gpu || k_.first_of(Axis::kLocal) < 0);
      if (!k_.gpu) group_open = open_loops({Axis::kGroup}, k_.parallel);
    }
    std::vector<int> accs;
    for (size_t i = 0; i < ups.size(); ++i) accs.push_back(define_acc(dt, init, vector_acc ? width_ : 1));
    std::vector<int> tile_loop = open_k_tile();  // staged: the loop over K-tiles, else none
    std::vector<int> reduce_open = open_loops({Axis::kReduce}, false, tile_loop.empty() ? 0 : k_.first_of(Axis::kReduce) + 1);
    for (size_t i = 0; i < ups.size(); ++i) {
      for (const auto& r : combos(Axis::kUnroll, ups[i])) {
        Val next = alu(combine, dt, {Val{accs[i], {}}, render(red->src[0].get(), r)});
        emit_typed(UOpKind::kAssign, dt, {accs[i], next.lanes.empty() ? next.id : as_vector(next)}, p_.uops[accs[i]].lanes);
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
        results.push_back({emit(h), {}});
      } else {
        results.push_back({acc, {}});
      }
    }
    if (group >= 0) {
      // Each parallel iteration (thread) t leaves its partials in local[t * n + i].
      const int n = static_cast<int>(ups.size());
      for (int i = 0; i < n; ++i) {
        emit_typed(UOpKind::kStore, dt, {local, slot(k_.gpu ? lidx_ : var_uop_[group], n, int_const(i)), results[i].id});
      }
      close_loops(group_open);
      if (k_.gpu) {
        combine_by_columns(local, n, init, combine, dt, results);
      } else {  // one loop adds up the rows
        std::vector<int> sums;
        for (int i = 0; i < n; ++i) sums.push_back(define_acc(dt, init));
        const int t = open_range(group_size());
        for (int i = 0; i < n; ++i) accumulate(sums[i], combine, dt, emit_typed(UOpKind::kLoad, dt, {local, slot(t, n, int_const(i))}));
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
    emit(UOp{UOpKind::kBarrier});
    for (int64_t first = 0; first < n; first += threads) {
      const int col = first == 0 ? lidx_ : alu_uop(Op::ADD, DType::kInt32, 1, {lidx_, int_const(first)});
      const int gate = first + threads > n ? alu_uop(Op::CMPLT, DType::kBool, 1, {col, int_const(n)}) : -1;
      const int acc = define_acc(dt, init);
      const int t = open_range(threads);
      std::vector<int> load_src = {local, slot(t, n, col)};
      if (gate >= 0) load_src.push_back(gate);
      accumulate(acc, combine, dt, emit_typed(UOpKind::kLoad, dt, load_src));
      close_loops({t});
      if (n == 1) {  // thread 0 has the sum already
        results[0] = {acc, {}};
        return;
      }
      std::vector<int> store_src = {local, col, acc};
      if (gate >= 0) store_src.push_back(gate);
      emit_typed(UOpKind::kStore, dt, store_src);
    }
    emit(UOp{UOpKind::kBarrier});
    for (int i = 0; i < n; ++i) results[i] = {emit_typed(UOpKind::kLoad, dt, {local, int_const(i)}), {}};
  }

  int emit_typed(UOpKind kind, DType dt, std::vector<int> src, int lanes = 1, int64_t arg = 0) {
    UOp u{kind};
    u.dtype = dt;
    u.lanes = lanes;
    u.src = std::move(src);
    u.arg = arg;
    return emit(u);
  }
  int define_acc(DType dt, double init, int lanes = 1) {
    UOp a{UOpKind::kDefineAcc};
    a.dtype = dt;
    a.lanes = lanes;
    a.value = init;
    return emit(a);
  }
  void accumulate(int acc, Op combine, DType dt, int value) {
    emit_typed(UOpKind::kAssign, dt, {acc, alu_uop(combine, dt, 1, {acc, value})});
  }
  int open_range(int64_t extent) {  // a serial loop over a group's partials
    UOp r{UOpKind::kRange};
    r.arg = extent;
    r.tag = "tidx";
    scopes_.push_back(p_.uops.size());
    return emit(r);
  }
  int int_const(int64_t v) { return const_of(static_cast<double>(v), DType::kInt32); }
  int slot(int row, int64_t n, int col) {  // row * n + col
    return alu_uop(Op::ADD, DType::kInt32, 1, {alu_uop(Op::MUL, DType::kInt32, 1, {row, int_const(n)}), col});
  }

  // --- shared-memory staging (staging.h)

  struct Sink : UOpSink {  // what the staging code may emit through
    explicit Sink(Linearizer& l) : l(l) {}
    int emit(const UOp& u) override { return l.emit(u); }
    int int_const(int64_t v) override { return l.int_const(v); }
    int alu(Op op, DType dt, std::vector<int> src) override { return l.alu_uop(op, dt, 1, std::move(src)); }
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
    const StagingCopies copies = prepare_staging_copies(k_, staged_, lidx_, p_.local_size, sink);
    const size_t outer = static_cast<size_t>(k_.first_of(Axis::kReduce));
    std::vector<int> loop = open_loops({Axis::kReduce}, false, outer, outer + 1);
    emit_staging_copies(k_, staged_, staging_arrays_, copies, sink);
    in_k_tile_ = true;
    return loop;
  }

  void close_k_tile(const std::vector<int>& loop) {
    if (loop.empty()) return;
    in_k_tile_ = false;
    emit(UOp{UOpKind::kBarrier});  // the next turn's copies overwrite what this one reads
    close_loops(loop);
  }

  Val staged_leaf(const AstNode* n, const std::vector<int64_t>& assign) {
    const size_t i = staged_slot_.at(k_.st_index(n));
    Sink sink(*this);
    return {emit_staged_read(staged_[i], staging_arrays_[i], p_.uops[staging_arrays_[i]].dtype, assign, vdim_, width_, sink), {}};
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
    p_.flops = per_iteration * prod(full_) + per_output * prod(k_.out_shape());
    for (const BufferArg& b : p_.bufs) p_.bytes += b.size * static_cast<int64_t>(itemsize(b.dtype));
    p_.opts = to_string(k_.applied);
  }

  const Kernel& k_;
  const Shape full_;
  Program p_;
  std::unordered_map<std::string, int> cse_;
  std::unordered_map<std::string, std::pair<int, Val>> memo_;
  std::map<std::vector<int64_t>, Val> reduced_;
  std::vector<size_t> scopes_;
  std::vector<int> globals_, var_uop_;
  int vdim_ = -1, width_ = 1;
  int lidx_ = -1;  // GPU: the thread index (SPECIAL lidx), if there is one
  std::vector<StagedLeaf> staged_;
  std::vector<int> staging_arrays_;             // DEFINE_LOCAL per staged leaf
  std::unordered_map<int, size_t> staged_slot_;  // leaf index -> position in staged_
  bool in_k_tile_ = false;                      // reads of staged leaves go to shared memory
};

}  // namespace

Program linearize(const Kernel& k) { return Linearizer(k).run(); }

}  // namespace tinyref
