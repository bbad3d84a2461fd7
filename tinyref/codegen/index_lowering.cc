#include "tinyref/codegen/index_lowering.h"

#include <algorithm>
#include <string>

#include "tinyref/error.h"

namespace tinyref {

namespace {
constexpr int kLaneVar = 1 << 20;  // the symbolic variable standing for the SIMD lane
}  // namespace

IndexLowering::IndexLowering(const Kernel& k, UOpBuilder& b) : k_(k), full_(k.full_shape()), b_(b) {
  for (size_t i = 0; i < k_.bufs.size(); ++i) {
    buffers_.push_back(b_.emit_typed(UOpKind::kDefineGlobal, k_.bufs[i].dtype, {}, 1, static_cast<int64_t>(i)));
  }
  for (size_t d = 0; d < k_.ndim(); ++d) {
    if (k_.axes[d] == Axis::kVector) {
      vdim_ = static_cast<int>(d);
      b_.set_width(static_cast<int>(full_[d]));
    }
  }
  dim_uop_.assign(k_.ndim(), -1);
}

std::vector<int> IndexLowering::open_loops(std::initializer_list<Axis> kinds, bool parallel_first, size_t first,
                                           size_t last) {
  std::vector<int> opened;
  for (size_t d = first; d < std::min(last, k_.ndim()); ++d) {
    if (std::find(kinds.begin(), kinds.end(), k_.axes[d]) == kinds.end()) continue;
    const Axis kind = k_.axes[d];
    UOp u{UOpKind::kRange};
    u.arg = full_[d];
    u.parallel = parallel_first && opened.empty();
    u.tag = kind == Axis::kGlobal ? "gidx" : kind == Axis::kGroup ? "tidx" : kind == Axis::kOuterReduce ? "oidx" : "ridx";
    b_.open_scope();
    dim_uop_[d] = b_.emit(u);
    opened.push_back(dim_uop_[d]);
  }
  return opened;
}

int IndexLowering::close_loops(const std::vector<int>& opened) {
  int start = static_cast<int>(b_.program().uops.size());
  for (size_t i = opened.size(); i-- > 0;) {
    UOp e{UOpKind::kEndRange};
    e.src = {opened[i]};
    b_.emit(e);
    start = b_.close_scope();
  }
  return start;
}

int IndexLowering::open_range(int64_t extent, const char* tag) {
  UOp r{UOpKind::kRange};
  r.arg = extent;
  r.tag = tag;
  b_.open_scope();
  return b_.emit(r);
}

int64_t IndexLowering::special(const std::vector<Axis>& kinds, const char* tag) {
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
    if (below > 1) v = b_.alu_uop(Op::IDIV, DType::kInt32, 1, {v, b_.int_const(below)});
    if (d != dims.front()) v = b_.alu_uop(Op::MOD, DType::kInt32, 1, {v, b_.int_const(full_[d])});
    dim_uop_[d] = v;
  }
  return total;
}

std::vector<std::vector<int64_t>> IndexLowering::combos(Axis kind, const std::vector<int64_t>& base) const {
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

std::pair<sym::Expr, sym::Expr> IndexLowering::index_of(const ShapeTracker& st,
                                                        const std::vector<int64_t>& assign) const {
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

int IndexLowering::lower(const sym::Expr& e) {
  using sym::Kind;
  switch (e->kind) {
    case Kind::kNum: return b_.const_of(static_cast<double>(e->c), DType::kInt32);
    case Kind::kVar: return dim_uop_[e->var_id];
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

int IndexLowering::load_scalar_or_vector(int buf, const sym::Expr& pos, const sym::Expr& valid, int lanes) {
  const DType dt = b_.uop(buffers_[buf]).dtype;
  if (valid->is_num() && valid->c == 0) {
    int z = b_.const_of(0, dt);
    return lanes == 1 ? z : b_.as_vector({z, {}});
  }
  UOp u{UOpKind::kLoad};
  u.dtype = dt;
  u.lanes = lanes;
  u.arg = lanes > 1 && sym::multiple_of(pos, lanes);
  u.src = {buffers_[buf], lower(pos)};
  if (!valid->is_num()) u.src.push_back(lower(valid));
  return b_.emit(u);
}

IndexLowering::Val IndexLowering::load(const AstNode* n, const std::vector<int64_t>& assign) {
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

void IndexLowering::store(int buf, const ShapeTracker& st, const std::vector<int64_t>& assign, const Val& v, int gate) {
  auto [pos, valid] = index_of(st, assign);
  // An output padded by Opt kPad is valid only inside: the padding's results are not stored.
  auto emit_store = [&](const sym::Expr& p, const sym::Expr& ok, int value) {
    if (ok->is_num() && ok->c == 0) return;
    UOp u{UOpKind::kStore};
    u.dtype = k_.bufs[buf].dtype;
    u.lanes = b_.uop(value).lanes;
    u.arg = u.lanes > 1 && sym::multiple_of(p, u.lanes);
    u.src = {buffers_[buf], lower(p), value};
    int g = gate;
    if (!ok->is_num()) g = g < 0 ? lower(ok) : b_.alu_uop(Op::AND, DType::kBool, 1, {g, lower(ok)});
    if (g >= 0) u.src.push_back(g);
    b_.emit(u);
  };
  int64_t coef;
  sym::Expr rest;
  if (vdim_ < 0 || st.shape()[vdim_] == 1) {
    emit_store(pos, valid, b_.width(v) == 1 ? v.id : b_.lane(v, 0));
  } else if (sym::split_linear(pos, kLaneVar, &coef, &rest) && coef == 1 && !sym::contains_var(valid, kLaneVar)) {
    emit_store(rest, valid, b_.as_vector(v));
  } else {
    for (int l = 0; l < b_.simd_width(); ++l) {
      const sym::Expr lane = sym::num(l);
      emit_store(sym::substitute(pos, kLaneVar, lane), sym::substitute(valid, kLaneVar, lane), b_.lane(v, l));
    }
  }
}

}  // namespace tinyref
