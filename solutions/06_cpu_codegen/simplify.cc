#include "ch06/simplify.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ch06 {

using ch04::ExprKind;
using ch04::num;

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool is_const(const Expr& e) { return e->kind == ExprKind::kConst; }

// A sum c0 + k1*x1 + k2*x2 + ...: every Add flattened, every constant factor pulled out, like
// terms (equal when printed) merged.
struct Linear {
  std::vector<std::pair<Expr, int64_t>> terms;
  int64_t constant = 0;
};

void collect(const Expr& e, int64_t scale, Linear& out) {
  if (is_const(e)) {
    out.constant += scale * e->value;
  } else if (e->kind == ExprKind::kAdd) {
    collect(e->a, scale, out);
    collect(e->b, scale, out);
  } else if (e->kind == ExprKind::kMul && is_const(e->b)) {
    collect(e->a, scale * e->b->value, out);
  } else if (e->kind == ExprKind::kMul && is_const(e->a)) {
    collect(e->b, scale * e->a->value, out);
  } else {
    const std::string key = ch04::render(e);
    for (auto& [term, k] : out.terms) {
      if (ch04::render(term) == key) {
        k += scale;
        return;
      }
    }
    out.terms.push_back({e, scale});
  }
}

Linear linear(const Expr& e) {
  Linear l;
  collect(e, 1, l);
  return l;
}

// The sum as an expression: the largest coefficient first (an index reads like a row-major
// position, ((gidx0*16)+ridx0)), `*1` and zero terms dropped, the constant last.
Expr build(Linear l) {
  std::stable_sort(l.terms.begin(), l.terms.end(),
                   [](const auto& x, const auto& y) { return std::abs(x.second) > std::abs(y.second); });
  Expr out;
  for (const auto& [term, k] : l.terms) {
    if (k == 0) continue;
    const Expr t = k == 1 ? term : ch04::mul(term, num(k));
    out = out ? ch04::add(out, t) : t;
  }
  if (!out) return num(l.constant);
  return l.constant == 0 ? out : ch04::add(out, num(l.constant));
}

// Splits a into k*quotient + rest, moving every multiple of k out of the coefficients (25*x with
// k = 24 is 24*x + x: x to the quotient, x to the rest) and out of the constant, which leaves
// the rest a constant in [0, k). A window index from a pool, (25*i + j) % 24, becomes (i + j) % 24,
// which the bounds then drop.
void split_multiples(const Expr& a, int64_t k, Linear* quotient, Linear* rest) {
  const Linear l = linear(a);
  for (const auto& [term, c] : l.terms) {
    if (c / k != 0) quotient->terms.push_back({term, c / k});
    if (c % k != 0) rest->terms.push_back({term, c % k});
  }
  quotient->constant = floor_div(l.constant, k);
  rest->constant = l.constant - quotient->constant * k;
}

Expr div_by(const Expr& a, int64_t k);
Expr mod_by(const Expr& a, int64_t k);

Expr div_by(const Expr& a, int64_t k) {
  if (k == 1) return a;
  if (is_const(a)) return num(floor_div(a->value, k));
  const Bounds b = bounds(a);
  if (b.min >= 0 && b.max < k) return num(0);
  if (a->kind == ExprKind::kDiv && is_const(a->b)) return div_by(a->a, k * a->b->value);  // (x/p)/q == x/(p*q)
  Linear quotient, rest;
  split_multiples(a, k, &quotient, &rest);
  const Expr r = build(rest);
  // Only when the rest is never negative: C's / would round a negative rest the wrong way.
  if ((quotient.terms.empty() && quotient.constant == 0) || bounds(r).min < 0) return ch04::div(a, num(k));
  Linear sum = quotient;
  collect(div_by(r, k), 1, sum);
  return build(sum);
}

Expr mod_by(const Expr& a, int64_t k) {
  if (k == 1) return num(0);
  if (is_const(a)) return num(a->value - floor_div(a->value, k) * k);
  const Bounds b = bounds(a);
  if (b.min >= 0 && b.max < k) return a;
  if (a->kind == ExprKind::kMod && is_const(a->b) && a->b->value % k == 0) return mod_by(a->a, k);
  Linear quotient, rest;
  split_multiples(a, k, &quotient, &rest);
  const Expr r = build(rest);
  if ((quotient.terms.empty() && quotient.constant == 0) || bounds(r).min < 0) return ch04::mod(a, num(k));
  return mod_by(r, k);
}

// a < b once the bounds cannot decide it, against a constant: the constant terms move to the
// constant's side, and a lone term k*x (k > 0) is divided through (for integers, k*x < c iff
// x < ceil(c/k), and c < k*x iff floor(c/k) < x).
Expr compare(const Expr& a, const Expr& b) {
  const bool constant_right = is_const(b);
  if (!constant_right && !is_const(a)) return ch04::lt(a, b);
  Linear l = linear(constant_right ? a : b);
  int64_t c = (constant_right ? b : a)->value - l.constant;
  l.constant = 0;
  if (l.terms.size() == 1 && l.terms[0].second > 0) {
    const int64_t k = l.terms[0].second;
    c = constant_right ? -floor_div(-c, k) : floor_div(c, k);
    l.terms[0].second = 1;
  }
  const Expr x = build(l);
  const Bounds bx = bounds(x);
  if (constant_right) return bx.max < c ? num(1) : bx.min >= c ? num(0) : ch04::lt(x, num(c));
  return c < bx.min ? num(1) : c >= bx.max ? num(0) : ch04::lt(num(c), x);
}

bool is_boolean(const Expr& e) {
  const Bounds b = bounds(e);
  return b.min >= 0 && b.max <= 1;
}

}  // namespace

Bounds bounds(const Expr& e) {
  switch (e->kind) {
    case ExprKind::kConst: return {e->value, e->value};
    case ExprKind::kVar: return {e->min, e->max};
    default: break;
  }
  const Bounds a = bounds(e->a), b = bounds(e->b);
  switch (e->kind) {
    case ExprKind::kAdd: return {a.min + b.min, a.max + b.max};
    case ExprKind::kMul: {
      const int64_t c[] = {a.min * b.min, a.min * b.max, a.max * b.min, a.max * b.max};
      return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
    }
    case ExprKind::kDiv: {  // divisors are positive; floor(a/b) is monotone in a, and in b for each sign of a
      const int64_t lo = std::max<int64_t>(b.min, 1), hi = std::max<int64_t>(b.max, 1);
      const int64_t c[] = {floor_div(a.min, lo), floor_div(a.min, hi), floor_div(a.max, lo), floor_div(a.max, hi)};
      return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
    }
    case ExprKind::kMod:
      if (a.min >= 0 && a.max < b.min) return a;
      return {0, std::max<int64_t>(b.max, 1) - 1};
    case ExprKind::kLt:
      if (a.max < b.min) return {1, 1};
      if (a.min >= b.max) return {0, 0};
      return {0, 1};
    case ExprKind::kAnd: {
      const bool a_zero = a.min == 0 && a.max == 0, b_zero = b.min == 0 && b.max == 0;
      const bool a_true = a.min > 0 || a.max < 0, b_true = b.min > 0 || b.max < 0;
      if (a_zero || b_zero) return {0, 0};
      if (a_true && b_true) return {1, 1};
      return {0, 1};
    }
    default: break;
  }
  throw std::invalid_argument("bounds: unknown expression kind");
}

Expr simplify(const Expr& e) {
  switch (e->kind) {
    case ExprKind::kConst: return e;
    case ExprKind::kVar: return e->min == e->max ? num(e->min) : e;
    default: break;
  }
  const Expr a = simplify(e->a), b = simplify(e->b);
  switch (e->kind) {
    case ExprKind::kAdd: return build(linear(ch04::add(a, b)));
    case ExprKind::kMul:
      if (is_const(a) || is_const(b)) return build(linear(ch04::mul(a, b)));  // distributes over sums
      return ch04::mul(a, b);
    case ExprKind::kDiv:
      return is_const(b) && b->value > 0 ? div_by(a, b->value) : ch04::div(a, b);
    case ExprKind::kMod:
      return is_const(b) && b->value > 0 ? mod_by(a, b->value) : ch04::mod(a, b);
    case ExprKind::kLt: {
      const Bounds ba = bounds(a), bb = bounds(b);
      if (ba.max < bb.min) return num(1);
      if (ba.min >= bb.max) return num(0);
      return compare(a, b);
    }
    case ExprKind::kAnd:
      if ((is_const(a) && a->value == 0) || (is_const(b) && b->value == 0)) return num(0);
      if (is_const(a) && is_boolean(b)) return b;
      if (is_const(b) && is_boolean(a)) return a;
      if (is_const(a) && is_const(b)) return num(1);
      return ch04::land(a, b);
    default: break;
  }
  throw std::invalid_argument("simplify: unknown expression kind");
}

// ---------------------------------------------------------------------------- given helpers

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
