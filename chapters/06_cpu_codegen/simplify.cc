#include <stdexcept>

#include "ch06/simplify.h"
#include "chapters/course.h"

namespace ch06 {

using ch04::ExprKind;
using ch04::num;

// TODO(ch06.1): the range of each kind of node, from its operands' ranges.
//   kConst: the value; kVar: its min and max; kAdd: add the ends; kMul: the smallest and largest
//   of the four products of the ends (a constant may be negative); kDiv (floor division by a
//   positive divisor): floor(a/b) grows with a, so the ends again (try the four corners); kMod
//   by k: [0, k-1], or a's own range when a already lies in [0, k); kLt and kAnd: 0 and 1, or
//   just one of them when the operands' ranges decide it.
// Careful: C++'s / rounds toward zero. Write a floor division for negative numbers.
Bounds bounds(const Expr& e) { throw course::NotImplemented("ch06.1: bounds"); }

// TODO(ch06.1): simplify the operands first, then the node. A plan that works:
//  - A sum is best handled as a list of (term, coefficient) plus a constant: flatten nested adds,
//    pull constant factors out of products (x*2*3 is x with coefficient 6), add up like terms
//    (equal when rendered), and rebuild it: no term with coefficient 0, no "*1", the constant
//    last and only when it is not 0. Order the terms by coefficient, largest first, and an index
//    reads like a row-major position: ((gidx0*16)+ridx0).
//  - x/1 is x, x%1 is 0; when bounds(x) lies in [0, k): x/k is 0 and x%k is x.
//  - (x/p)/q is x/(p*q); (x%p)%q is x%q when q divides p.
//  - Pull multiples of k out: (24*i + 25*j + 3)/k with k = 24 is i + j + (j + 3)/24 (each
//    coefficient and the constant split into a multiple of k and a rest), and the same for %:
//    (24*i + 25*j + 3)%24 is (j + 3)%24. Then simplify the division of the rest again.
//    Only when the rest can never be negative (bounds(rest).min >= 0): the generated C++
//    truncates, and (4*i + j - 1)/4 at j = 0 must stay what it was (see simplify.h).
//  - a < b: when the bounds decide it, 1 or 0. Against a constant: move the sum's constant
//    across, and divide a lone k*x (k > 0) through (k*x < c is x < ceil(c/k)).
//  - a && b: 0 if either is the constant 0; a lone test when the other is a nonzero constant
//    (only if that test is 0 or 1 itself: 1 && i is (i != 0), not i).
Expr simplify(const Expr& e) { throw course::NotImplemented("ch06.1: simplify"); }

// ---------------------------------------------------------------------------- given helpers

namespace {
bool is_const(const Expr& e) { return e->kind == ExprKind::kConst; }
}  // namespace

Expr substitute(const Expr& e, const std::string& name, const Expr& with) {
  switch (e->kind) {
    case ExprKind::kConst: return e;
    case ExprKind::kVar: return e->name == name ? with : e;
    default: break;
  }
  auto n = std::make_shared<ch04::ExprNode>(*e);
  n->a = substitute(e->a, name, with);
  n->b = substitute(e->b, name, with);
  return n;
}

bool mentions(const Expr& e, const std::string& name) {
  if (e->kind == ExprKind::kVar) return e->name == name;
  if (e->kind == ExprKind::kConst) return false;
  return mentions(e->a, name) || mentions(e->b, name);
}

std::optional<int64_t> coefficient(const Expr& e, const std::string& name) {
  switch (e->kind) {
    case ExprKind::kConst: return 0;
    case ExprKind::kVar: return e->name == name ? 1 : 0;
    case ExprKind::kAdd: {
      const auto a = coefficient(e->a, name), b = coefficient(e->b, name);
      if (!a || !b) return std::nullopt;
      return *a + *b;
    }
    case ExprKind::kMul: {
      const auto a = coefficient(e->a, name), b = coefficient(e->b, name);
      if (!a || !b) return std::nullopt;
      if (*a != 0 && *b != 0) return std::nullopt;  // name * name: not linear
      if (*a != 0) return is_const(e->b) ? std::optional<int64_t>(*a * e->b->value) : std::nullopt;
      if (*b != 0) return is_const(e->a) ? std::optional<int64_t>(*b * e->a->value) : std::nullopt;
      return 0;
    }
    default:
      if (!mentions(e, name)) return 0;
      return std::nullopt;
  }
}

}  // namespace ch06
