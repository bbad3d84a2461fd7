// Task 6: sum and max over random sets of axes, with and without keepdim, on random layouts,
// against tinyref in double (itself checked against the plain-loop oracle).
//
// Tolerance of sums: a float sum of n numbers in any order is within (n-1) * u * sum|x_i| of
// the exact sum (u = 2^-24; Higham, "Accuracy and Stability of Numerical Algorithms", 4.2), so
// the tests allow n * u * max(sum|x_i|) absolute error: a rigorous bound, whatever order your
// loops add in. max is exact.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
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

// A random subset of the axes of an ndim-d shape, in random order, some written negatively.
std::vector<int> random_axes(std::mt19937_64& rng, size_t ndim) {
  std::vector<int> axes;
  for (size_t a = 0; a < ndim; ++a) {
    if (rng() % 2) axes.push_back(rng() % 2 ? static_cast<int>(a) : static_cast<int>(a) - int(ndim));
  }
  std::shuffle(axes.begin(), axes.end(), rng);
  return axes;
}

std::string axes_str(const std::vector<int>& axes) {
  std::string s = "{";
  for (size_t i = 0; i < axes.size(); ++i) s += (i ? ", " : "") + std::to_string(axes[i]);
  return s + "}";
}

template <typename T>
double sum_atol(const Dense& x, const std::vector<int>& axes) {
  const Dense abs_sum = dense::reduce(dense::map(x, [](double v) { return std::fabs(v); }), axes,
                                      true, dense::Reduce::kSum);
  const double n = static_cast<double>(std::max<int64_t>(1, dense::count(x.shape) / std::max<int64_t>(1, dense::count(abs_sum.shape))));
  const double worst = abs_sum.values.empty() ? 0 : *std::max_element(abs_sum.values.begin(), abs_sum.values.end());
  return n * std::numeric_limits<T>::epsilon() / 2 * worst + 1e-30;
}

template <typename T>
void check_reduce(bool is_sum) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 6; ++trial) {
      const auto x = random_strided<T>(rng, random_shape(rng, 0, 4, 5));
      const std::vector<int> axes = random_axes(rng, x.tensor.ndim());
      const bool keepdim = rng() % 2;
      const Tensor<T> got = is_sum ? ch02::sum(x.tensor, axes, keepdim) : ch02::max(x.tensor, axes, keepdim);
      const dense::Reduce kind = is_sum ? dense::Reduce::kSum : dense::Reduce::kMax;
      const Dense want = tinyref_oracle::reduce(x.values, axes, keepdim, kind);
      ASSERT_TRUE(tinyref_oracle::agree(dense::reduce(x.values, axes, keepdim, kind), want, 1e-12,
                                        is_sum ? "sum" : "max"));
      ASSERT_TRUE(strided_testing::matches(
          want, read(got), 0, is_sum ? sum_atol<T>(x.values, axes) : 0,
          std::string(is_sum ? "sum" : "max") + "(x, " + axes_str(axes) + ", keepdim=" +
              (keepdim ? "true" : "false") + "), x " + x.layout));
    }
  }
}

TEST(Task6Reductions, SumOverRandomAxes) { check_reduce<float>(true); }
TEST(Task6Reductions, MaxOverRandomAxes) { check_reduce<float>(false); }
TEST(Task6Reductions, Float64) {
  check_reduce<double>(true);
  check_reduce<double>(false);
}

TEST(Task6Reductions, KeepdimKeepsReducedAxesAsOnes) {
  const auto x = ch02::FloatTensor::zeros({2, 3, 4});
  EXPECT_EQ(ch02::sum(x, {1}, true).shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(ch02::sum(x, {1}).shape(), (Shape{2, 4}));
  EXPECT_EQ(ch02::max(x, {0, -1}, true).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(ch02::max(x, {-1, 0}).shape(), (Shape{3}));
}

TEST(Task6Reductions, NoAxesArgumentReducesEverything) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const auto x = random_strided<float>(rng, random_shape(rng, 1, 4, 5));
    std::vector<int> all(x.tensor.ndim());
    std::iota(all.begin(), all.end(), 0);
    const auto s = ch02::sum(x.tensor);
    const auto m = ch02::max(x.tensor);
    EXPECT_EQ(s.shape(), Shape{}) << "sum(x) is a scalar";
    EXPECT_TRUE(strided_testing::matches(dense::reduce(x.values, all, false, dense::Reduce::kSum),
                                         read(s), 0, sum_atol<float>(x.values, all), "sum(x), x " + x.layout));
    EXPECT_TRUE(strided_testing::matches(dense::reduce(x.values, all, false, dense::Reduce::kMax),
                                         read(m), 0, 0, "max(x), x " + x.layout));
  }
}

TEST(Task6Reductions, EmptyAxesReduceNothing) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const auto x = random_strided<float>(rng, random_shape(rng, 1, 3, 4));
    EXPECT_TRUE(strided_testing::matches(x.values, read(ch02::sum(x.tensor, {})), 0, 0,
                                         "sum(x, {}) of " + x.layout + " must equal x"));
  }
}

// A max that starts from 0 instead of -infinity is right for any group holding a positive
// number; these groups hold none.
TEST(Task6Reductions, MaxOfNegativesAndInfinities) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    auto x = random_strided<float>(rng, random_shape(rng, 1, 3, 4), strided_testing::Layout::kAny, -3, -0.5);
    x.tensor.storage()->data.front() = -std::numeric_limits<float>::infinity();
    x.values = read(x.tensor);
    const std::vector<int> axes = random_axes(rng, x.tensor.ndim());
    ASSERT_TRUE(strided_testing::matches(dense::reduce(x.values, axes, false, dense::Reduce::kMax),
                                         read(ch02::max(x.tensor, axes)), 0, 0,
                                         "max(x, " + axes_str(axes) + ") of negative x, " + x.layout));
  }
}

// Sums over nothing are 0; a max over a non-empty axis of a tensor with no elements has no
// elements itself (only the max of an empty axis is an error).
TEST(Task6Reductions, ZeroSizedTensors) {
  const auto x = ch02::FloatTensor::zeros({2, 0, 3});
  EXPECT_EQ(read(ch02::sum(x, {1})).values, std::vector<double>(6, 0.0)) << "sum over an axis of size 0";
  EXPECT_EQ(ch02::sum(x, {1}).shape(), (Shape{2, 3}));
  EXPECT_EQ(ch02::sum(x, {1}, true).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(ch02::sum(x).item(), 0.0f) << "sum of a (2, 0, 3) tensor";
  EXPECT_EQ(ch02::sum(x, {0, 2}).shape(), (Shape{0})) << "sum over axes 0 and 2 keeps the empty axis";
  EXPECT_EQ(ch02::max(x, {2}).shape(), (Shape{2, 0})) << "max over a non-empty axis of a (2, 0, 3) tensor";
  EXPECT_THROW(ch02::max(x, {1}), std::invalid_argument) << "the max of an empty axis has no value";
}

TEST(Task6Reductions, BadAxesThrow) {
  const auto x = ch02::FloatTensor::zeros({2, 3});
  EXPECT_THROW(ch02::sum(x, {2}), std::invalid_argument) << "axis 2 of a 2-d tensor";
  EXPECT_THROW(ch02::sum(x, {-3}), std::invalid_argument) << "axis -3 of a 2-d tensor";
  EXPECT_THROW(ch02::max(x, {0, 0}), std::invalid_argument) << "axis 0 twice";
  EXPECT_THROW(ch02::sum(x, {1, -1}), std::invalid_argument) << "axes 1 and -1 are the same axis";
  EXPECT_THROW(ch02::max(ch02::FloatTensor::zeros({2, 0}), {1}), std::invalid_argument)
      << "the max of an empty axis has no value";
}

}  // namespace
