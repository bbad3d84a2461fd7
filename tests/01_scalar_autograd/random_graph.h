// Random expression graphs for chapter 1's tests, built with the student's ch01::Value (and,
// by tensor_oracle.h, with tinyref's tensors), with shared subexpressions on purpose.
//
//   const scalar_graph::Recipe recipe = scalar_graph::random_recipe(seed);
//   SCOPED_TRACE(recipe.describe());                // "v0 = 1.25 (leaf)\nv1 = v0 * v0\n..."
//   auto mine = scalar_graph::build<ch01::Value>(recipe);           // one Value per step
//   mine.back().backward();                         // the root is the last step
//
// A recipe is a list of steps; each step's operands are earlier steps (or a plain double on
// either side of a binary op), so a step used by several later steps is a shared node. The
// generator evaluates as it goes and only keeps steps that are well inside every op's domain
// (no log near 0, no division near 0, no relu near its kink, nothing huge), so that finite
// differences of evaluate() are a trustworthy oracle of the gradients.
#ifndef TESTS_01_SCALAR_AUTOGRAD_RANDOM_GRAPH_H_
#define TESTS_01_SCALAR_AUTOGRAD_RANDOM_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

namespace scalar_graph {

enum class Kind { kLeaf, kAdd, kSub, kMul, kDiv, kNeg, kPow, kExp, kLog, kTanh, kRelu };

struct Step {
  Kind kind = Kind::kLeaf;
  int lhs = -1;  // an earlier step, or -1 for `constant` (binary ops only)
  int rhs = -1;  // an earlier step, or -1 for `constant`; unused by unary ops
  double constant = 0;  // a leaf's value, kPow's exponent, or a binary op's double side
};

struct Recipe {
  std::vector<Step> steps;  // the root is the last step

  // One line per step, "v4 = v1 * v1", for failure messages.
  std::string describe() const;
  // Indices of the leaf steps (the graph's inputs).
  std::vector<int> leaves() const;
};

struct RecipeShape {
  int leaves = 3;          // inputs, drawn uniform in [-2, 2]
  int ops = 12;            // random steps after them
  bool functions = true;   // false: + - * / only (task 1 comes before task 2)
};

// The root sums every step nobody else uses, so each step reaches the root.
Recipe random_recipe(uint64_t seed, const RecipeShape& shape = {});

// Every step's value in plain double arithmetic: the oracle for forward values and, through
// central differences, for gradients.
std::vector<double> evaluate(const Recipe& recipe);

// d(root)/d(leaf) for each of recipe.leaves(), by central differences of evaluate().
std::vector<double> finite_difference_gradients(const Recipe& recipe);

template <class V, class F>
V apply_binary(const std::vector<V>& nodes, const Step& step, F f) {
  if (step.lhs < 0) return f(step.constant, nodes[step.rhs]);
  if (step.rhs < 0) return f(nodes[step.lhs], step.constant);
  return f(nodes[step.lhs], nodes[step.rhs]);
}

// One V per step, made with V's own operators and methods.
template <class V>
std::vector<V> build(const Recipe& recipe) {
  std::vector<V> nodes;
  nodes.reserve(recipe.steps.size());
  for (const Step& s : recipe.steps) {
    switch (s.kind) {
      case Kind::kLeaf: nodes.push_back(V(s.constant)); break;
      case Kind::kAdd:
        nodes.push_back(apply_binary(nodes, s, [](const auto& a, const auto& b) { return a + b; }));
        break;
      case Kind::kSub:
        nodes.push_back(apply_binary(nodes, s, [](const auto& a, const auto& b) { return a - b; }));
        break;
      case Kind::kMul:
        nodes.push_back(apply_binary(nodes, s, [](const auto& a, const auto& b) { return a * b; }));
        break;
      case Kind::kDiv:
        nodes.push_back(apply_binary(nodes, s, [](const auto& a, const auto& b) { return a / b; }));
        break;
      case Kind::kNeg: nodes.push_back(-nodes[s.lhs]); break;
      case Kind::kPow: nodes.push_back(nodes[s.lhs].pow(s.constant)); break;
      case Kind::kExp: nodes.push_back(nodes[s.lhs].exp()); break;
      case Kind::kLog: nodes.push_back(nodes[s.lhs].log()); break;
      case Kind::kTanh: nodes.push_back(nodes[s.lhs].tanh()); break;
      case Kind::kRelu: nodes.push_back(nodes[s.lhs].relu()); break;
    }
  }
  return nodes;
}

// The data (or grad) of each value, in order, for testing_util::all_close.
template <class V>
std::vector<double> datas(const std::vector<V>& nodes) {
  std::vector<double> out;
  for (const V& v : nodes) out.push_back(v.data());
  return out;
}

template <class V>
std::vector<double> grads(const std::vector<V>& nodes) {
  std::vector<double> out;
  for (const V& v : nodes) out.push_back(v.grad());
  return out;
}

}  // namespace scalar_graph

#endif  // TESTS_01_SCALAR_AUTOGRAD_RANDOM_GRAPH_H_
