// Your float4 loads: task ch08.5. README.md, "Task 5", walks through it.
#include <map>
#include <optional>

#include "ch06/simplify.h"
#include "ch08/render_cuda.h"
#include "chapters/course.h"

namespace ch08 {

// TODO(ch08.5): by the expression's form (ch04::ExprKind): a constant, a sum of multiples, a
// product with a multiple. Anything else: false.
bool multiple_of(const ch04::Expr& e, int64_t n) {
  throw course::NotImplemented("ch08.5: multiple_of");
}

// TODO(ch08.5): for each float32 LOAD whose index is a multiple_of 4, look for the loads of
// index + 1, + 2, + 3 after it (same buffer, same guard, no RANGE or END_RANGE in between).
// Hint: two indices differ by a constant d where ch06::simplify(b + a * -1) is the constant d.
std::vector<Float4Load> float4_loads(const ch06::Program& program) {
  throw course::NotImplemented("ch08.5: float4_loads");
}

}  // namespace ch08
