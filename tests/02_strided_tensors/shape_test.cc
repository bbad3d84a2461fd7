// Tasks 1, 3 and 4 at the level of View: index arithmetic only, no tensors. Expected positions
// are computed by enumerating indices (the definition), never by a formula the code under test
// might share.
#include <algorithm>
#include <numeric>
#include <random>

#include "ch02/shape.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch02::Shape;
using ch02::View;
using strided_testing::random_shape;

// A random view of logical shape `shape` (any layout), as the tests' generator makes them.
View random_view(std::mt19937_64& rng, const Shape& shape) {
  return strided_testing::random_strided<float>(rng, shape).tensor.view();
}

// Whether the positions of `v`, in row-major order of its indices, are p, p+1, p+2, ...
bool enumerates_consecutively(const View& v) {
  int64_t i = 0, first = 0;
  bool ok = true;
  dense::for_each_index(v.shape, [&](const Shape& idx) {
    int64_t pos = v.offset;
    for (size_t a = 0; a < idx.size(); ++a) pos += idx[a] * v.strides[a];
    if (i == 0) first = pos;
    ok = ok && pos == first + i;
    ++i;
  });
  return ok;
}

int64_t expected_position(const View& v, const Shape& idx) {
  int64_t pos = v.offset;
  for (size_t a = 0; a < idx.size(); ++a) pos += idx[a] * v.strides[a];
  return pos;
}

std::string view_str(const View& v) {
  return "view shape " + dense::shape_str(v.shape) + " strides " + dense::shape_str(v.strides) +
         " offset " + std::to_string(v.offset);
}

TEST(Task1Strides, NumelIsTheProductOfTheSizes) {
  EXPECT_EQ(ch02::numel({}), 1) << "a scalar (shape ()) has one element";
  EXPECT_EQ(ch02::numel({3, 0, 2}), 0);
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Shape s = random_shape(rng, 0, 5, 6);
    EXPECT_EQ(ch02::numel(s), dense::count(s)) << "shape " << dense::shape_str(s);
  }
}

TEST(Task1Strides, RowMajorStridesStepOverTheAxesToTheRight) {
  EXPECT_EQ(ch02::row_major_strides({2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(ch02::row_major_strides({}), Shape{});
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Shape s = random_shape(rng, 1, 5, 6);
    Shape expected(s.size());
    for (size_t a = 0; a < s.size(); ++a) {
      Shape unit(s.size(), 0);
      unit[a] = 1;  // the row-major position of (0, .., 1, .., 0) is axis a's stride
      expected[a] = dense::flat(s, unit);
    }
    EXPECT_EQ(ch02::row_major_strides(s), expected) << "shape " << dense::shape_str(s);
  }
}

TEST(Task1Strides, PositionIsOffsetPlusIndexTimesStrides) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const View v = random_view(rng, random_shape(rng, 0, 4, 5));
    dense::for_each_index(v.shape, [&](const Shape& idx) {
      if (::testing::Test::HasFatalFailure()) return;  // report the first bad index only
      ASSERT_EQ(v.position(idx), expected_position(v, idx))
          << view_str(v) << ", index " << dense::shape_str(idx);
    });
    const View rm = View::row_major(v.shape);
    dense::for_each_index(rm.shape, [&](const Shape& idx) {
      if (::testing::Test::HasFatalFailure()) return;  // report the first bad index only
      ASSERT_EQ(rm.position(idx), dense::flat(rm.shape, idx))
          << "row-major " << view_str(rm) << ", index " << dense::shape_str(idx);
    });
  }
}

// Sizes, strides and positions are int64_t: a tensor past 2^31 elements (8 GiB of floats) or
// a view far into a big storage overflows an int. None of these cases allocates anything.
constexpr int64_t k2To31 = int64_t(1) << 31;

TEST(Task1Strides, IndexArithmeticPast2To31) {
  EXPECT_EQ(ch02::numel({65536, 65536}), int64_t(1) << 32) << "numel of (65536, 65536)";
  EXPECT_EQ(ch02::numel({3, k2To31}), 3 * k2To31) << "numel of (3, 2^31)";
  EXPECT_EQ(ch02::row_major_strides({3, 1 << 20, 1 << 12}), (Shape{int64_t(1) << 32, 1 << 12, 1}))
      << "row_major_strides of (3, 2^20, 2^12)";
  const View big{{3, 5}, {k2To31, 1}, 7};
  EXPECT_EQ(big.position({2, 4}), 2 * k2To31 + 4 + 7) << view_str(big) << ", index (2, 4)";
  EXPECT_TRUE(View::row_major({2, k2To31}).is_contiguous()) << "row-major (2, 2^31)";
  EXPECT_FALSE((View{{2, k2To31}, {1, 2}, 0}.is_contiguous())) << "a transposed (2, 2^31)";
}

TEST(Task1Strides, PositionRejectsBadIndices) {
  const View v = View::row_major({2, 3});
  EXPECT_THROW(v.position({1}), std::out_of_range) << "too few coordinates";
  EXPECT_THROW(v.position({0, 0, 0}), std::out_of_range) << "too many coordinates";
  EXPECT_THROW(v.position({2, 0}), std::out_of_range) << "row 2 of 2";
  EXPECT_THROW(v.position({0, -1}), std::out_of_range) << "negative coordinate";
}

TEST(Task1Strides, IsContiguousMeansConsecutivePositions) {
  EXPECT_TRUE(View::row_major({2, 3}).is_contiguous());
  EXPECT_TRUE((View{{2, 1, 3}, {3, 99, 1}, 5}.is_contiguous()))
      << "the stride of a size-1 axis never matters, nor does the offset";
  EXPECT_FALSE((View{{2, 3}, {1, 2}, 0}.is_contiguous())) << "a transpose";
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 20; ++trial) {
      const View v = random_view(rng, random_shape(rng, 0, 4, 4));
      ASSERT_EQ(v.is_contiguous(), enumerates_consecutively(v)) << view_str(v);
    }
  }
}

TEST(Task3Views, PermuteReordersShapeAndStrides) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const View v = random_view(rng, random_shape(rng, 1, 5, 4));
    std::vector<int> order(v.ndim());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const View p = v.permute(order);
    ASSERT_EQ(p.ndim(), v.ndim());
    for (size_t i = 0; i < order.size(); ++i) ASSERT_EQ(p.shape[i], v.shape[order[i]]);
    // Element idx of the permuted view is element (idx scattered back by order) of v.
    dense::for_each_index(p.shape, [&](const Shape& idx) {
      if (::testing::Test::HasFatalFailure()) return;  // report the first bad index only
      Shape src(idx.size());
      for (size_t i = 0; i < order.size(); ++i) src[order[i]] = idx[i];
      ASSERT_EQ(p.position(idx), v.position(src)) << view_str(v) << " permuted";
    });
  }
}

TEST(Task3Views, PermuteRejectsWhatIsNotAPermutation) {
  const View v = View::row_major({2, 3, 4});
  EXPECT_THROW(v.permute({0, 1}), std::invalid_argument);
  EXPECT_THROW(v.permute({0, 1, 1}), std::invalid_argument);
  EXPECT_THROW(v.permute({0, 1, 3}), std::invalid_argument);
  EXPECT_THROW(v.permute({0, -1, 2}), std::invalid_argument);
}

TEST(Task3Views, ExpandReadsTheSameElementAlongGrownAxes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Shape small = random_shape(rng, 1, 4, 4), big = small;
    for (size_t a = 0; a < small.size(); ++a) {
      if (rng() % 2) {
        small[a] = 1;
        big[a] = 1 + rng() % 5;
      }
    }
    const View v = random_view(rng, small);
    const View e = v.expand(big);
    ASSERT_EQ(e.shape, big);
    dense::for_each_index(big, [&](const Shape& idx) {
      if (::testing::Test::HasFatalFailure()) return;  // report the first bad index only
      Shape src = idx;
      for (size_t a = 0; a < src.size(); ++a) {
        if (small[a] == 1) src[a] = 0;
      }
      ASSERT_EQ(e.position(idx), v.position(src))
          << view_str(v) << " expanded to " << dense::shape_str(big);
    });
  }
}

TEST(Task3Views, ExpandRejectsGrowingAnAxisThatIsNotOne) {
  const View v = View::row_major({2, 1});
  EXPECT_THROW(v.expand({3, 4}), std::invalid_argument) << "axis 0 has size 2";
  EXPECT_THROW(v.expand({2, 4, 1}), std::invalid_argument) << "expand keeps the number of axes";
}

TEST(Task3Views, SliceWithStepsKeepsEveryStepthIndex) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 10; ++trial) {
      const View v = random_view(rng, random_shape(rng, 1, 4, 7));
      const int axis = static_cast<int>(rng() % v.ndim());
      const int64_t size = v.shape[axis];
      const int64_t start = rng() % (size + 1);
      const int64_t stop = start + rng() % (size - start + 1);
      const int64_t step = 1 + rng() % 3;
      const int signed_axis = rng() % 2 ? axis : axis - static_cast<int>(v.ndim());
      const View s = v.slice(signed_axis, start, stop, step);
      Shape expected_shape = v.shape;
      expected_shape[axis] = (stop - start + step - 1) / step;
      const std::string what = view_str(v) + " sliced [" + std::to_string(start) + ":" +
                               std::to_string(stop) + ":" + std::to_string(step) +
                               "] along axis " + std::to_string(signed_axis);
      ASSERT_EQ(s.shape, expected_shape) << what;
      dense::for_each_index(s.shape, [&](const Shape& idx) {
        if (::testing::Test::HasFatalFailure()) return;  // report the first bad index only
        Shape src = idx;
        src[axis] = start + idx[axis] * step;
        ASSERT_EQ(s.position(idx), v.position(src)) << what << ", index " << dense::shape_str(idx);
      });
    }
  }
}

TEST(Task3Views, SliceRejectsBadBounds) {
  const View v = View::row_major({4, 5});
  EXPECT_THROW(v.slice(1, 0, 6), std::invalid_argument) << "stop past the end";
  EXPECT_THROW(v.slice(1, 3, 2), std::invalid_argument) << "start after stop";
  EXPECT_THROW(v.slice(0, 0, 4, 0), std::invalid_argument) << "step 0";
  EXPECT_THROW(v.slice(2, 0, 1), std::invalid_argument) << "axis 2 of 2 axes";
}

TEST(Task3Views, ViewsOfViewsPast2To31) {
  const View rows = View::row_major({4, int64_t(1) << 30});
  const View s = rows.slice(0, 2, 4);
  EXPECT_EQ(s.offset, k2To31) << "slice(0, 2, 4) of " << view_str(rows) << " starts 2 rows in";
  EXPECT_EQ(s.position({1, 5}), 3 * (int64_t(1) << 30) + 5);
  const View p = rows.permute({1, 0}).slice(0, 1 << 29, 1 << 30, 1 << 28);
  EXPECT_EQ(p.shape, (Shape{2, 4}));
  EXPECT_EQ(p.position({1, 3}), 3 * (int64_t(1) << 30) + (1 << 29) + (1 << 28))
      << "permute then slice with a step of 2^28 of " << view_str(rows);
  const View e = View::row_major({1, 3}).expand({k2To31, 3});
  EXPECT_EQ(e.position({k2To31 - 1, 2}), 2) << "an expanded axis of 2^31 rows reads row 0";
  const std::optional<View> r = View::row_major({2, 3, k2To31}).reshape({6, k2To31});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->strides, (Shape{k2To31, 1}));
}

TEST(Task3Views, ReshapeOfAContiguousViewIsAView) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Shape from = random_shape(rng, 1, 4, 4);
    // The same elements regrouped: factor the count into a random new shape.
    Shape to;
    int64_t rest = dense::count(from);
    while (rest > 1) {
      int64_t d = 1 + rng() % rest;
      while (rest % d != 0) --d;
      to.push_back(d);
      rest /= d;
    }
    View v = View::row_major(from);
    v.offset = rng() % 5;  // a contiguous block need not start at 0
    const std::optional<View> r = v.reshape(to);
    ASSERT_TRUE(r.has_value()) << view_str(v) << " reshaped to " << dense::shape_str(to);
    ASSERT_EQ(r->shape, to);
    dense::for_each_index(to, [&](const Shape& idx) {
      if (::testing::Test::HasFatalFailure()) return;  // report the first bad index only
      ASSERT_EQ(r->position(idx), v.offset + dense::flat(to, idx))
          << view_str(v) << " reshaped to " << dense::shape_str(to);
    });
  }
}

TEST(Task3Views, ReshapeOfANonContiguousViewNeedsACopy) {
  EXPECT_FALSE(View::row_major({2, 3}).permute({1, 0}).reshape({6}).has_value());
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 10; ++trial) {
      const View v = random_view(rng, random_shape(rng, 2, 4, 4));
      if (enumerates_consecutively(v)) continue;
      EXPECT_FALSE(v.reshape({v.numel()}).has_value()) << view_str(v);
    }
  }
  EXPECT_THROW(View::row_major({2, 3}).reshape({4}), std::invalid_argument) << "6 elements into 4";
}

TEST(Task4Broadcasting, BroadcastShapesFollowsNumpy) {
  EXPECT_EQ(ch02::broadcast_shapes({4, 1, 3}, {5, 1}), (Shape{4, 5, 3}));
  EXPECT_EQ(ch02::broadcast_shapes({}, {2, 3}), (Shape{2, 3}));
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 10; ++trial) {
      const Shape out = random_shape(rng, 0, 5, 4);
      auto [a, b] = strided_testing::random_broadcast_pair(rng, out);
      EXPECT_EQ(ch02::broadcast_shapes(a, b), dense::broadcast(a, b))
          << dense::shape_str(a) << " with " << dense::shape_str(b);
    }
  }
}

// An axis of size 0 broadcasts like any size but 1: against 1 it stays 0, against anything
// else it does not fit. (A "take the larger size" rule gets (1,) for (0,) with (1,).)
TEST(Task4Broadcasting, ZeroSizedAxesBroadcast) {
  EXPECT_EQ(ch02::broadcast_shapes({0}, {1}), (Shape{0}));
  EXPECT_EQ(ch02::broadcast_shapes({1}, {0}), (Shape{0}));
  EXPECT_EQ(ch02::broadcast_shapes({0, 3}, {1, 3}), (Shape{0, 3}));
  EXPECT_EQ(ch02::broadcast_shapes({2, 0}, {2, 1}), (Shape{2, 0}));
  EXPECT_EQ(ch02::broadcast_shapes({}, {0}), (Shape{0}));
  EXPECT_EQ(ch02::broadcast_shapes({5, 1, 0}, {4, 1}), (Shape{5, 4, 0}));
  EXPECT_THROW(ch02::broadcast_shapes({0}, {5}), std::invalid_argument) << "sizes 0 and 5";
  EXPECT_THROW(ch02::broadcast_shapes({2, 0}, {2, 3}), std::invalid_argument) << "sizes 0 and 3";
  const View b = View::row_major({1, 3}).broadcast_to({0, 3});
  EXPECT_EQ(b.shape, (Shape{0, 3}));
  EXPECT_EQ(b.numel(), 0);
}

TEST(Task4Broadcasting, BroadcastShapesRejectsMismatchedSizes) {
  EXPECT_THROW(ch02::broadcast_shapes({2, 3}, {4, 3}), std::invalid_argument);
  EXPECT_THROW(ch02::broadcast_shapes({3}, {4}), std::invalid_argument);
  EXPECT_THROW(ch02::broadcast_shapes({2, 1, 3}, {2, 2}), std::invalid_argument);
}

TEST(Task4Broadcasting, ViewBroadcastToAddsAxesOnTheLeftAndExpands) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Shape out = random_shape(rng, 1, 5, 4);
    const Shape in = strided_testing::random_broadcast_pair(rng, out).first;
    const View v = random_view(rng, in);
    const View b = v.broadcast_to(out);
    ASSERT_EQ(b.shape, out) << view_str(v);
    const size_t lead = out.size() - in.size();
    dense::for_each_index(out, [&](const Shape& idx) {
      if (::testing::Test::HasFatalFailure()) return;  // report the first bad index only
      Shape src(in.size());
      for (size_t a = 0; a < in.size(); ++a) src[a] = in[a] == 1 ? 0 : idx[lead + a];
      ASSERT_EQ(b.position(idx), v.position(src))
          << view_str(v) << " broadcast to " << dense::shape_str(out);
    });
  }
  EXPECT_THROW(View::row_major({3}).broadcast_to({2, 4}), std::invalid_argument);
  EXPECT_THROW(View::row_major({2, 3}).broadcast_to({3}), std::invalid_argument)
      << "broadcasting never removes axes";
}

}  // namespace
