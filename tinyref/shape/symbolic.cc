#include "tinyref/shape/symbolic.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "tinyref/error.h"

namespace tinyref::sym {

namespace {

Expr make(Node n) { return std::make_shared<const Node>(std::move(n)); }

std::string num_text(int64_t v) { return std::to_string(v); }

Expr make_mul_raw(const Expr& x, int64_t k) {
  Node n{Kind::kMul};
  n.a = x;
  n.c = k;
  n.min = std::min(x->min * k, x->max * k);
  n.max = std::max(x->min * k, x->max * k);
  n.key = "(" + x->key + "*" + num_text(k) + ")";
  return make(std::move(n));
}

// A sum as (term -> coefficient) plus a constant: the form every simplification works on.
struct Linear {
  std::map<std::string, std::pair<Expr, int64_t>> terms;  // key -> (base, coefficient)
  int64_t constant = 0;
  void add(const Expr& e, int64_t k) {
    if (k == 0) return;
    if (e->kind == Kind::kNum) {
      constant += e->c * k;
    } else if (e->kind == Kind::kMul) {
      add(e->a, k * e->c);
    } else if (e->kind == Kind::kSum) {
      for (const Expr& t : e->terms) add(t, k);
    } else {
      auto [it, inserted] = terms.try_emplace(e->key, e, 0);
      it->second.second += k;
    }
  }
  int64_t gcd_all(bool with_constant) const {
    int64_t g = with_constant ? std::abs(constant) : 0;
    for (const auto& [key, t] : terms) g = std::gcd(g, std::abs(t.second));
    return g;
  }
  Expr build() const {
    std::vector<Expr> parts;
    for (const auto& [key, t] : terms) {
      if (t.second != 0) parts.push_back(t.second == 1 ? t.first : make_mul_raw(t.first, t.second));
    }
    if (parts.empty()) return num(constant);
    if (constant != 0) parts.push_back(num(constant));
    if (parts.size() == 1) return parts[0];
    Node n{Kind::kSum};
    n.key = "(";
    for (size_t i = 0; i < parts.size(); ++i) {
      n.min += parts[i]->min;
      n.max += parts[i]->max;
      if (i > 0 && !(parts[i]->is_num() && parts[i]->c < 0)) n.key += "+";
      n.key += parts[i]->key;
    }
    n.key += ")";
    n.terms = std::move(parts);
    return make(std::move(n));
  }
};

Linear linear_of(const Expr& e) {
  Linear l;
  l.add(e, 1);
  return l;
}

}  // namespace

Expr num(int64_t v) {
  Node n{Kind::kNum};
  n.c = n.min = n.max = v;
  n.key = num_text(v);
  return make(std::move(n));
}

Expr var(int id, const std::string& name, int64_t min, int64_t max) {
  if (min == max) return num(min);
  Node n{Kind::kVar};
  n.var_id = id;
  n.name = n.key = name;
  n.min = min;
  n.max = max;
  return make(std::move(n));
}

Expr operator+(const Expr& x, const Expr& y) {
  Linear l = linear_of(x);
  l.add(y, 1);
  return l.build();
}
Expr operator+(const Expr& x, int64_t y) { return x + num(y); }
Expr operator-(const Expr& x, const Expr& y) {
  Linear l = linear_of(x);
  l.add(y, -1);
  return l.build();
}

Expr operator*(const Expr& x, int64_t k) {
  if (k == 0) return num(0);
  if (k == 1) return x;
  Linear l;
  l.add(x, k);
  return l.build();
}

Expr floordiv(const Expr& x, int64_t k) {
  TT_ASSERT(k > 0);
  if (k == 1) return x;
  if (floor_div(x->min, k) == floor_div(x->max, k)) return num(floor_div(x->min, k));
  if (x->kind == Kind::kDiv) return floordiv(x->a, x->c * k);
  if (x->kind == Kind::kMul || x->kind == Kind::kSum) {
    Linear l = linear_of(x);
    // floor((g*A)/(g*k')) == floor(A/k'): cancel a factor common to every term and k.
    int64_t g = std::gcd(l.gcd_all(true), k);
    if (g > 1) {
      Linear scaled;
      for (const auto& [key, t] : l.terms) scaled.add(t.first, t.second / g);
      scaled.constant = l.constant / g;
      return floordiv(scaled.build(), k / g);
    }
    // Terms whose coefficient k divides come out of the division exactly.
    Linear out, rest;
    for (const auto& [key, t] : l.terms) {
      if (t.second % k == 0) out.add(t.first, t.second / k);
      else rest.add(t.first, t.second);
    }
    out.constant = floor_div(l.constant, k);
    rest.constant = floor_mod(l.constant, k);
    if (!out.terms.empty() || out.constant != 0) return out.build() + floordiv(rest.build(), k);
  }
  Node n{Kind::kDiv};
  n.a = x;
  n.c = k;
  n.min = floor_div(x->min, k);
  n.max = floor_div(x->max, k);
  n.key = "(" + x->key + "/" + num_text(k) + ")";
  return make(std::move(n));
}

Expr mod(const Expr& x, int64_t k) {
  TT_ASSERT(k > 0);
  if (k == 1) return num(0);
  if (floor_div(x->min, k) == floor_div(x->max, k)) return x - num(floor_div(x->min, k) * k);
  if (x->kind == Kind::kMod && x->c % k == 0) return mod(x->a, k);
  if (x->kind == Kind::kMul || x->kind == Kind::kSum) {
    Linear l = linear_of(x);
    // Multiples of k do not change the remainder.
    Linear kept;
    for (const auto& [key, t] : l.terms) {
      if (t.second % k != 0) kept.add(t.first, t.second);
    }
    kept.constant = floor_mod(l.constant, k);
    int64_t g = std::gcd(kept.gcd_all(true), k);
    if (g > 1) {  // (g*A) mod (g*k') == g * (A mod k')
      Linear scaled;
      for (const auto& [key, t] : kept.terms) scaled.add(t.first, t.second / g);
      scaled.constant = kept.constant / g;
      return mod(scaled.build(), k / g) * g;
    }
    Expr reduced = kept.build();
    if (reduced->key != x->key) return mod(reduced, k);
  }
  Node n{Kind::kMod};
  n.a = x;
  n.c = k;
  n.min = 0;
  n.max = k - 1;
  n.key = "(" + x->key + "%" + num_text(k) + ")";
  return make(std::move(n));
}

Expr lt(const Expr& x, int64_t k) {
  if (x->max < k) return num(1);
  if (x->min >= k) return num(0);
  Node n{Kind::kLt};
  n.a = x;
  n.c = k;
  n.min = 0;
  n.max = 1;
  n.key = "(" + x->key + "<" + num_text(k) + ")";
  return make(std::move(n));
}

Expr ge(const Expr& x, int64_t k) { return lt(x * -1, 1 - k); }

Expr land(const std::vector<Expr>& xs) {
  std::vector<Expr> kept;
  std::map<std::string, bool> seen;
  for (const Expr& x : xs) {
    if (x->kind == Kind::kAnd) {
      for (const Expr& t : x->terms) kept.push_back(t);
    } else {
      kept.push_back(x);
    }
  }
  std::vector<Expr> out;
  for (const Expr& x : kept) {
    if (x->is_num()) {
      if (x->c == 0) return num(0);
      continue;
    }
    if (seen.emplace(x->key, true).second) out.push_back(x);
  }
  if (out.empty()) return num(1);
  if (out.size() == 1) return out[0];
  std::sort(out.begin(), out.end(), [](const Expr& p, const Expr& q) { return p->key < q->key; });
  Node n{Kind::kAnd};
  n.min = 0;
  n.max = 1;
  n.key = "(";
  for (size_t i = 0; i < out.size(); ++i) n.key += (i ? "&&" : "") + out[i]->key;
  n.key += ")";
  n.terms = std::move(out);
  return make(std::move(n));
}

int64_t eval(const Expr& e, std::span<const int64_t> vars) {
  switch (e->kind) {
    case Kind::kNum: return e->c;
    case Kind::kVar: return vars[e->var_id];
    case Kind::kMul: return eval(e->a, vars) * e->c;
    case Kind::kDiv: return floor_div(eval(e->a, vars), e->c);
    case Kind::kMod: return floor_mod(eval(e->a, vars), e->c);
    case Kind::kLt: return eval(e->a, vars) < e->c ? 1 : 0;
    case Kind::kSum: {
      int64_t s = 0;
      for (const Expr& t : e->terms) s += eval(t, vars);
      return s;
    }
    case Kind::kAnd:
      for (const Expr& t : e->terms) {
        if (eval(t, vars) == 0) return 0;
      }
      return 1;
  }
  return 0;
}

Expr substitute(const Expr& e, int var_id, const Expr& with) {
  if (!contains_var(e, var_id)) return e;
  switch (e->kind) {
    case Kind::kVar: return with;
    case Kind::kMul: return substitute(e->a, var_id, with) * e->c;
    case Kind::kDiv: return floordiv(substitute(e->a, var_id, with), e->c);
    case Kind::kMod: return mod(substitute(e->a, var_id, with), e->c);
    case Kind::kLt: return lt(substitute(e->a, var_id, with), e->c);
    case Kind::kSum: {
      Expr s = num(0);
      for (const Expr& t : e->terms) s = s + substitute(t, var_id, with);
      return s;
    }
    case Kind::kAnd: {
      std::vector<Expr> ts;
      for (const Expr& t : e->terms) ts.push_back(substitute(t, var_id, with));
      return land(ts);
    }
    case Kind::kNum: break;
  }
  return e;
}

bool contains_var(const Expr& e, int var_id) {
  switch (e->kind) {
    case Kind::kNum: return false;
    case Kind::kVar: return e->var_id == var_id;
    case Kind::kSum:
    case Kind::kAnd:
      for (const Expr& t : e->terms) {
        if (contains_var(t, var_id)) return true;
      }
      return false;
    default: return contains_var(e->a, var_id);
  }
}

bool split_linear(const Expr& e, int var_id, int64_t* coef, Expr* rest) {
  Linear l = linear_of(e);
  Linear r;
  r.constant = l.constant;
  *coef = 0;
  for (const auto& [key, t] : l.terms) {
    if (t.first->kind == Kind::kVar && t.first->var_id == var_id) {
      *coef += t.second;
    } else {
      if (contains_var(t.first, var_id)) return false;
      r.add(t.first, t.second);
    }
  }
  *rest = r.build();
  return true;
}

bool multiple_of(const Expr& e, int64_t n) {
  switch (e->kind) {
    case Kind::kNum: return e->c % n == 0;
    case Kind::kMul: return e->c % n == 0 || multiple_of(e->a, n);
    case Kind::kSum:
      for (const Expr& t : e->terms) {
        if (!multiple_of(t, n)) return false;
      }
      return true;
    default: return false;
  }
}

}  // namespace tinyref::sym
