// Index expressions: what a ShapeTracker becomes when generated code, not an interpreter,
// reads through it. Chapter 4 builds and evaluates them; chapter 6 simplifies and prints them.
//
//   Expr i = var("i", 0, 5), j = var("j", 0, 3);   // loop counters with their bounds
//   Expr pos = i * 4 + j;                          // ((i*4)+j): nothing is simplified
//   Expr ok = land(lt(j, num(2)), lt(num(0), i));  // ((j<2)&&(0<i))
//   render(pos)                                    // "((i*4)+j)", C syntax
//   evaluate(pos, {{"i", 2}, {"j", 1}})            // 9
//
// Every node is immutable and shared (Expr is a shared_ptr to const). Div and Mod are floor
// division and its non-negative remainder; index expressions only divide non-negative
// positions, where C's / and % mean the same, so render() can print them as / and %.
// Nothing here simplifies: `x*1` stays `(x*1)`. Folding it away is chapter 6's job.
#ifndef CH04_SYMBOLIC_H_
#define CH04_SYMBOLIC_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace ch04 {

enum class ExprKind { kConst, kVar, kAdd, kMul, kDiv, kMod, kLt, kAnd };

struct ExprNode;
using Expr = std::shared_ptr<const ExprNode>;

struct ExprNode {
  ExprKind kind;
  int64_t value = 0;         // kConst
  std::string name;          // kVar
  int64_t min = 0, max = 0;  // kVar: the inclusive range the variable takes
  Expr a, b;                 // the operands of the binary kinds
};

Expr num(int64_t value);
Expr var(const std::string& name, int64_t min, int64_t max);
Expr add(Expr a, Expr b);
Expr mul(Expr a, Expr b);
Expr div(Expr a, Expr b);   // floor(a / b); b > 0
Expr mod(Expr a, Expr b);   // a - b * floor(a / b), in [0, b); b > 0
Expr lt(Expr a, Expr b);    // 1 if a < b else 0
Expr land(Expr a, Expr b);  // 1 if both are non-zero else 0

inline Expr operator+(Expr a, Expr b) { return add(std::move(a), std::move(b)); }
inline Expr operator*(Expr a, Expr b) { return mul(std::move(a), std::move(b)); }
inline Expr operator+(Expr a, int64_t b) { return add(std::move(a), num(b)); }
inline Expr operator*(Expr a, int64_t b) { return mul(std::move(a), num(b)); }

// The value of e with each variable taken from `vars` by name; throws std::invalid_argument
// naming a variable that is missing or outside its range, or a division by zero.
int64_t evaluate(const Expr& e, const std::map<std::string, int64_t>& vars);

// C syntax, fully parenthesized: "((i*4)+j)", "((i/3)%2)", "((j<2)&&(0<i))".
std::string render(const Expr& e);

}  // namespace ch04

#endif  // CH04_SYMBOLIC_H_
