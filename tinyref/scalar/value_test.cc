#include "tinyref/scalar/value.h"

#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace tinyref::scalar {
namespace {

// Central differences in double: the truncation error is about h^2 |f'''| / 6 and the
// rounding error about 1e-16 |f| / h, both near 1e-10 for h = 1e-5 and the O(1) functions
// below, so 1e-6 (relative and absolute) is loose enough never to flake and tight enough to
// catch any wrong rule (those are off by O(1)).
constexpr double kFiniteDifferenceTolerance = 1e-6;

using Function = std::function<Value(const std::vector<Value>&)>;

// Checks every input's gradient of f against central differences around `at`.
void expect_gradients_match_finite_differences(const Function& f, const std::vector<double>& at,
                                               const std::string& what) {
  std::vector<Value> inputs(at.begin(), at.end());
  const Value out = f(inputs);
  out.backward();
  for (size_t i = 0; i < at.size(); ++i) {
    const double h = 1e-5;
    std::vector<Value> plus(at.begin(), at.end()), minus(at.begin(), at.end());
    plus[i].set_data(at[i] + h);
    minus[i].set_data(at[i] - h);
    const double numeric = (f(plus).data() - f(minus).data()) / (2 * h);
    EXPECT_TRUE(testing_util::close(numeric, inputs[i].grad(), kFiniteDifferenceTolerance,
                                    kFiniteDifferenceTolerance,
                                    what + ": d/d(input " + std::to_string(i) + ")"));
  }
}

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * (static_cast<double>(rng() >> 11) * 0x1.0p-53);
}

TEST(ScalarValue, ForwardMatchesTheFormulas) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const double x = uniform(rng, 0.2, 3), y = uniform(rng, -3, -0.2);
    const Value a = x, b = y;
    EXPECT_EQ((a + b).data(), x + y);
    EXPECT_EQ((a - b).data(), x - y);
    EXPECT_EQ((a * b).data(), x * y);
    EXPECT_EQ((a / b).data(), x / y);
    EXPECT_EQ((-a).data(), -x);
    EXPECT_EQ((2.0 - a).data(), 2.0 - x);
    EXPECT_EQ((a / 4.0).data(), x / 4.0);
    EXPECT_EQ((3 * b).data(), 3 * y);
    EXPECT_EQ(a.pow(1.5).data(), std::pow(x, 1.5));
    EXPECT_EQ(b.exp().data(), std::exp(y));
    EXPECT_EQ(a.log().data(), std::log(x));
    EXPECT_EQ(b.tanh().data(), std::tanh(y));
    EXPECT_EQ(a.relu().data(), x);
    EXPECT_EQ(b.relu().data(), 0.0);
  }
}

TEST(ScalarValue, OpsRecordTheirOperands) {
  const Value a = 2.0, b = 5.0;
  const Value c = a / b;
  EXPECT_EQ(c.op(), Op::kDiv);
  ASSERT_EQ(c.operands().size(), 2u);
  EXPECT_EQ(c.operands()[0].node(), a.node());
  EXPECT_EQ(c.operands()[1].node(), b.node());
  const Value d = a.pow(3);
  EXPECT_EQ(d.op(), Op::kPow);
  EXPECT_EQ(d.exponent(), 3.0);
  EXPECT_EQ(Value(1.0).op(), Op::kLeaf);
  EXPECT_TRUE(Value(1.0).operands().empty());
}

TEST(ScalarValue, EachOpMatchesFiniteDifferences) {
  const std::vector<std::pair<std::string, Function>> ops = {
      {"a + b", [](const auto& v) { return v[0] + v[1]; }},
      {"a - b", [](const auto& v) { return v[0] - v[1]; }},
      {"a * b", [](const auto& v) { return v[0] * v[1]; }},
      {"a / b", [](const auto& v) { return v[0] / v[1]; }},
      {"-a", [](const auto& v) { return -v[0]; }},
      {"a.pow(2.5)", [](const auto& v) { return v[0].pow(2.5); }},
      {"a.pow(-2)", [](const auto& v) { return v[0].pow(-2); }},
      {"a.exp()", [](const auto& v) { return v[0].exp(); }},
      {"a.log()", [](const auto& v) { return v[0].log(); }},
      {"a.tanh()", [](const auto& v) { return v[0].tanh(); }},
      {"b.relu()", [](const auto& v) { return v[1].relu(); }},
      {"(-b).relu()", [](const auto& v) { return (-v[1]).relu(); }},
  };
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    // a > 0 keeps log and fractional pow defined; |b| >= 0.3 keeps relu's kink and the
    // division's pole far from the finite-difference steps.
    const double sign = seed % 2 ? 1 : -1;
    const std::vector<double> at = {uniform(rng, 0.3, 2), sign * uniform(rng, 0.3, 2)};
    for (const auto& [name, f] : ops) expect_gradients_match_finite_differences(f, at, name);
  }
}

TEST(ScalarValue, ComposedExpressionMatchesFiniteDifferences) {
  const Function f = [](const std::vector<Value>& v) {
    const Value& a = v[0];
    const Value& b = v[1];
    const Value& c = v[2];
    const Value shared = a * b + c;  // used three times below
    return (shared.tanh() * shared + (shared / (1.0 + a * a)).exp()).pow(2) +
           (b * b + 1.0).log() - 3.0 * c.relu();
  };
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const std::vector<double> at = {uniform(rng, -1, 1), uniform(rng, -1, 1), uniform(rng, 0.3, 1)};
    expect_gradients_match_finite_differences(f, at, "composed expression");
  }
}

TEST(ScalarValue, SharedNodesAccumulate) {
  const Value x = 3.0;
  const Value square = x * x;
  square.backward();
  EXPECT_EQ(x.grad(), 6.0) << "d(x*x)/dx = 2x";

  const Value a = -2.0;
  (a + a).backward();
  EXPECT_EQ(a.grad(), 2.0) << "d(a+a)/da = 2";

  // A diamond: y feeds z twice, through different paths.
  const Value w = 0.5;
  const Value y = w * 3.0;
  const Value z = y * y + y;
  z.backward();
  EXPECT_DOUBLE_EQ(y.grad(), 2 * y.data() + 1);
  EXPECT_DOUBLE_EQ(w.grad(), 3 * (2 * y.data() + 1));
}

TEST(ScalarValue, SecondBackwardAddsLeafGradsOnce) {
  const Value a = 1.5, b = -0.5;
  const Value inner = a * b;
  const Value out = (inner * inner).tanh();
  out.backward();
  const double once_a = a.grad(), once_b = b.grad(), once_inner = inner.grad();
  out.backward();
  EXPECT_DOUBLE_EQ(a.grad(), 2 * once_a);
  EXPECT_DOUBLE_EQ(b.grad(), 2 * once_b);
  EXPECT_DOUBLE_EQ(inner.grad(), once_inner) << "inner grads belong to one backward pass";
  EXPECT_EQ(out.grad(), 1.0);
}

TEST(ScalarValue, BackwardOnALeafAddsOne) {
  const Value leaf = 4.0;
  leaf.backward();
  EXPECT_EQ(leaf.grad(), 1.0);
  leaf.backward();
  EXPECT_EQ(leaf.grad(), 2.0);
}

TEST(ScalarValue, ZeroGradClearsTheWholeGraph) {
  const Value a = 0.7, b = 1.1;
  const Value out = (a * b).exp() + a;
  out.backward();
  out.zero_grad();
  for (const Value& v : out.topological_order()) EXPECT_EQ(v.grad(), 0.0);
}

TEST(ScalarValue, TopologicalOrderHasEachNodeOnceOperandsFirst) {
  // x_{k+1} = x_k + x_k: 21 nodes, but 2^20 paths from the top to x_0.
  const Value bottom = 1.0;
  Value top = bottom;
  for (int i = 0; i < 20; ++i) top = top + top;
  const std::vector<Value> order = top.topological_order();
  ASSERT_EQ(order.size(), 21u);
  EXPECT_EQ(order.front().node(), bottom.node());
  EXPECT_EQ(order.back().node(), top.node());
  std::unordered_set<const Node*> earlier;
  for (const Value& v : order) {
    for (const Value& operand : v.operands()) EXPECT_TRUE(earlier.count(operand.node()));
    EXPECT_TRUE(earlier.insert(v.node()).second);
  }
  top.backward();
  EXPECT_EQ(bottom.grad(), std::pow(2.0, 20));
}

TEST(ScalarValue, LongChainDoesNotOverflowTheStack) {
  // Deep enough that a recursive walk, or a recursive destructor at the closing brace, would
  // run off an 8 MiB stack.
  constexpr int kLength = 200000;
  const Value x = 1.0;
  {
    Value chain = x;
    for (int i = 0; i < kLength; ++i) chain = chain * 1.0 + 0.0;
    chain.backward();
    EXPECT_EQ(x.grad(), 1.0);
  }
}

TEST(ScalarValue, LogOfNonPositiveThrowsNamingTheValue) {
  for (double bad : {0.0, -2.5}) {
    try {
      Value(bad).log();
      ADD_FAILURE() << "log(" << bad << ") did not throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("log"), std::string::npos) << e.what();
      std::ostringstream number;
      number << bad;
      EXPECT_NE(std::string(e.what()).find(number.str()), std::string::npos) << e.what();
    }
  }
}

TEST(ScalarValue, DotHasEveryNodeAndEdge) {
  const Value a(2.0, "a"), b(-3.0, "b");
  Value c = a * b;
  c.set_label("c");
  const Value d = (c + a).pow(2);
  d.backward();
  const std::string dot = to_dot(d);
  EXPECT_EQ(dot.rfind("digraph", 0), 0u) << dot;
  for (const char* text : {"\"a\\n", "\"b\\n", "\"c = *\\n", "\"+\\n", "\"pow 2\\n", "data -6",
                           "grad 16"}) {
    EXPECT_NE(dot.find(text), std::string::npos) << "missing " << text << " in\n" << dot;
  }
  size_t arrows = 0;
  for (size_t at = dot.find("->"); at != std::string::npos; at = dot.find("->", at + 1)) ++arrows;
  EXPECT_EQ(arrows, 5u) << dot;  // a->c, b->c, c->+, a->+, +->pow
}

TEST(ScalarValue, PrintsDataAndGrad) {
  std::ostringstream out;
  out << Value(-4.0);
  EXPECT_EQ(out.str(), "Value(data=-4, grad=0)");
}

}  // namespace
}  // namespace tinyref::scalar
