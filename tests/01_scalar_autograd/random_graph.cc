#include "tests/01_scalar_autograd/random_graph.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>
#include <sstream>

namespace scalar_graph {
namespace {

// Our own transforms of the engine's bits: <random>'s distributions differ between standard
// libraries, and a seed must give the same graph to every student and grader.
double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * (static_cast<double>(rng() >> 11) * 0x1.0p-53);
}

int pick(std::mt19937_64& rng, int count) {
  return static_cast<int>(uniform(rng, 0, count));
}

double operand_value(const std::vector<double>& values, const Step& step, int index) {
  return index < 0 ? step.constant : values[index];
}

double apply(const Step& s, const std::vector<double>& values) {
  const double a = operand_value(values, s, s.lhs);
  switch (s.kind) {
    case Kind::kLeaf: return s.constant;
    case Kind::kAdd: return a + operand_value(values, s, s.rhs);
    case Kind::kSub: return a - operand_value(values, s, s.rhs);
    case Kind::kMul: return a * operand_value(values, s, s.rhs);
    case Kind::kDiv: return a / operand_value(values, s, s.rhs);
    case Kind::kNeg: return -a;
    case Kind::kPow: return std::pow(a, s.constant);
    case Kind::kExp: return std::exp(a);
    case Kind::kLog: return std::log(a);
    case Kind::kTanh: return std::tanh(a);
    case Kind::kRelu: return a > 0 ? a : 0.0;
  }
  return 0;
}

bool is_binary(Kind kind) {
  return kind == Kind::kAdd || kind == Kind::kSub || kind == Kind::kMul || kind == Kind::kDiv;
}

// Far enough inside the op's domain that a finite-difference step cannot cross an edge.
bool safe(const Step& s, const std::vector<double>& values) {
  const double a = operand_value(values, s, s.lhs);
  switch (s.kind) {
    case Kind::kDiv: return std::fabs(operand_value(values, s, s.rhs)) >= 0.25;
    case Kind::kLog: return a >= 0.1;
    case Kind::kExp: return a <= 3;
    case Kind::kRelu: return std::fabs(a) >= 0.05;
    case Kind::kPow:
      if (s.constant < 0 && std::fabs(a) < 0.25) return false;
      return s.constant == std::floor(s.constant) || a >= 0.1;
    default: return true;
  }
}

Step random_op(std::mt19937_64& rng, int existing, bool functions) {
  // The first seven are + - * / and neg; + and * twice, as they are the most common.
  static constexpr Kind kKinds[] = {Kind::kAdd, Kind::kSub, Kind::kMul, Kind::kDiv,
                                    Kind::kAdd, Kind::kMul, Kind::kNeg, Kind::kPow,
                                    Kind::kExp, Kind::kLog, Kind::kTanh, Kind::kRelu};
  static constexpr double kExponents[] = {2, 3, -1, -2, 0.5, 1.5};
  Step s;
  s.kind = kKinds[pick(rng, functions ? std::size(kKinds) : 7)];
  // Recent steps are picked more often, so the graph grows deep as well as wide.
  s.lhs = existing - 1 - pick(rng, existing) * pick(rng, 2);
  if (s.kind == Kind::kPow) s.constant = kExponents[pick(rng, std::size(kExponents))];
  if (!is_binary(s.kind)) return s;
  const double u = uniform(rng, 0, 1);
  s.rhs = pick(rng, existing);
  if (u < 0.2) {
    s.rhs = s.lhs;  // x * x, x + x, ...: one node, both operands
  } else if (u < 0.4) {
    s.constant = uniform(rng, 0.25, 2) * (pick(rng, 2) ? 1 : -1);
    (pick(rng, 2) ? s.lhs : s.rhs) = -1;  // 2.0 * x or x * 2.0
  }
  return s;
}

}  // namespace

std::string Recipe::describe() const {
  std::ostringstream out;
  out.precision(17);
  out << "the graph (root v" << steps.size() - 1 << "):\n";
  const auto name = [&](const Step& s, int index) {
    std::ostringstream n;
    n.precision(17);
    if (index < 0) n << s.constant; else n << "v" << index;
    return n.str();
  };
  static const char* kSymbols[] = {"", "+", "-", "*", "/"};
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    out << "  v" << i << " = ";
    switch (s.kind) {
      case Kind::kLeaf: out << s.constant << " (leaf)"; break;
      case Kind::kAdd: case Kind::kSub: case Kind::kMul: case Kind::kDiv:
        out << name(s, s.lhs) << " " << kSymbols[static_cast<int>(s.kind)] << " " << name(s, s.rhs);
        break;
      case Kind::kNeg: out << "-v" << s.lhs; break;
      case Kind::kPow: out << "v" << s.lhs << ".pow(" << s.constant << ")"; break;
      case Kind::kExp: out << "v" << s.lhs << ".exp()"; break;
      case Kind::kLog: out << "v" << s.lhs << ".log()"; break;
      case Kind::kTanh: out << "v" << s.lhs << ".tanh()"; break;
      case Kind::kRelu: out << "v" << s.lhs << ".relu()"; break;
    }
    out << "\n";
  }
  return out.str();
}

std::vector<int> Recipe::leaves() const {
  std::vector<int> out;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].kind == Kind::kLeaf) out.push_back(static_cast<int>(i));
  }
  return out;
}

Recipe random_recipe(uint64_t seed, const RecipeShape& shape) {
  std::mt19937_64 rng(seed);
  Recipe recipe;
  std::vector<double> values;
  for (int i = 0; i < shape.leaves; ++i) {
    Step leaf;
    leaf.constant = uniform(rng, -2, 2);
    recipe.steps.push_back(leaf);
    values.push_back(leaf.constant);
  }
  for (int i = 0; i < shape.ops; ++i) {
    Step step;
    for (int attempt = 0;; ++attempt) {
      step = random_op(rng, static_cast<int>(values.size()), shape.functions);
      if (!safe(step, values)) continue;
      const double value = apply(step, values);
      if (std::isfinite(value) && std::fabs(value) <= 50) break;
      if (attempt > 100) {  // never seen, but a loop must end: fall back to a plain sum
        step = Step{Kind::kAdd, static_cast<int>(values.size()) - 1, 0, 0};
        break;
      }
    }
    recipe.steps.push_back(step);
    values.push_back(apply(step, values));
  }
  // Sum the steps nobody uses into the root, so that every step matters.
  std::vector<bool> used(recipe.steps.size(), false);
  for (const Step& s : recipe.steps) {
    if (s.lhs >= 0) used[s.lhs] = true;
    if (s.rhs >= 0 && is_binary(s.kind)) used[s.rhs] = true;
  }
  int root = -1;
  for (size_t i = 0; i < used.size(); ++i) {
    if (used[i]) continue;
    if (root >= 0) {
      recipe.steps.push_back(Step{Kind::kAdd, root, static_cast<int>(i), 0});
      root = static_cast<int>(recipe.steps.size()) - 1;
    } else {
      root = static_cast<int>(i);
    }
  }
  return recipe;
}

std::vector<double> evaluate(const Recipe& recipe) {
  std::vector<double> values;
  for (const Step& s : recipe.steps) values.push_back(apply(s, values));
  return values;
}

std::vector<double> finite_difference_gradients(const Recipe& recipe) {
  std::vector<double> out;
  for (int leaf : recipe.leaves()) {
    Recipe moved = recipe;
    const double at = recipe.steps[leaf].constant;
    const double h = 1e-6 * std::max(1.0, std::fabs(at));
    moved.steps[leaf].constant = at + h;
    const double plus = evaluate(moved).back();
    moved.steps[leaf].constant = at - h;
    const double minus = evaluate(moved).back();
    out.push_back((plus - minus) / (2 * h));
  }
  return out;
}

}  // namespace scalar_graph
