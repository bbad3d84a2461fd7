// Task 1: the graph and backward(). The ops here are defined by the test itself through
// from_op, with rules whose answers are known, so these cases need none of your rules.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "ch03/autograd.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch02::FloatTensor;
using ch03::Tensor;
using strided_testing::read;

// x^2, with the rule g * 2x.
Tensor<float> square(const Tensor<float>& x) {
  FloatTensor v = x.value();
  return Tensor<float>::from_op("square", ch02::mul(v, v), {x}, [v](const FloatTensor& g) {
    return std::vector{ch02::mul(g, ch02::mul(v, FloatTensor::scalar(2)))};
  });
}

// a + b for equal shapes, with the rule (g, g).
Tensor<float> plus(const Tensor<float>& a, const Tensor<float>& b) {
  return Tensor<float>::from_op("plus", ch02::add(a.value(), b.value()), {a, b},
                                [](const FloatTensor& g) { return std::vector{g, g}; });
}

FloatTensor filled(const ch02::Shape& shape, std::mt19937_64& rng) {
  const dense::Dense d = strided_testing::round_to<float>(dense::random(rng, shape));
  return FloatTensor::from_vector(shape, {d.values.begin(), d.values.end()});
}

dense::Dense map(const FloatTensor& t, const std::function<double(double)>& f) {
  return dense::map(read(t), f);
}

// float32 rounding of these few operations on values below 10: 1e-5 is ~100 ulp.
constexpr double kTol = 1e-5;

TEST(Task1Graph, LeavesHoldTheirValue) {
  const FloatTensor v = FloatTensor::from_vector({2}, {1, 2});
  const Tensor<float> p(v, true), c(v);
  EXPECT_TRUE(p.requires_grad());
  EXPECT_FALSE(c.requires_grad());
  EXPECT_TRUE(p.is_leaf() && c.is_leaf());
  EXPECT_TRUE(p.value().shares_storage_with(v)) << "a leaf must not copy its value";
  EXPECT_FALSE(p.has_grad());
  EXPECT_THROW((void)p.grad(), std::logic_error) << "grad() before backward()";
}

TEST(Task1Graph, FromOpRecordsOnlyWhatBackwardNeeds) {
  const Tensor<float> p(FloatTensor::full({3}, 2), true), c(FloatTensor::full({3}, 5));
  const Tensor<float> y = plus(p, c);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_EQ(y.node()->inputs.size(), 2u);
  EXPECT_EQ(read(y.value()).values, std::vector<double>(3, 7.0));
  const Tensor<float> k = plus(c, c);
  EXPECT_FALSE(k.requires_grad()) << "no input requires grad: the result is a constant";
  EXPECT_TRUE(k.is_leaf());
  EXPECT_TRUE(k.node()->inputs.empty()) << "a constant must not keep its inputs alive";
}

TEST(Task1Graph, ChainRuleThroughAChain) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Tensor<float> x(filled({2, 3}, rng), true);
    const FloatTensor w = filled({2, 3}, rng);
    square(square(x)).backward(w);  // d/dx x^4 = 4 x^3
    dense::Dense want = dense::zip(map(x.value(), [](double v) { return 4 * v * v * v; }), read(w),
                                   std::multiplies<>());
    EXPECT_TRUE(strided_testing::matches(want, read(x.grad()), kTol, kTol, "d (x^2)^2 / dx, seeded with w"));
  }
}

TEST(Task1Graph, SharedNodesAddUpTheirGradients) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Tensor<float> x(filled({4}, rng), true);
    // u is used twice, once directly and once through square: its gradient must be complete
    // (both uses added) before it flows on to x. z = x^2 + x^4, dz/dx = 2x + 4x^3.
    const Tensor<float> u = square(x);
    plus(u, square(u)).backward(FloatTensor::full({4}, 1));
    EXPECT_TRUE(strided_testing::matches(map(x.value(), [](double v) { return 2 * v + 4 * v * v * v; }),
                                         read(x.grad()), kTol, kTol, "d (u + u^2) / dx with u = x^2"));
    const Tensor<float> y(filled({4}, rng), true);
    plus(y, y).backward(FloatTensor::full({4}, 1));
    EXPECT_EQ(read(y.grad()).values, std::vector<double>(4, 2.0)) << "d (y + y) / dy";
  }
}

// The ladder x_{k+1} = plus(x_k, x_k), 24 rungs: 25 nodes but 2^24 paths from the top to x_0.
// A backward that walks each node once takes microseconds; one that revisits shared nodes
// (even if it lists each once) takes seconds. The fastest of three runs must stay under 50 ms.
TEST(Task1Graph, SharedNodesAreWalkedOnce) {
  constexpr int kDepth = 24;
  const Tensor<float> x(FloatTensor::full({2}, 1), true);
  std::vector<Tensor<float>> rungs{x};
  for (int i = 0; i < kDepth; ++i) rungs.push_back(plus(rungs.back(), rungs.back()));
  double best = 1e30;
  for (int run = 0; run < 3 && best > 0.05; ++run) {
    Tensor<float> handle = x;
    handle.zero_grad();
    const auto start = std::chrono::steady_clock::now();
    rungs.back().backward(FloatTensor::full({2}, 1));
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  ASSERT_TRUE(x.has_grad());
  EXPECT_EQ(read(x.grad()).values, std::vector<double>(2, std::ldexp(1.0, kDepth)))
      << "d top / d x_0 of the ladder x_{k+1} = x_k + x_k is 2^" << kDepth;
  EXPECT_LT(best, 0.05) << "backward() of the ladder x_{k+1} = x_k + x_k, " << kDepth << " rungs deep, took "
                        << best << " s: " << kDepth + 1 << " nodes, but 2^" << kDepth
                        << " paths. Never walk into a node you have visited already";
}

TEST(Task1Graph, GradientsAccumulateUntilZeroGrad) {
  const Tensor<float> x(FloatTensor::from_vector({2}, {1, -2}), true);
  const Tensor<float> y = square(x);
  y.backward(FloatTensor::full({2}, 1));
  y.backward(FloatTensor::full({2}, 1));
  EXPECT_EQ(read(x.grad()).values, (std::vector<double>{4, -8})) << "two backward() calls add up";
  Tensor<float> handle = x;
  handle.zero_grad();
  EXPECT_FALSE(x.has_grad()) << "zero_grad clears the gradient";
  y.backward(FloatTensor::full({2}, 1));
  EXPECT_EQ(read(x.grad()).values, (std::vector<double>{2, -4}));
}

TEST(Task1Graph, ConstantsGetNoGradient) {
  const Tensor<float> x(FloatTensor::full({3}, 1), true), c(FloatTensor::full({3}, 2));
  plus(x, c).backward(FloatTensor::full({3}, 1));
  EXPECT_TRUE(x.has_grad());
  EXPECT_FALSE(c.has_grad()) << "c does not require grad";
}

TEST(Task1Graph, NoGradGuardRecordsNothing) {
  const Tensor<float> x(FloatTensor::full({2}, 3), true);
  {
    ch03::NoGradGuard no_grad;
    EXPECT_FALSE(ch03::grad_enabled());
    {
      ch03::NoGradGuard nested;
    }
    EXPECT_FALSE(ch03::grad_enabled()) << "leaving a nested guard must not re-enable gradients";
    const Tensor<float> y = square(x);
    EXPECT_FALSE(y.requires_grad()) << "inside NoGradGuard";
    EXPECT_TRUE(y.node()->inputs.empty());
    EXPECT_EQ(read(y.value()).values, std::vector<double>(2, 9.0)) << "the value is still computed";
  }
  EXPECT_TRUE(ch03::grad_enabled());
  EXPECT_TRUE(square(x).requires_grad()) << "after the guard, ops record again";
}

TEST(Task1Graph, DetachCutsTheGraph) {
  const Tensor<float> x(FloatTensor::full({2}, 3), true);
  const Tensor<float> y = square(x);
  const Tensor<float> d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.value().shares_storage_with(y.value()));
  EXPECT_FALSE(square(d).requires_grad());
}

TEST(Task1Graph, BackwardChecksItsSeed) {
  const Tensor<float> x(FloatTensor::full({2, 2}, 1), true);
  EXPECT_THROW(square(x).backward(), std::invalid_argument) << "backward() of a (2, 2) output";
  EXPECT_THROW(square(x).backward(FloatTensor::full({4}, 1)), std::invalid_argument)
      << "a seed of shape (4,) for a (2, 2) output";
  const Tensor<float> s(FloatTensor::scalar(3), true);
  square(s).backward();
  EXPECT_EQ(s.grad().item(), 6.0f) << "backward() of a scalar seeds with 1";
}

TEST(Task1Graph, BackwardChecksWhatRulesReturn) {
  const Tensor<float> x(FloatTensor::full({3}, 1), true);
  const Tensor<float> bad_shape = Tensor<float>::from_op(
      "bad_shape", x.value(), {x}, [](const FloatTensor&) { return std::vector{FloatTensor::zeros({2})}; });
  EXPECT_THROW(bad_shape.backward(FloatTensor::full({3}, 1)), std::logic_error);
  const Tensor<float> bad_count = Tensor<float>::from_op(
      "bad_count", x.value(), {x}, [](const FloatTensor& g) { return std::vector{g, g}; });
  EXPECT_THROW(bad_count.backward(FloatTensor::full({3}, 1)), std::logic_error);
}

TEST(Task1Graph, SetValueReplacesALeafsValue) {
  Tensor<float> p(FloatTensor::full({2}, 1), true);
  Tensor<float> same = p;  // a handle to the same node, as an optimizer holds it
  same.set_value(FloatTensor::full({2}, 5));
  EXPECT_EQ(read(p.value()).values, std::vector<double>(2, 5.0));
  EXPECT_THROW(same.set_value(FloatTensor::full({3}, 5)), std::invalid_argument);
}

}  // namespace
