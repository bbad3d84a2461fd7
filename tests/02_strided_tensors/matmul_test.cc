// Tasks 7 and 8: matmul on random shapes and layouts (row-major, transposed, sliced), against
// tinyref in double (itself checked against the plain-loop oracle).
//
// Tolerance: each output is a dot product of K float products; any summation order keeps the
// error within gamma_(K+1) * sum_k |a_ik| |b_kj| (Higham, 3.1; the +1 covers rounding the
// result). The tests allow (K+1) * u * max_ij (|A| |B|)_ij, a rigorous bound for every
// blocking, threading or vectorization you choose.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <random>
#include <sstream>

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
using strided_testing::Layout;
using strided_testing::random_strided;
using strided_testing::read;

template <typename T>
using MatmulOp = Tensor<T> (*)(const Tensor<T>&, const Tensor<T>&);

template <typename T>
double matmul_atol(const Dense& a, const Dense& b) {
  auto abs = [](const Dense& d) { return dense::map(d, [](double v) { return std::fabs(v); }); };
  const Dense bound = dense::matmul(abs(a), abs(b));
  const double worst = bound.values.empty() ? 0 : *std::max_element(bound.values.begin(), bound.values.end());
  return (a.shape[1] + 1) * std::numeric_limits<T>::epsilon() / 2 * worst + 1e-30;
}

// The same rigorous bound with (|A| |B|)_ij <= |row i of A| |column j of B| (Cauchy-Schwarz)
// in place of a second product: for K in the thousands that product costs as much as the
// reference itself, and on values uniform in [-1, 1] the bound is only about 4/3 looser.
double matmul_atol_cauchy_schwarz(const Dense& a, const Dense& b) {
  const int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
  std::vector<double> row_norm2(m, 0.0), col_norm2(n, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t p = 0; p < k; ++p) row_norm2[i] += a.values[i * k + p] * a.values[i * k + p];
  }
  for (int64_t p = 0; p < k; ++p) {
    for (int64_t j = 0; j < n; ++j) col_norm2[j] += b.values[p * n + j] * b.values[p * n + j];
  }
  const double worst = std::sqrt(*std::max_element(row_norm2.begin(), row_norm2.end()) *
                                 *std::max_element(col_norm2.begin(), col_norm2.end()));
  // (1 + 1e-9): room for the double rounding of the norms themselves (about K * 2^-53).
  return (k + 1) * std::numeric_limits<float>::epsilon() / 2 * worst * (1 + 1e-9) + 1e-30;
}

// An (rows, cols) operand: row-major (at offset 0 or not), transposed, sliced, or all at once.
template <typename T>
strided_testing::Strided<T> operand(std::mt19937_64& rng, int64_t rows, int64_t cols) {
  const Layout layouts[] = {Layout::kRowMajor, Layout::kPermuted, Layout::kSliced, Layout::kMixed,
                            Layout::kShifted};
  return random_strided<T>(rng, {rows, cols}, layouts[rng() % 5]);
}

template <typename T>
void check_matmul(const char* name, MatmulOp<T> op, int64_t max_m, int64_t max_k, int64_t max_n,
                  int trials) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < trials; ++trial) {
      const int64_t m = 1 + rng() % max_m, k = 1 + rng() % max_k, n = 1 + rng() % max_n;
      const auto a = operand<T>(rng, m, k);
      const auto b = operand<T>(rng, k, n);
      const Tensor<T> c = op(a.tensor, b.tensor);
      const Dense want = tinyref_oracle::matmul(a.values, b.values);
      ASSERT_TRUE(tinyref_oracle::agree(dense::matmul(a.values, b.values), want, 1e-12, "matmul"));
      ASSERT_TRUE(strided_testing::matches(want, read(c), 0,
                                           matmul_atol<T>(a.values, b.values),
                                           std::string(name) + "(a, b), a " + a.layout + ", b " + b.layout));
    }
  }
}

void check_bad_shapes(MatmulOp<float> op) {
  using ch02::FloatTensor;
  EXPECT_THROW(op(FloatTensor::zeros({2, 3}), FloatTensor::zeros({2, 3})), std::invalid_argument)
      << "(2, 3) @ (2, 3)";
  EXPECT_THROW(op(FloatTensor::zeros({3}), FloatTensor::zeros({3, 2})), std::invalid_argument)
      << "a 1-d left operand";
  EXPECT_THROW(op(FloatTensor::zeros({2, 2, 2}), FloatTensor::zeros({2, 2})), std::invalid_argument)
      << "a 3-d left operand";
}

// Empty products: K = 0 gives zeros (a sum of nothing), M or N = 0 gives no elements.
void check_zero_sized(const char* name, MatmulOp<float> op) {
  using ch02::FloatTensor;
  EXPECT_EQ(read(op(FloatTensor::zeros({3, 0}), FloatTensor::zeros({0, 4}))).values, std::vector<double>(12, 0.0))
      << name << " of (3, 0) @ (0, 4) is a (3, 4) tensor of zeros";
  EXPECT_EQ(op(FloatTensor::zeros({0, 5}), FloatTensor::zeros({5, 3})).shape(), (Shape{0, 3})) << name;
  EXPECT_EQ(op(FloatTensor::zeros({2, 5}), FloatTensor::zeros({5, 0})).shape(), (Shape{2, 0})) << name;
}

TEST(Task7MatmulNaive, SmallShapesAnyLayout) { check_matmul<float>("matmul_naive", ch02::matmul_naive, 12, 12, 12, 6); }
TEST(Task7MatmulNaive, Float64) { check_matmul<double>("matmul_naive", ch02::matmul_naive, 12, 12, 12, 3); }
TEST(Task7MatmulNaive, OuterAndInnerProducts) {
  const auto col = ch02::FloatTensor::from_vector({3, 1}, {1, 2, 3});
  const auto row = ch02::FloatTensor::from_vector({1, 3}, {4, 5, 6});
  EXPECT_EQ(read(ch02::matmul_naive(row, col)).values, std::vector<double>{32});
  EXPECT_EQ(read(ch02::matmul_naive(col, row)).values,
            (std::vector<double>{4, 5, 6, 8, 10, 12, 12, 15, 18}));
}
TEST(Task7MatmulNaive, BadShapesThrow) { check_bad_shapes(ch02::matmul_naive); }
TEST(Task7MatmulNaive, ZeroSizedOperands) { check_zero_sized("matmul_naive", ch02::matmul_naive); }

// Shapes up to 80 cross the edges of any register tile; K up to 600 crosses a typical K block.
TEST(Task8MatmulBlocked, ShapesAcrossBlockEdges) { check_matmul<float>("matmul", ch02::matmul, 80, 80, 80, 6); }
TEST(Task8MatmulBlocked, LongInnerDimension) { check_matmul<float>("matmul", ch02::matmul, 40, 600, 40, 2); }
TEST(Task8MatmulBlocked, LargeTransposedOperands) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t m = 150 + rng() % 60, k = 250 + rng() % 60, n = 130 + rng() % 60;
    const auto a = random_strided<float>(rng, {m, k}, Layout::kPermuted);
    const auto b = random_strided<float>(rng, {k, n}, Layout::kPermuted);
    // The plain loops alone here: tinyref's INTERP backend needs seconds for a product this
    // size, and the smaller cases above already hold the two oracles to each other.
    const Dense want = dense::matmul(a.values, b.values);
    ASSERT_TRUE(strided_testing::matches(want, read(ch02::matmul(a.tensor, b.tensor)),
                                         0, matmul_atol<float>(a.values, b.values),
                                         "matmul(a, b), a " + a.layout + ", b " + b.layout));
  }
}
// Products big enough for any sensible threading threshold (tens of millions of multiply-adds)
// and past any blocking: K > 256 (several K slabs), N > 1024 (several column panels), M and N
// off the register tile (6 x 8 or anything else). Run on 4 threads whatever the machine, so a
// race between threads (two threads adding into one C tile, or packing into one buffer) shows.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : previous_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(previous_); }

 private:
  int previous_;
};

TEST(Task8MatmulBlocked, ParallelProductsPastEveryBlock) {
  const ThreadCount threads(4);
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t shapes[][3] = {{259 + int64_t(rng() % 5), 270 + int64_t(rng() % 40), 261 + int64_t(rng() % 7)},
                                 {61 + int64_t(rng() % 11), 280 + int64_t(rng() % 20), 1030 + int64_t(rng() % 21)}};
    for (const auto& [m, k, n] : shapes) {
      const auto a = operand<float>(rng, m, k);
      const auto b = operand<float>(rng, k, n);
      const Dense want = dense::matmul(a.values, b.values);
      ASSERT_TRUE(strided_testing::matches(want, read(ch02::matmul(a.tensor, b.tensor)), 0,
                                           matmul_atol<float>(a.values, b.values),
                                           "matmul(a, b) of (" + std::to_string(m) + ", " + std::to_string(k) +
                                               ") @ (" + std::to_string(k) + ", " + std::to_string(n) +
                                               ") on 4 threads, a " + a.layout + ", b " + b.layout));
    }
  }
}

// A race shows only when threads overlap in time, and on a busy machine a product of a few
// milliseconds can finish on one thread before the OS starts the next: the case above, whose K
// is two blocks of 256, passed a matmul that split the K loop between threads on a loaded
// 2-core machine. Here K spans 32 blocks of 256 (more of any smaller block), so whichever loop
// is split between the 4 threads, each has several blocks of work in flight at once, and the
// product runs kRuns times. Every run must match the float64 reference, and every run must
// give the same bits as the first: a correct blocked matmul adds each C value's products in an
// order fixed by the blocking, never by which thread got there first.
std::string first_difference(const Dense& first, const Dense& again, int64_t n) {
  int64_t differ = 0, at = -1;
  for (size_t i = 0; i < first.values.size(); ++i) {
    if (std::memcmp(&first.values[i], &again.values[i], sizeof(double)) != 0) {
      if (at < 0) at = int64_t(i);
      ++differ;
    }
  }
  if (differ == 0) return "";
  std::ostringstream out;
  out << std::setprecision(9) << differ << " of " << first.values.size() << " values differ, the first at ["
      << at / n << ", " << at % n << "]: " << first.values[at] << " on the first run, " << again.values[at]
      << " on this one";
  return out.str();
}

TEST(Task8MatmulBlocked, RepeatedParallelRunsAreExactAndIdentical) {
  constexpr int kRuns = 4;
  const ThreadCount threads(4);
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t m = 90 + rng() % 12, k = 32 * 256 + rng() % 200, n = 90 + rng() % 14;
    // Layouts without slicing: a sliced operand this long costs more to build than to multiply.
    const Layout layouts[] = {Layout::kRowMajor, Layout::kPermuted, Layout::kShifted};
    const auto a = random_strided<float>(rng, {m, k}, layouts[rng() % 3]);
    const auto b = random_strided<float>(rng, {k, n}, layouts[rng() % 3]);
    const std::string what = "matmul(a, b) of (" + std::to_string(m) + ", " + std::to_string(k) + ") @ (" +
                             std::to_string(k) + ", " + std::to_string(n) + ") on 4 threads, a " + a.layout +
                             ", b " + b.layout;
    const Dense want = dense::matmul(a.values, b.values);
    const double atol = matmul_atol_cauchy_schwarz(a.values, b.values);
    const Dense first = read(ch02::matmul(a.tensor, b.tensor));
    ASSERT_TRUE(strided_testing::matches(want, first, 0, atol, what + ", run 1"));
    for (int run = 2; run <= kRuns; ++run) {
      const Dense again = read(ch02::matmul(a.tensor, b.tensor));
      ASSERT_TRUE(strided_testing::matches(want, again, 0, atol, what + ", run " + std::to_string(run)));
      const std::string difference = first_difference(first, again, n);
      ASSERT_TRUE(difference.empty())
          << what << ", run " << run << " is not bit-identical to run 1: " << difference << ". The same product must give the "
          << "same bits every time; results that change between runs mean threads race: two of them "
          << "add into the same C values, or pack into the same buffer, at once.";
    }
  }
}

TEST(Task8MatmulBlocked, ZeroSizedOperands) { check_zero_sized("matmul", ch02::matmul); }

TEST(Task8MatmulBlocked, Float64) { check_matmul<double>("matmul", ch02::matmul, 40, 300, 40, 2); }
TEST(Task8MatmulBlocked, BadShapesThrow) { check_bad_shapes(ch02::matmul); }

}  // namespace
