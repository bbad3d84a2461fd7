// Small integer expression trees for index and validity arithmetic: what a ShapeTracker turns
// into when a kernel reads through it. The renderers print them and the interpreter evaluates
// them; every constructor simplifies, using the bounds each node carries.
//
//   Expr i = var(0, "gidx0", 0, 63);          // a loop variable, 0 <= gidx0 <= 63
//   Expr j = var(1, "ridx0", 0, 3);
//   Expr flat = i * 4 + j;                     // gidx0*4+ridx0, bounds [0, 255]
//   floordiv(flat, 4)->render()                // "gidx0": (4*i + j) / 4 == i since 0 <= j < 4
//   mod(flat, 4)->render()                     // "ridx0"
//   eval(lt(flat, 100), {10, 2})               // 1
//
// Division and modulo are floor division and the matching non-negative remainder. Kernels only
// evaluate them on non-negative operands where it matters (out-of-bounds positions are masked),
// and lower() in the linearizer shifts operands that may be negative.
#ifndef TINYREF_SHAPE_SYMBOLIC_H_
#define TINYREF_SHAPE_SYMBOLIC_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tinyref::sym {

enum class Kind { kNum, kVar, kMul, kDiv, kMod, kSum, kLt, kAnd };

struct Node;
using Expr = std::shared_ptr<const Node>;

struct Node {
  explicit Node(Kind k) : kind(k) {}
  Kind kind;
  int64_t c = 0;              // kNum: value; kMul/kDiv/kMod/kLt: the constant operand
  int var_id = -1;            // kVar
  std::string name;           // kVar
  Expr a;                     // kMul/kDiv/kMod/kLt: the expression operand
  std::vector<Expr> terms;    // kSum/kAnd
  int64_t min = 0, max = 0;   // bounds, inclusive
  std::string key;            // canonical text: equal keys mean equal expressions

  const std::string& render() const { return key; }
  bool is_num() const { return kind == Kind::kNum; }
};

Expr num(int64_t v);
Expr var(int id, const std::string& name, int64_t min, int64_t max);
Expr operator+(const Expr& x, const Expr& y);
Expr operator+(const Expr& x, int64_t y);
Expr operator-(const Expr& x, const Expr& y);
Expr operator*(const Expr& x, int64_t k);
Expr floordiv(const Expr& x, int64_t k);  // k > 0
Expr mod(const Expr& x, int64_t k);       // k > 0, result in [0, k)
Expr lt(const Expr& x, int64_t k);        // 1 if x < k else 0
Expr ge(const Expr& x, int64_t k);        // 1 if x >= k else 0
Expr land(const std::vector<Expr>& xs);   // logical and; land({}) is 1

// Evaluates with var_id -> value taken from vars.
int64_t eval(const Expr& e, std::span<const int64_t> vars);
// Replaces the variable var_id by `with` and re-simplifies.
Expr substitute(const Expr& e, int var_id, const Expr& with);
bool contains_var(const Expr& e, int var_id);
// If e == coef * var + rest with rest free of var, returns true and fills coef and rest.
bool split_linear(const Expr& e, int var_id, int64_t* coef, Expr* rest);
// Whether every value of e is a multiple of n, judged by constant factors alone (sufficient, not
// necessary): a vector access whose index passes may assume an aligned address.
bool multiple_of(const Expr& e, int64_t n);

// Floor division helpers on plain integers.
inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
inline int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }
// The largest divisor of n (n >= 1) that is at most cap (1 if none above 1 is).
inline int64_t divisor_at_most(int64_t n, int64_t cap) {
  for (int64_t f = n < cap ? n : cap; f > 1; --f) {
    if (n % f == 0) return f;
  }
  return 1;
}

}  // namespace tinyref::sym

#endif  // TINYREF_SHAPE_SYMBOLIC_H_
