// Simplifying index expressions. A ShapeTracker turns into expressions full of `*1`, `+0`,
// divisions that cannot happen and tests that always pass; printed as they are, the generated
// C++ hides its stride-1 accesses from the compiler, and nothing vectorizes. simplify() folds
// them away, using the range each variable takes (ch04::var's min and max).
//
//   Expr i = ch04::var("gidx0", 0, 15), j = ch04::var("ridx0", 0, 3);
//   simplify(i * 1 + 0)                      // gidx0
//   simplify((i * 4 + j) / 4)                // gidx0: 0 <= ridx0 < 4
//   simplify((i * 4 + j) % 4)                // ridx0
//   simplify(ch04::lt(j, ch04::num(4)))      // 1: ridx0 is at most 3
//   bounds(i * 4 + j)                        // {0, 63}
//
// Division and modulo are floor division and its remainder (ch04::evaluate), and the C++
// they are printed as truncates instead: the two agree only on non-negative numbers. So a
// rewrite must keep every division's dividend non-negative wherever the original's was:
// (4*i + j - 1) / 4 is NOT i + (j - 1)/4, whose C value is wrong at j = 0.
#ifndef CH06_SIMPLIFY_H_
#define CH06_SIMPLIFY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "ch04/symbolic.h"

namespace ch06 {

using ch04::Expr;

// The smallest and largest value an expression takes over its variables' ranges (a safe
// over-estimate is fine; a too-narrow range is a bug).
struct Bounds {
  int64_t min = 0, max = 0;
};

// ch06.1: the range of e.
Bounds bounds(const Expr& e);

// ch06.1: an expression equal to e for every value of its variables in range (and, printed as
// C, equal to e's C wherever e divides only non-negative numbers), with constants folded, `*1`,
// `+0`, `*0` gone, like terms and nested constants combined, and divisions, remainders and
// comparisons that the bounds decide replaced by their value.
Expr simplify(const Expr& e);

// Given helpers, used by the loop kernel and the linearizer.

// e with every variable named `name` replaced by `with`.
Expr substitute(const Expr& e, const std::string& name, const Expr& with);
// Whether e mentions the variable `name`.
bool mentions(const Expr& e, const std::string& name);
// c when e == c * name + (terms without name), with no name under a div, mod or comparison;
// nullopt otherwise. The stride of a loop in a load is the coefficient of its variable in the
// load's (simplified) index: 1 is a stride-1 access, 0 an input reused along that loop.
std::optional<int64_t> coefficient(const Expr& e, const std::string& name);

}  // namespace ch06

#endif  // CH06_SIMPLIFY_H_
