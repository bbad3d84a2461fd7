// Task 5: elementwise ops on random shapes, random layouts (permuted, sliced, expanded) and
// random values, against tinyref computed in double (itself checked against the plain loops of
// dense.h).
//
// Tolerance: +, -, *, /, sqrt are correctly rounded in float (error at most half an ulp,
// 6e-8 relative) and glibc's expf/logf stay within one ulp; rtol 1e-6 (about 8 ulp) leaves room
// for a less careful libm or for computing in double and rounding once, and still catches any
// wrong formula, wrong element or wrong broadcast by many orders of magnitude.
#include <cmath>
#include <functional>
#include <random>

#include "ch02/ops.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/02_strided_tensors/tinyref_oracle.h"
#include "tests/testing/testing.h"

namespace {

using ch02::Shape;
using ch02::Tensor;
using strided_testing::Dense;
using strided_testing::random_shape;
using strided_testing::random_strided;
using strided_testing::read;

constexpr double kFloatRtol = 1e-6;
constexpr double kDoubleRtol = 1e-14;  // the same argument, with double's 1.1e-16 ulp

template <typename T>
using UnaryOp = Tensor<T> (*)(const Tensor<T>&);
template <typename T>
using BinaryOp = Tensor<T> (*)(const Tensor<T>&, const Tensor<T>&);

template <typename T>
void check_unary(const char* name, UnaryOp<T> op, const std::function<double(double)>& ref,
                 double lo, double hi, double rtol) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 4; ++trial) {
      const auto x = random_strided<T>(rng, random_shape(rng, 0, 4, 5), strided_testing::Layout::kAny, lo, hi);
      const Tensor<T> y = op(x.tensor);
      const Dense want = tinyref_oracle::unary(name, x.values);
      ASSERT_TRUE(tinyref_oracle::agree(dense::map(x.values, ref), want, 1e-12, name));
      ASSERT_TRUE(strided_testing::matches(want, read(y), rtol, 1e-30,
                                           std::string(name) + "(x), x " + x.layout));
      EXPECT_FALSE(y.shares_storage_with(x.tensor)) << name << " must return a new tensor";
    }
  }
}

template <typename T>
void check_binary(const char* name, BinaryOp<T> op, const std::function<double(double, double)>& ref,
                  double b_lo, double b_hi, double rtol) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 4; ++trial) {
      const Shape out = random_shape(rng, 0, 4, 4);
      // Trial 0 uses equal shapes; the others broadcast.
      auto [sa, sb] = trial == 0 ? std::pair{out, out} : strided_testing::random_broadcast_pair(rng, out);
      const auto a = random_strided<T>(rng, sa);
      const auto b = random_strided<T>(rng, sb, strided_testing::Layout::kAny, b_lo, b_hi);
      const Tensor<T> c = op(a.tensor, b.tensor);
      const Dense want = tinyref_oracle::binary(name, a.values, b.values);
      ASSERT_TRUE(tinyref_oracle::agree(dense::zip(a.values, b.values, ref), want, 1e-12, name));
      ASSERT_TRUE(strided_testing::matches(want, read(c), rtol, 1e-30,
                                           std::string(name) + "(a, b), a " + a.layout + ", b " + b.layout));
    }
  }
}

TEST(Task5Elementwise, Neg) { check_unary<float>("neg", ch02::neg, [](double v) { return -v; }, -1, 1, 0); }
TEST(Task5Elementwise, Exp) {
  check_unary<float>("exp", ch02::exp, [](double v) { return std::exp(v); }, -5, 5, kFloatRtol);
}
TEST(Task5Elementwise, Log) {
  check_unary<float>("log", ch02::log, [](double v) { return std::log(v); }, 0.01, 10, kFloatRtol);
}
TEST(Task5Elementwise, Sqrt) {
  check_unary<float>("sqrt", ch02::sqrt, [](double v) { return std::sqrt(v); }, 0, 10, kFloatRtol);
}
TEST(Task5Elementwise, Relu) {
  check_unary<float>("relu", ch02::relu, [](double v) { return v > 0 ? v : 0.0; }, -1, 1, 0);
}

TEST(Task5Elementwise, Add) {
  check_binary<float>("add", ch02::add, std::plus<>(), -1, 1, kFloatRtol);
}
TEST(Task5Elementwise, Sub) {
  check_binary<float>("sub", ch02::sub, std::minus<>(), -1, 1, kFloatRtol);
}
TEST(Task5Elementwise, Mul) {
  check_binary<float>("mul", ch02::mul, std::multiplies<>(), -1, 1, kFloatRtol);
}
TEST(Task5Elementwise, Div) {  // divisors in [0.5, 2): no division by (nearly) zero
  check_binary<float>("div", ch02::div, std::divides<>(), 0.5, 2, kFloatRtol);
}
TEST(Task5Elementwise, Greater) {
  check_binary<float>("greater", ch02::greater, [](double a, double b) { return a > b ? 1.0 : 0.0; },
                      -1, 1, 0);
}

// Random floats never tie; values on a grid of halves often do, and -0.0 equals 0.0. greater
// is strict: 1 only where a > b.
TEST(Task5Elementwise, GreaterOnTies) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 4; ++trial) {
      const Shape out = random_shape(rng, 1, 3, 4);
      auto [sa, sb] = trial == 0 ? std::pair{out, out} : strided_testing::random_broadcast_pair(rng, out);
      auto a = random_strided<float>(rng, sa), b = random_strided<float>(rng, sb);
      for (auto* x : {&a, &b}) {
        for (float& v : x->tensor.storage()->data) v = std::round(v * 2) / 2;  // -1, -0.5, -0, 0, 0.5, 1
        x->values = read(x->tensor);
      }
      ASSERT_TRUE(strided_testing::matches(dense::zip(a.values, b.values, [](double x, double y) { return x > y ? 1.0 : 0.0; }),
                                           read(ch02::greater(a.tensor, b.tensor)), 0, 0,
                                           "greater(a, b) on values that tie, a " + a.layout + ", b " + b.layout));
    }
  }
  const auto zero = ch02::FloatTensor::scalar(0.0f), minus_zero = ch02::FloatTensor::scalar(-0.0f);
  EXPECT_EQ(ch02::greater(zero, minus_zero).item(), 0.0f) << "0.0 > -0.0 is false: they are equal";
}

// Zero-sized tensors broadcast like any others and give zero-sized results, without a single
// element to compute (and without dividing by a zero-sized axis).
TEST(Task5Elementwise, ZeroSizedOperands) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{0, 3}, {3}}, {{2, 0}, {2, 1}}, {{0}, {}}, {{1, 0}, {4, 1}}, {{3, 0, 2}, {0, 2}}};
  for (const auto& [sa, sb] : cases) {
    const auto a = ch02::FloatTensor::zeros(sa), b = ch02::FloatTensor::full(sb, 1.0f);
    const Shape want = dense::broadcast(sa, sb);
    const std::string what = "add of " + dense::shape_str(sa) + " and " + dense::shape_str(sb);
    ASSERT_EQ(ch02::add(a, b).shape(), want) << what;
    EXPECT_EQ(ch02::add(a, b).numel(), 0) << what;
    EXPECT_EQ(ch02::mul(b, a).shape(), want) << "mul of " << dense::shape_str(sb) << " and " << dense::shape_str(sa);
    EXPECT_EQ(ch02::relu(a).shape(), sa) << "relu of " << dense::shape_str(sa);
  }
}

TEST(Task5Elementwise, Float64) {
  check_unary<double>("exp", ch02::exp, [](double v) { return std::exp(v); }, -5, 5, kDoubleRtol);
  check_binary<double>("mul", ch02::mul, std::multiplies<>(), -1, 1, kDoubleRtol);
  check_binary<double>("div", ch02::div, std::divides<>(), 0.5, 2, kDoubleRtol);
}

TEST(Task5Elementwise, OperatorsAndScalars) {
  const auto x = ch02::FloatTensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  const auto b = ch02::FloatTensor::from_vector({3}, {10, 20, 30});
  EXPECT_EQ(read(x + b).values, (std::vector<double>{11, 22, 33, 14, 25, 36})) << "x + b, b of shape (3,)";
  EXPECT_EQ(read(x * 2.0f).values, (std::vector<double>{2, 4, 6, 8, 10, 12})) << "x * 2";
  EXPECT_EQ(read(1.0f * x - 1.0f).values, (std::vector<double>{0, 1, 2, 3, 4, 5})) << "1 * x - 1";
  EXPECT_EQ(read(-x / 2.0f).values, (std::vector<double>{-0.5, -1, -1.5, -2, -2.5, -3})) << "-x / 2";
  EXPECT_EQ(read(x.transpose(0, 1) + x.transpose(0, 1)).shape, (Shape{3, 2}));
}

TEST(Task5Elementwise, OutputIsFreshAndContiguous) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Shape shape = random_shape(rng, 1, 4, 4);
    const auto a = random_strided<float>(rng, shape, strided_testing::Layout::kMixed);
    const auto b = random_strided<float>(rng, shape, strided_testing::Layout::kPermuted);
    const auto c = ch02::add(a.tensor, b.tensor);
    EXPECT_FALSE(c.shares_storage_with(a.tensor) || c.shares_storage_with(b.tensor));
    EXPECT_EQ(c.strides(), ch02::View::row_major(shape).strides)
        << "add of " << a.layout << " and " << b.layout << " must return a row-major tensor";
    EXPECT_EQ(c.offset(), 0);
  }
}

// Contiguous inputs that do not start at the beginning of their storage: the flat fast path
// must still start at the offset.
TEST(Task5Elementwise, ContiguousInputsAtAnOffset) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Shape shape = random_shape(rng, 1, 3, 4);
    const auto a = random_strided<float>(rng, shape, strided_testing::Layout::kShifted);
    const auto b = random_strided<float>(rng, shape, strided_testing::Layout::kShifted);
    ASSERT_TRUE(strided_testing::matches(dense::zip(a.values, b.values, std::multiplies<>()),
                                         read(ch02::mul(a.tensor, b.tensor)), kFloatRtol, 1e-30,
                                         "mul(a, b), a " + a.layout + ", b " + b.layout));
    ASSERT_TRUE(strided_testing::matches(dense::map(a.values, [](double v) { return -v; }),
                                         read(ch02::neg(a.tensor)), 0, 0, "neg(a), a " + a.layout));
  }
}

TEST(Task5Elementwise, ShapesThatDoNotBroadcastThrow) {
  const auto a = ch02::FloatTensor::zeros({2, 3});
  const auto b = ch02::FloatTensor::zeros({4, 3});
  EXPECT_THROW(ch02::add(a, b), std::invalid_argument);
  EXPECT_THROW(ch02::mul(a, ch02::FloatTensor::zeros({2})), std::invalid_argument);
  try {
    ch02::sub(a, b);
    FAIL() << "sub of (2, 3) and (4, 3) must throw";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << "the message should name both shapes: " << msg;
    EXPECT_NE(msg.find("(4, 3)"), std::string::npos) << "the message should name both shapes: " << msg;
  }
}

}  // namespace
