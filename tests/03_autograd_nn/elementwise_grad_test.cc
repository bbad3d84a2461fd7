// Task 2: the elementwise rules, with broadcasting. Inputs have random shapes that broadcast
// against each other and random layouts (permuted, sliced, expanded); see grad_testing.h for
// the two ways each rule is checked.
#include <cmath>
#include <functional>
#include <random>

#include "ch03/autograd.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/03_autograd_nn/grad_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch03::Tensor;
using dense::Dense;
using grad_testing::Input;

template <typename T>
using Binary = Tensor<T> (*)(const Tensor<T>&, const Tensor<T>&);
template <typename T>
using Unary = Tensor<T> (*)(const Tensor<T>&);

void check_binary(const char* name, Binary<float> f32, Binary<double> f64,
                  const std::function<double(double, double)>& ref, const tinyref_oracle::Fn& tf,
                  double b_lo, double b_hi) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 3; ++trial) {
      const dense::Shape out = grad_testing::small_shape(rng);
      auto [sa, sb] = trial == 0 ? std::pair{out, out} : strided_testing::random_broadcast_pair(rng, out);
      const std::vector<Input> inputs{{sa}, {sb, b_lo, b_hi}};
      grad_testing::check_gradients(
          name, [f32](const auto& x) { return f32(x[0], x[1]); },
          [&ref](const std::vector<Dense>& d) { return dense::zip(d[0], d[1], ref); }, tf, inputs, rng);
      if (::testing::Test::HasFatalFailure()) return;
      grad_testing::gradcheck64(name, [f64](const auto& x) { return f64(x[0], x[1]); }, inputs, rng);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

void check_unary(const char* name, Unary<float> f32, Unary<double> f64,
                 const std::function<double(double)>& ref, const tinyref_oracle::Fn& tf, Input spec) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 3; ++trial) {
      spec.shape = grad_testing::small_shape(rng);
      grad_testing::check_gradients(
          name, [f32](const auto& x) { return f32(x[0]); },
          [&ref](const std::vector<Dense>& d) { return dense::map(d[0], ref); }, tf, {spec}, rng);
      if (::testing::Test::HasFatalFailure()) return;
      grad_testing::gradcheck64(name, [f64](const auto& x) { return f64(x[0]); }, {spec}, rng);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(Task2ElementwiseGrad, SumToShapeUndoesBroadcasting) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 5; ++trial) {
      const dense::Shape big = strided_testing::random_shape(rng, 0, 4, 4);
      const dense::Shape small = strided_testing::random_broadcast_pair(rng, big).first;
      const auto g = strided_testing::random_strided<float>(rng, big);
      const ch02::FloatTensor got = ch03::sum_to_shape(g.tensor, small);
      ASSERT_TRUE(strided_testing::matches(dense::sum_to(g.values, small), strided_testing::read(got),
                                           grad_testing::kFloatTol, grad_testing::kFloatTol,
                                           "sum_to_shape(g, " + dense::shape_str(small) + "), g " + g.layout));
    }
  }
}

TEST(Task2ElementwiseGrad, Add) { check_binary("add", ch03::add<float>, ch03::add<double>, std::plus<>(), [](const auto& t) { return t[0] + t[1]; }, -1, 1); }
TEST(Task2ElementwiseGrad, Sub) { check_binary("sub", ch03::sub<float>, ch03::sub<double>, std::minus<>(), [](const auto& t) { return t[0] - t[1]; }, -1, 1); }
TEST(Task2ElementwiseGrad, Mul) {
  check_binary("mul", ch03::mul<float>, ch03::mul<double>, std::multiplies<>(), [](const auto& t) { return t[0] * t[1]; }, -1, 1);
}
TEST(Task2ElementwiseGrad, Div) {  // divisors in [0.5, 2]: the derivative -a/b^2 stays below 4
  check_binary("div", ch03::div<float>, ch03::div<double>, std::divides<>(), [](const auto& t) { return t[0] / t[1]; }, 0.5, 2);
}
TEST(Task2ElementwiseGrad, Neg) {
  check_unary("neg", ch03::neg<float>, ch03::neg<double>, [](double v) { return -v; }, [](const auto& t) { return t[0].neg(); }, {});
}
TEST(Task2ElementwiseGrad, Exp) {
  check_unary("exp", ch03::exp<float>, ch03::exp<double>, [](double v) { return std::exp(v); }, [](const auto& t) { return t[0].exp(); }, {});
}
TEST(Task2ElementwiseGrad, Log) {
  check_unary("log", ch03::log<float>, ch03::log<double>, [](double v) { return std::log(v); }, [](const auto& t) { return t[0].log(); }, {{}, 0.5, 2});
}
TEST(Task2ElementwiseGrad, Relu) {  // no input within 0.01 of the kink
  check_unary("relu", ch03::relu<float>, ch03::relu<double>, [](double v) { return v > 0 ? v : 0.0; },
              [](const auto& t) { return t[0].relu(); }, {{}, -1, 1, 0.01});
}

// relu's derivative at exactly 0 is the course's convention (PyTorch's): 0. Random inputs never
// reach it; tinyref's maximum would split it in halves, so the expectation is written here.
TEST(Task2ElementwiseGrad, ReluPassesNoGradientAtZero) {
  const Tensor<float> x(ch02::FloatTensor::from_vector({5}, {-1.0f, -0.0f, 0.0f, 1e-30f, 2.0f}), true);
  ch03::relu(x).backward(ch02::FloatTensor::full({5}, 3.0f));
  EXPECT_EQ(strided_testing::read(x.grad()).values, (std::vector<double>{0, 0, 0, 3, 3}))
      << "d relu(x) / dx at x = -1, -0, 0, 1e-30, 2, seeded with 3: the gradient passes only where x > 0";
}

// Broadcasting against a zero-sized operand: the gradient of the other one sums over nothing.
TEST(Task2ElementwiseGrad, SumToShapeOfZeroSizedGradients) {
  const ch02::FloatTensor g = ch02::FloatTensor::zeros({0, 3});
  EXPECT_EQ(strided_testing::read(ch03::sum_to_shape(g, {3})).values, std::vector<double>(3, 0.0))
      << "sum_to_shape of a (0, 3) gradient to (3,)";
  EXPECT_EQ(ch03::sum_to_shape(g, {1, 3}).shape(), (ch02::Shape{1, 3}));
  EXPECT_EQ(ch03::sum_to_shape(ch02::FloatTensor::zeros({2, 0}), {2, 1}).shape(), (ch02::Shape{2, 1}));
}

TEST(Task2ElementwiseGrad, ConstantOperandsGetNoGradient) {
  std::mt19937_64 rng(1);
  grad_testing::check_gradients(
      "mul with a constant", [](const auto& x) { return x[0] * x[1]; },
      [](const std::vector<Dense>& d) { return dense::zip(d[0], d[1], std::multiplies<>()); },
      [](const auto& t) { return t[0] * t[1]; }, {{{2, 3}}, {{3}, -1, 1, 0, /*requires_grad=*/false}}, rng);
}

TEST(Task2ElementwiseGrad, OperatorsWithScalars) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    grad_testing::check_gradients(
        "(2 * x - 1) / 4 + x * x", [](const auto& x) { return (2.0f * x[0] - 1.0f) / 4.0f + x[0] * x[0]; },
        [](const std::vector<Dense>& d) {
          return dense::map(d[0], [](double v) { return (2 * v - 1) / 4 + v * v; });
        },
        [](const auto& t) { return (t[0] * 2.0 - 1.0) / 4.0 + t[0] * t[0]; }, {{grad_testing::small_shape(rng)}}, rng);
  }
}

}  // namespace
