#include "ch04/symbolic.h"

#include <stdexcept>

namespace ch04 {

namespace {

Expr node(ExprKind kind, Expr a, Expr b) {
  if (!a || !b) throw std::invalid_argument("symbolic: null operand");
  auto n = std::make_shared<ExprNode>();
  n->kind = kind;
  n->a = std::move(a);
  n->b = std::move(b);
  return n;
}

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

const char* symbol(ExprKind kind) {
  switch (kind) {
    case ExprKind::kAdd: return "+";
    case ExprKind::kMul: return "*";
    case ExprKind::kDiv: return "/";
    case ExprKind::kMod: return "%";
    case ExprKind::kLt: return "<";
    case ExprKind::kAnd: return "&&";
    default: return "?";
  }
}

}  // namespace

Expr num(int64_t value) {
  auto n = std::make_shared<ExprNode>();
  n->kind = ExprKind::kConst;
  n->value = value;
  return n;
}

Expr var(const std::string& name, int64_t min, int64_t max) {
  if (min > max) throw std::invalid_argument("symbolic: variable " + name + " has an empty range");
  auto n = std::make_shared<ExprNode>();
  n->kind = ExprKind::kVar;
  n->name = name;
  n->min = min;
  n->max = max;
  return n;
}

Expr add(Expr a, Expr b) { return node(ExprKind::kAdd, std::move(a), std::move(b)); }
Expr mul(Expr a, Expr b) { return node(ExprKind::kMul, std::move(a), std::move(b)); }
Expr div(Expr a, Expr b) { return node(ExprKind::kDiv, std::move(a), std::move(b)); }
Expr mod(Expr a, Expr b) { return node(ExprKind::kMod, std::move(a), std::move(b)); }
Expr lt(Expr a, Expr b) { return node(ExprKind::kLt, std::move(a), std::move(b)); }
Expr land(Expr a, Expr b) { return node(ExprKind::kAnd, std::move(a), std::move(b)); }

int64_t evaluate(const Expr& e, const std::map<std::string, int64_t>& vars) {
  switch (e->kind) {
    case ExprKind::kConst: return e->value;
    case ExprKind::kVar: {
      auto it = vars.find(e->name);
      if (it == vars.end()) throw std::invalid_argument("evaluate: no value for variable " + e->name);
      if (it->second < e->min || it->second > e->max) {
        throw std::invalid_argument("evaluate: " + e->name + " = " + std::to_string(it->second) + " is outside [" +
                                    std::to_string(e->min) + ", " + std::to_string(e->max) + "]");
      }
      return it->second;
    }
    default: break;
  }
  const int64_t a = evaluate(e->a, vars), b = evaluate(e->b, vars);
  switch (e->kind) {
    case ExprKind::kAdd: return a + b;
    case ExprKind::kMul: return a * b;
    case ExprKind::kLt: return a < b ? 1 : 0;
    case ExprKind::kAnd: return (a != 0 && b != 0) ? 1 : 0;
    default: break;
  }
  if (b == 0) throw std::invalid_argument("evaluate: division by zero in " + render(e));
  return e->kind == ExprKind::kDiv ? floor_div(a, b) : a - b * floor_div(a, b);
}

std::string render(const Expr& e) {
  switch (e->kind) {
    case ExprKind::kConst: return std::to_string(e->value);
    case ExprKind::kVar: return e->name;
    default: return "(" + render(e->a) + symbol(e->kind) + render(e->b) + ")";
  }
}

}  // namespace ch04
