#include <map>
#include <optional>

#include "ch06/simplify.h"
#include "ch08/render_cuda.h"

namespace ch08 {

using ch04::ExprKind;
using ch06::UOpKind;

bool multiple_of(const ch04::Expr& e, int64_t n) {
  switch (e->kind) {
    case ExprKind::kConst: return e->value % n == 0;
    case ExprKind::kAdd: return multiple_of(e->a, n) && multiple_of(e->b, n);
    case ExprKind::kMul: return multiple_of(e->a, n) || multiple_of(e->b, n);
    default: return false;  // a variable, a quotient, a remainder: any value, as far as we know
  }
}

namespace {

// b - a as a number, where the two differ by a constant.
std::optional<int64_t> distance(const ch04::Expr& a, const ch04::Expr& b) {
  const ch04::Expr d = ch06::simplify(b + a * -1);
  if (d->kind != ExprKind::kConst) return std::nullopt;
  return d->value;
}

bool same_guard(const ch06::UOp& a, const ch06::UOp& b) {
  if (!a.valid || !b.valid) return !a.valid && !b.valid;
  return ch04::render(a.valid) == ch04::render(b.valid);
}

}  // namespace

std::vector<Float4Load> float4_loads(const ch06::Program& program) {
  const std::vector<ch06::UOp>& uops = program.uops;
  std::vector<Float4Load> out;
  std::vector<bool> taken(uops.size(), false);
  for (size_t first = 0; first < uops.size(); ++first) {
    const ch06::UOp& f = uops[first];
    if (f.kind != UOpKind::kLoad || f.dtype != ch04::DType::kFloat32 || taken[first] || !multiple_of(f.index, 4)) continue;
    // Lanes 1..3 among the loads after it, up to the next loop boundary.
    std::array<int, 4> lanes = {static_cast<int>(first), -1, -1, -1};
    for (size_t i = first + 1; i < uops.size(); ++i) {
      const ch06::UOp& u = uops[i];
      if (u.kind == UOpKind::kRange || u.kind == UOpKind::kEndRange) break;
      if (u.kind != UOpKind::kLoad || taken[i] || u.buffer != f.buffer || !same_guard(f, u)) continue;
      const std::optional<int64_t> d = distance(f.index, u.index);
      if (d && *d >= 1 && *d <= 3 && lanes[*d] == -1) lanes[*d] = static_cast<int>(i);
    }
    if (lanes[1] < 0 || lanes[2] < 0 || lanes[3] < 0) continue;
    for (int l : lanes) taken[l] = true;
    out.push_back({lanes});
  }
  return out;
}

}  // namespace ch08
