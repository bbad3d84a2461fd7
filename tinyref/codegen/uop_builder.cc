#include "tinyref/codegen/uop_builder.h"

#include <algorithm>
#include <iterator>
#include <sstream>
#include <utility>

namespace tinyref {

int UOpBuilder::emit(const UOp& u) {
  bool pure = u.kind == UOpKind::kConst || u.kind == UOpKind::kAlu || u.kind == UOpKind::kLoad ||
              u.kind == UOpKind::kVectorize || u.kind == UOpKind::kGep || u.kind == UOpKind::kBroadcast ||
              u.kind == UOpKind::kHReduce || u.kind == UOpKind::kDefineGlobal;
  for (int s : u.src) {
    // An accumulator's value changes with every ASSIGN: never reuse what read it.
    // A staged tile changes only across barriers, which end the scope its reads live in; a
    // packed panel only before the loops that read it open.
    const UOp& from = p_.uops[s];
    const bool fixed_while_read = from.tag == "stage" || from.tag == "pack";
    if (from.kind == UOpKind::kDefineAcc || (from.kind == UOpKind::kDefineLocal && !fixed_while_read)) pure = false;
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

int UOpBuilder::emit_typed(UOpKind kind, DType dt, std::vector<int> src, int lanes, int64_t arg) {
  UOp u{kind};
  u.dtype = dt;
  u.lanes = lanes;
  u.src = std::move(src);
  u.arg = arg;
  return emit(u);
}

int UOpBuilder::const_of(double v, DType dt) {
  UOp u{UOpKind::kConst};
  u.dtype = dt;
  u.value = v;
  return emit(u);
}

int UOpBuilder::alu_uop(Op op, DType dt, int lanes, std::vector<int> src) {
  UOp u{UOpKind::kAlu};
  u.op = op;
  u.dtype = dt;
  u.lanes = lanes;
  u.src = std::move(src);
  return emit(u);
}

int UOpBuilder::define_acc(DType dt, double init, int lanes) {
  UOp a{UOpKind::kDefineAcc};
  a.dtype = dt;
  a.lanes = lanes;
  a.value = init;
  return emit(a);
}

void UOpBuilder::accumulate(int acc, Op combine, DType dt, int value) {
  emit_typed(UOpKind::kAssign, dt, {acc, alu_uop(combine, dt, 1, {acc, value})});
}

int UOpBuilder::close_scope() {
  const int start = static_cast<int>(scopes_.back());
  scopes_.pop_back();
  for (auto it = cse_.begin(); it != cse_.end();) it = it->second >= start ? cse_.erase(it) : std::next(it);
  for (auto it = values_.begin(); it != values_.end();) {
    const Val& v = it->second;
    it = (v.lanes.empty() ? v.id : v.lanes[0]) >= start ? values_.erase(it) : std::next(it);
  }
  return start;
}

const UOpBuilder::Val* UOpBuilder::recall(const std::string& key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

int UOpBuilder::width(const Val& v) const { return v.lanes.empty() ? p_.uops[v.id].lanes : static_cast<int>(v.lanes.size()); }

DType UOpBuilder::dtype(const Val& v) const { return p_.uops[v.lanes.empty() ? v.id : v.lanes[0]].dtype; }

int UOpBuilder::as_vector(const Val& v) {
  if (v.lanes.empty()) {
    if (p_.uops[v.id].lanes == width_) return v.id;
    return emit_typed(UOpKind::kBroadcast, p_.uops[v.id].dtype, {v.id}, width_);
  }
  return emit_typed(UOpKind::kVectorize, dtype(v), v.lanes, width_);
}

int UOpBuilder::lane(const Val& v, int l) {
  if (!v.lanes.empty()) return v.lanes[l];
  const UOp& u = p_.uops[v.id];
  if (u.lanes == 1) return v.id;
  if (u.kind == UOpKind::kVectorize) return u.src[l];
  if (u.kind == UOpKind::kBroadcast) return u.src[0];
  return emit_typed(UOpKind::kGep, u.dtype, {v.id}, 1, l);
}

UOpBuilder::Val UOpBuilder::alu(Op op, DType out, const std::vector<Val>& src) {
  int w = 1;
  for (const Val& s : src) w = std::max(w, width(s));
  if (w == 1) {
    std::vector<int> ids;
    for (const Val& s : src) ids.push_back(s.id);
    return {alu_uop(op, out, 1, ids), {}};
  }
  // Whole vectors of floats, and of masks beside float32 (ops.def); else lane by lane.
  std::vector<DType> types = {out};
  for (const Val& s : src) types.push_back(dtype(s));
  const bool masks = std::find(types.begin(), types.end(), DType::kBool) != types.end();
  bool whole = op_has(op, kVectorForm);
  for (DType d : types) whole = whole && (d == DType::kBool || d == DType::kFloat32 || (is_float(d) && !masks));
  if (whole) {
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

}  // namespace tinyref
