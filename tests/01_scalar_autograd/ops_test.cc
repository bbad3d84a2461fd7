// Tasks ch01.1 to ch01.3: building the graph (forward values) and each op's local backward
// rule, checked against tinyref's tensor engine (tensor_oracle.h) on random inputs and random
// graphs, and at the edges a random input never reaches (relu at exactly 0, huge tanh inputs).
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
#include "tests/01_scalar_autograd/tensor_oracle.h"
#include "tests/testing/testing.h"
#include "tinyref/tensor.h"

namespace {

using ch01::Value;
using tinyref::Tensor;

// tinyref computes exp through exp2, log through log2 and tanh through a sigmoid, so its values
// differ from <cmath>'s in the last bits: over 5000 random graphs (seeds 1-5000) by at most
// 5.3e-15 * max(1, |value|), and the gradients by 2.3e-13 * max(1, |grad|). The tolerances
// are 190 and 400 times that; a wrong formula or a missing term is off by 1e-3 or more.
constexpr double kForwardTol = 1e-12;
constexpr double kGradTol = 1e-10;

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

// One op on Values and the same op on tinyref's 0-d tensors, for side-by-side checks. The
// inputs stay away from every op's edges, so tinyref's own relu and pow serve here. A case of
// two ops ((-b).relu()) checks forward values only: one push does not reach its leaves.
struct OpCase {
  std::string name;  // "a * b"
  std::function<Value(const Value&, const Value&)> mine;
  std::function<Tensor(const Tensor&, const Tensor&)> reference;
  bool one_op = true;
};

#define TT_OP_CASE(name, expr, ...)                                                   \
  OpCase {                                                                            \
    name, [](const Value& a, const Value& b) { (void)a; (void)b; return expr; },      \
        [](const Tensor& a, const Tensor& b) { (void)a; (void)b; return expr; },       \
        __VA_ARGS__                                                                   \
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
          TT_OP_CASE("b.relu()", b.relu()),       TT_OP_CASE("(-b).relu()", (-b).relu(), false)};
}

#undef TT_OP_CASE

void expect_forward_matches(const std::vector<OpCase>& cases, const std::string& task) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const double a = uniform(rng, 0.3, 2), b = away_from_zero(rng);
    for (const OpCase& op : cases) {
      const double expected = op.reference(tensor_oracle::scalar(a), tensor_oracle::scalar(b)).item();
      const double got = op.mine(a, b).data();
      EXPECT_TRUE(testing_util::close(expected, got, kForwardTol, kForwardTol,
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
    EXPECT_TRUE(testing_util::all_close(tensor_oracle::run(recipe).values, scalar_graph::datas(mine),
                                        kForwardTol, kForwardTol,
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

// tanh through exponentials, (e^2x - 1) / (e^2x + 1), is inf / inf = NaN from x = 355 on.
TEST(Task2Functions, TanhOfLargeInputsIsPlusOrMinusOne) {
  for (double x : {20.0, 40.0, 400.0, 1e4, 1e300}) {
    for (double sign : {1.0, -1.0}) {
      EXPECT_EQ(Value(sign * x).tanh().data(), sign * 1.0)
          << "task ch01.2: tanh(" << sign * x << ") (use std::tanh: a formula of exponentials "
          << "overflows to inf / inf)";
    }
  }
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
      if (!op.one_op) continue;
      const Value mine_a = a, mine_b = b;
      const Value mine = op.mine(mine_a, mine_b);
      for (const Value& v : {mine_a, mine_b}) v.set_grad(start);
      mine.set_grad(g);
      mine.push_grad_to_operands();
      // tinyref: d(g * out)/da, plus the grad the operand had before.
      Tensor ref_a = tensor_oracle::scalar(a, true), ref_b = tensor_oracle::scalar(b, true);
      (op.reference(ref_a, ref_b) * g).backward();
      const auto grad = [start](const Tensor& t) { return start + (t.grad().defined() ? t.grad().item() : 0.0); };
      const std::string context = "task ch01.3: " + what + " for out = " + op.name + " with a = " +
                                  show(a) + ", b = " + show(b) + ", out.grad = " + show(g);
      EXPECT_TRUE(testing_util::close(grad(ref_a), mine_a.grad(), kGradTol, kGradTol, context + ": a.grad"));
      EXPECT_TRUE(testing_util::close(grad(ref_b), mine_b.grad(), kGradTol, kGradTol, context + ": b.grad"));
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

// relu's derivative jumps at 0; the course takes PyTorch's side: no gradient at exactly 0
// (README's table: g if a > 0, else 0). Random inputs never land on 0 itself.
TEST(Task3LocalBackward, ReluPassesNoGradientAtZeroAndBelow) {
  for (double x : {0.0, -0.0, -1.5}) {
    const Value v = x;
    const Value out = v.relu();
    out.set_grad(1.5);
    out.push_grad_to_operands();
    EXPECT_EQ(v.grad(), 0.0) << "task ch01.3: x.grad after pushing out = x.relu() at x = " << x
                             << ": relu passes g only where x > 0 (not >=)";
  }
  const Value tiny = 1e-300;
  const Value out = tiny.relu();
  out.set_grad(1.5);
  out.push_grad_to_operands();
  EXPECT_EQ(tiny.grad(), 1.5) << "task ch01.3: relu at x = 1e-300 > 0 passes the gradient";
}

TEST(Task3LocalBackward, TanhOfLargeInputsHasZeroSlope) {
  for (double x : {400.0, -400.0, 1e4}) {
    const Value v = x;
    const Value out = v.tanh();
    out.set_grad(2.0);
    out.push_grad_to_operands();
    EXPECT_EQ(v.grad(), 0.0) << "task ch01.3: x.grad after pushing out = x.tanh() at x = " << x
                             << " (1 - tanh(x)^2 is 0 there; NaN means tanh itself overflowed)";
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
