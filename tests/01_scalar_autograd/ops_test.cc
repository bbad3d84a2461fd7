// Tasks ch01.1 to ch01.3: building the graph (forward values) and each op's local backward
// rule, checked against tinyref::scalar on random inputs and random graphs.
#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ch01/value.h"
#include "gtest/gtest.h"
#include "tests/01_scalar_autograd/random_graph.h"
#include "tests/testing/testing.h"
#include "tinyref/scalar/value.h"

namespace {

namespace ref = tinyref::scalar;
using ch01::Value;

// Both sides compute the same IEEE expression, so the values should agree to the last bit;
// 1e-12 relative forgives a different but sound formula (tanh through exp, say) and nothing
// else.
constexpr double kForwardRtol = 1e-12;
constexpr double kForwardAtol = 1e-15;

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * (static_cast<double>(rng() >> 11) * 0x1.0p-53);
}

// A random number with |x| in [0.3, 2]: away from 0, where / and log and relu have edges.
double away_from_zero(std::mt19937_64& rng) {
  return uniform(rng, 0.3, 2) * (rng() % 2 ? 1 : -1);
}

std::string show(double x) {
  std::ostringstream out;
  out.precision(17);
  out << x;
  return out.str();
}

// One op applied in both implementations, for side-by-side checks.
struct OpCase {
  std::string name;  // "a * b"
  std::function<Value(const Value&, const Value&)> mine;
  std::function<ref::Value(const ref::Value&, const ref::Value&)> reference;
};

#define TT_OP_CASE(name, expr)                                                            \
  OpCase {                                                                                \
    name, [](const Value& a, const Value& b) { (void)a; (void)b; return expr; },          \
        [](const ref::Value& a, const ref::Value& b) { (void)a; (void)b; return expr; }    \
  }

std::vector<OpCase> arithmetic_cases() {
  return {TT_OP_CASE("a + b", a + b),     TT_OP_CASE("a - b", a - b),
          TT_OP_CASE("a * b", a * b),     TT_OP_CASE("a / b", a / b),
          TT_OP_CASE("-a", -a),           TT_OP_CASE("a + 2.5", a + 2.5),
          TT_OP_CASE("2.5 - a", 2.5 - a), TT_OP_CASE("3 * b", 3 * b),
          TT_OP_CASE("1.5 / b", 1.5 / b), TT_OP_CASE("a / 4.0", a / 4.0)};
}

// a > 0 in these cases (log and fractional powers need it); b has either sign.
std::vector<OpCase> function_cases() {
  return {TT_OP_CASE("a.pow(2)", a.pow(2)),       TT_OP_CASE("b.pow(3)", b.pow(3)),
          TT_OP_CASE("b.pow(-1)", b.pow(-1)),     TT_OP_CASE("a.pow(0.5)", a.pow(0.5)),
          TT_OP_CASE("a.pow(-1.5)", a.pow(-1.5)), TT_OP_CASE("b.exp()", b.exp()),
          TT_OP_CASE("a.log()", a.log()),         TT_OP_CASE("b.tanh()", b.tanh()),
          TT_OP_CASE("b.relu()", b.relu()),       TT_OP_CASE("(-b).relu()", (-b).relu())};
}

#undef TT_OP_CASE

void expect_forward_matches(const std::vector<OpCase>& cases, const std::string& task) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const double a = uniform(rng, 0.3, 2), b = away_from_zero(rng);
    for (const OpCase& op : cases) {
      const double expected = op.reference(a, b).data();
      const double got = op.mine(a, b).data();
      EXPECT_TRUE(testing_util::close(expected, got, kForwardRtol, kForwardAtol,
                                      task + ": (" + op.name + ").data() with a = " + show(a) +
                                          ", b = " + show(b)));
    }
  }
}

void expect_random_graph_forward_matches(bool functions, const std::string& task) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    const scalar_graph::Recipe recipe = scalar_graph::random_recipe(seed, {3, 16, functions});
    SCOPED_TRACE(recipe.describe());
    const auto mine = scalar_graph::build<Value>(recipe);
    const auto reference = scalar_graph::build<ref::Value>(recipe);
    EXPECT_TRUE(testing_util::all_close(scalar_graph::datas(reference), scalar_graph::datas(mine),
                                        kForwardRtol, kForwardAtol,
                                        task + ": data of v0, v1, ... (index = step)"));
  }
}

// ---------------------------------------------------------------------------------------
// Task 1: + - * / and unary minus build nodes.

TEST(Task1Arithmetic, DataMatchesReference) {
  expect_forward_matches(arithmetic_cases(), "task ch01.1");
}

TEST(Task1Arithmetic, RecordsOpAndOperands) {
  const Value a = 1.5, b = -0.5;
  const std::vector<std::pair<Value, ch01::Op>> made = {
      {a + b, ch01::Op::kAdd}, {a - b, ch01::Op::kSub}, {a * b, ch01::Op::kMul},
      {a / b, ch01::Op::kDiv}};
  for (const auto& [out, op] : made) {
    SCOPED_TRACE(std::string("task ch01.1: a ") + ch01::op_name(op) + " b");
    EXPECT_EQ(ch01::op_name(out.op()), std::string(ch01::op_name(op)));
    ASSERT_EQ(out.operands().size(), 2u) << "a binary op keeps both operands";
    EXPECT_EQ(out.operands()[0].node(), a.node()) << "operand 0 must be a itself, not a copy";
    EXPECT_EQ(out.operands()[1].node(), b.node()) << "operand 1 must be b itself, not a copy";
    EXPECT_EQ(out.grad(), 0.0) << "a new node starts with grad 0";
  }
  const Value negated = -a;
  EXPECT_EQ(negated.op(), ch01::Op::kNeg) << "task ch01.1: -a is its own op, kNeg";
  ASSERT_EQ(negated.operands().size(), 1u);
  EXPECT_EQ(negated.operands()[0].node(), a.node());
}

TEST(Task1Arithmetic, DoubleOnEitherSideBecomesALeaf) {
  const Value x = 3.0;
  for (const Value& out : {2.0 - x, x - 2.0}) {
    ASSERT_EQ(out.operands().size(), 2u) << "task ch01.1: 2.0 - x and x - 2.0 have two operands";
    const Value constant = out.operands()[out.operands()[0].node() == x.node() ? 1 : 0];
    EXPECT_EQ(constant.op(), ch01::Op::kLeaf);
    EXPECT_EQ(constant.data(), 2.0);
  }
  EXPECT_EQ((2.0 - x).operands()[1].node(), x.node()) << "in 2.0 - x, x is the second operand";
}

TEST(Task1Arithmetic, LeavesOperandsUntouched) {
  const Value a = 2.0, b = 4.0;
  a.set_grad(0.25);
  const Value c = a / b;
  EXPECT_EQ(a.data(), 2.0);
  EXPECT_EQ(b.data(), 4.0);
  EXPECT_EQ(a.grad(), 0.25) << "task ch01.1: building a node must not change its operands";
  EXPECT_EQ(c.data(), 0.5);
}

TEST(Task1Arithmetic, RandomGraphDataMatchesReference) {
  expect_random_graph_forward_matches(/*functions=*/false, "task ch01.1");
}

// ---------------------------------------------------------------------------------------
// Task 2: pow exp log tanh relu.

TEST(Task2Functions, DataMatchesReference) {
  expect_forward_matches(function_cases(), "task ch01.2");
}

TEST(Task2Functions, RecordsOpExponentAndOperand) {
  const Value x = 0.7;
  const std::vector<std::pair<Value, ch01::Op>> made = {
      {x.pow(3), ch01::Op::kPow}, {x.exp(), ch01::Op::kExp},   {x.log(), ch01::Op::kLog},
      {x.tanh(), ch01::Op::kTanh}, {x.relu(), ch01::Op::kRelu}};
  for (const auto& [out, op] : made) {
    SCOPED_TRACE(std::string("task ch01.2: x.") + ch01::op_name(op) + "()");
    EXPECT_EQ(ch01::op_name(out.op()), std::string(ch01::op_name(op)));
    ASSERT_EQ(out.operands().size(), 1u) << "a function of one value has one operand";
    EXPECT_EQ(out.operands()[0].node(), x.node());
  }
  EXPECT_EQ(x.pow(3).exponent(), 3.0) << "task ch01.2: pow keeps its exponent in the node";
}

TEST(Task2Functions, ReluOfZeroAndNegativesIsZero) {
  for (double x : {0.0, -0.0, -1e-300, -3.0}) {
    EXPECT_EQ(Value(x).relu().data(), 0.0) << "task ch01.2: relu(" << x << ")";
  }
  EXPECT_EQ(Value(1e-300).relu().data(), 1e-300);
}

TEST(Task2Functions, LogOfNonPositiveThrowsDomainError) {
  for (double bad : {0.0, -2.5}) {
    try {
      Value(bad).log();
      ADD_FAILURE() << "task ch01.2: log(" << bad << ") must throw std::domain_error";
    } catch (const std::domain_error& e) {
      const std::string message = e.what();
      std::ostringstream number;
      number << bad;
      EXPECT_NE(message.find("log"), std::string::npos) << "name the op: " << message;
      EXPECT_NE(message.find(number.str()), std::string::npos)
          << "name the value (" << number.str() << "): " << message;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "task ch01.2: log(" << bad << ") must throw std::domain_error, got: "
                    << e.what();
    }
  }
}

TEST(Task2Functions, RandomGraphDataMatchesReference) {
  expect_random_graph_forward_matches(/*functions=*/true, "task ch01.2");
}

// ---------------------------------------------------------------------------------------
// Task 3: push_grad_to_operands, one node at a time.

// The same local rule in both implementations: out.grad = g, operands' grads preset to
// `start`, one push; compares the operands' grads.
void expect_push_matches(const std::vector<OpCase>& cases, double start, const std::string& what) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const double a = uniform(rng, 0.3, 2), b = away_from_zero(rng), g = away_from_zero(rng);
    for (const OpCase& op : cases) {
      const Value mine_a = a, mine_b = b;
      const ref::Value ref_a = a, ref_b = b;
      const Value mine = op.mine(mine_a, mine_b);
      const ref::Value reference = op.reference(ref_a, ref_b);
      for (const Value& v : {mine_a, mine_b}) v.set_grad(start);
      for (const ref::Value& v : {ref_a, ref_b}) v.set_grad(start);
      mine.set_grad(g);
      reference.set_grad(g);
      mine.push_grad_to_operands();
      reference.push_grad_to_operands();
      // One multiplication and one addition apart at most: 1e-12 is plenty.
      const std::string context = "task ch01.3: " + what + " for out = " + op.name + " with a = " +
                                  show(a) + ", b = " + show(b) + ", out.grad = " + show(g);
      EXPECT_TRUE(testing_util::close(ref_a.grad(), mine_a.grad(), 1e-12, 1e-15,
                                      context + ": a.grad"));
      EXPECT_TRUE(testing_util::close(ref_b.grad(), mine_b.grad(), 1e-12, 1e-15,
                                      context + ": b.grad"));
    }
  }
}

TEST(Task3LocalBackward, ArithmeticRules) {
  expect_push_matches(arithmetic_cases(), 0.0, "one push");
}

TEST(Task3LocalBackward, FunctionRules) {
  expect_push_matches(function_cases(), 0.0, "one push");
}

TEST(Task3LocalBackward, AddsToExistingGrads) {
  std::vector<OpCase> all = arithmetic_cases();
  for (OpCase& op : function_cases()) all.push_back(std::move(op));
  expect_push_matches(all, 0.75, "operand grads starting at 0.75 (+=, not =)");
}

TEST(Task3LocalBackward, SameOperandTwiceGetsBothContributions) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const double x = away_from_zero(rng), g = away_from_zero(rng);
    const std::vector<std::pair<std::string, double>> expected = {
        {"x * x", 2 * x * g}, {"x + x", 2 * g}, {"x - x", 0.0}, {"x / x", 0.0}};
    for (const auto& [name, want] : expected) {
      const Value v = x;
      const Value out = name == "x * x"   ? v * v
                        : name == "x + x" ? v + v
                        : name == "x - x" ? v - v
                                          : v / v;
      out.set_grad(g);
      out.push_grad_to_operands();
      EXPECT_TRUE(testing_util::close(want, v.grad(), 1e-12, 1e-15,
                                      "task ch01.3: x.grad after pushing out = " + name +
                                          " with x = " + show(x) + ", out.grad = " + show(g) +
                                          " (x is both operands: both contributions count)"));
    }
  }
}

TEST(Task3LocalBackward, LeafDoesNothing) {
  const Value leaf = 2.0;
  leaf.set_grad(3.0);
  leaf.push_grad_to_operands();
  EXPECT_EQ(leaf.grad(), 3.0) << "task ch01.3: a leaf has no operands to push to";
}

TEST(Task3LocalBackward, TouchesOnlyDirectOperands) {
  const Value a = 1.5, b = -2.0;
  const Value c = a * b;
  const Value d = c.tanh();
  d.set_grad(1.0);
  d.push_grad_to_operands();
  EXPECT_EQ(a.grad(), 0.0) << "task ch01.3: one push reaches d's operand c, not c's operands";
  EXPECT_EQ(b.grad(), 0.0) << "task ch01.3: one push reaches d's operand c, not c's operands";
  EXPECT_EQ(d.grad(), 1.0) << "task ch01.3: pushing leaves the node's own grad as it is";
  EXPECT_TRUE(testing_util::close(1 - std::pow(std::tanh(-3.0), 2), c.grad(), 1e-12, 1e-15,
                                  "task ch01.3: c.grad after pushing d = c.tanh()"));
}

}  // namespace
