// Tasks 2, 3 and 4 at the level of Tensor: storage, element access, copies and views. Inputs
// are built by the test (strided_testing.h) and results read straight from storage, so each
// case exercises only the functions it names.
#include <random>

#include "ch02/tensor.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch02::FloatTensor;
using ch02::Shape;
using strided_testing::Dense;
using strided_testing::Layout;
using strided_testing::random_shape;
using strided_testing::random_strided;
using strided_testing::read;

// Whether the view's positions, in row-major order of its indices, are p, p+1, ...
bool laid_out_row_major(const FloatTensor& t) {
  int64_t i = 0, first = 0;
  bool ok = true;
  dense::for_each_index(t.shape(), [&](const Shape& idx) {
    int64_t pos = t.offset();
    for (size_t a = 0; a < idx.size(); ++a) pos += idx[a] * t.strides()[a];
    if (i == 0) first = pos;
    ok = ok && pos == first + i;
    ++i;
  });
  return ok;
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

TEST(Task2Storage, FromVectorLaysValuesOutRowMajor) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Shape shape = random_shape(rng, 0, 4, 5);
    const Dense want = strided_testing::round_to<float>(dense::random(rng, shape));
    const FloatTensor t = FloatTensor::from_vector(shape, {want.values.begin(), want.values.end()});
    EXPECT_TRUE(strided_testing::matches(want, read(t), 0, 0, "from_vector " + dense::shape_str(shape)));
    EXPECT_TRUE(laid_out_row_major(t)) << "from_vector must give row-major strides";
  }
  EXPECT_THROW(FloatTensor::from_vector({2, 3}, {1, 2, 3}), std::invalid_argument)
      << "3 values for 6 elements";
}

TEST(Task2Storage, FullAndZerosFillEveryElement) {
  const FloatTensor f = FloatTensor::full({2, 3, 2}, 7.5f);
  EXPECT_EQ(read(f).values, std::vector<double>(12, 7.5));
  const FloatTensor z = FloatTensor::zeros({4});
  EXPECT_EQ(read(z).values, std::vector<double>(4, 0.0));
  const FloatTensor s = FloatTensor::scalar(3);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(read(s).values, std::vector<double>{3.0});
}

TEST(Task2Storage, AtReadsThroughAnyView) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const auto x = random_strided<float>(rng, random_shape(rng, 0, 4, 4));
    dense::for_each_index(x.values.shape, [&](const Shape& idx) {
      if (::testing::Test::HasFatalFailure()) return;  // report the first bad index only
      ASSERT_EQ(x.tensor.at(idx), x.values.at(idx)) << x.layout << ", index " << dense::shape_str(idx);
    });
  }
  const FloatTensor t = FloatTensor::zeros({2, 3});
  EXPECT_THROW(t.at({2, 0}), std::out_of_range);
  EXPECT_THROW(t.at({0}), std::out_of_range);
}

TEST(Task2Storage, SetWritesIntoTheSharedStorage) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    auto x = random_strided<float>(rng, random_shape(rng, 1, 4, 4), Layout::kMixed);
    // A second tensor on the same storage, row-major over all of it.
    const FloatTensor whole(x.tensor.storage(),
                            ch02::View{{int64_t(x.tensor.storage()->data.size())}, {1}, 0});
    Shape idx(x.tensor.ndim());
    for (size_t a = 0; a < idx.size(); ++a) idx[a] = rng() % x.tensor.shape()[a];
    int64_t pos = x.tensor.offset();
    for (size_t a = 0; a < idx.size(); ++a) pos += idx[a] * x.tensor.strides()[a];
    x.tensor.set(idx, 42.0f);
    EXPECT_EQ(whole.storage()->data[pos], 42.0f)
        << x.layout << ": set(" << dense::shape_str(idx) << ") must write storage position " << pos;
    EXPECT_EQ(x.tensor.at(idx), 42.0f);
  }
  FloatTensor t = FloatTensor::zeros({2});
  EXPECT_THROW(t.set({5}, 1.0f), std::out_of_range);
}

TEST(Task2Storage, ItemNeedsExactlyOneElement) {
  EXPECT_EQ(FloatTensor::scalar(2.5f).item(), 2.5f);
  EXPECT_EQ(FloatTensor::full({1, 1, 1}, -1.0f).item(), -1.0f);
  EXPECT_THROW(FloatTensor::zeros({2}).item(), std::invalid_argument);
}

TEST(Task2Storage, ToVectorListsTheViewInRowMajorOrder) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (Layout layout : {Layout::kRowMajor, Layout::kPermuted, Layout::kSliced,
                          Layout::kExpanded, Layout::kMixed, Layout::kShifted}) {
      const auto x = random_strided<float>(rng, random_shape(rng, 0, 4, 4), layout);
      EXPECT_TRUE(testing_util::all_close(x.values.values, widen(x.tensor.to_vector()), 0, 0,
                                          "to_vector of " + x.layout));
    }
  }
}

TEST(Task2Storage, ContiguousCopiesOnlyWhenItMust) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (Layout layout : {Layout::kRowMajor, Layout::kPermuted, Layout::kSliced,
                          Layout::kExpanded, Layout::kMixed, Layout::kShifted}) {
      const auto x = random_strided<float>(rng, random_shape(rng, 1, 4, 4), layout);
      const FloatTensor c = x.tensor.contiguous();
      EXPECT_TRUE(strided_testing::matches(x.values, read(c), 0, 0, "contiguous() of " + x.layout));
      EXPECT_TRUE(laid_out_row_major(c)) << "contiguous() of " << x.layout;
      if (laid_out_row_major(x.tensor)) {
        EXPECT_TRUE(c.shares_storage_with(x.tensor))
            << x.layout << " is already contiguous: contiguous() must not copy";
      } else {
        EXPECT_FALSE(c.shares_storage_with(x.tensor)) << x.layout << " needs a copy";
      }
    }
  }
}

TEST(Task2Storage, CloneAlwaysCopies) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const auto x = random_strided<float>(rng, random_shape(rng, 1, 4, 4));
    FloatTensor c = x.tensor.clone();
    EXPECT_FALSE(c.shares_storage_with(x.tensor)) << "clone of " << x.layout;
    EXPECT_TRUE(strided_testing::matches(x.values, read(c), 0, 0, "clone() of " + x.layout));
    c.set(Shape(c.ndim(), 0), 1000.0f);
    EXPECT_EQ(read(x.tensor).values, x.values.values) << "writing the clone changed the original";
  }
}

TEST(Task3Views, MovementOpsShareStorageAndShowTheRightElements) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const auto x = random_strided<float>(rng, random_shape(rng, 2, 4, 4));
    const size_t n = x.tensor.ndim();

    std::vector<int> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<int>(n - 1 - i);
    const FloatTensor p = x.tensor.permute(order);
    EXPECT_TRUE(p.shares_storage_with(x.tensor)) << "permute copied";
    EXPECT_TRUE(strided_testing::matches(dense::permute(x.values, order), read(p), 0, 0,
                                         "permute (reversed axes) of " + x.layout));

    const FloatTensor t = x.tensor.transpose(0, -1);
    std::vector<int> swap(n);
    for (size_t i = 0; i < n; ++i) swap[i] = static_cast<int>(i);
    std::swap(swap[0], swap[n - 1]);
    EXPECT_TRUE(t.shares_storage_with(x.tensor)) << "transpose copied";
    EXPECT_TRUE(strided_testing::matches(dense::permute(x.values, swap), read(t), 0, 0,
                                         "transpose(0, -1) of " + x.layout));

    const int64_t size = x.tensor.shape()[1];
    const FloatTensor s = x.tensor.slice(1, 0, size, 2);
    EXPECT_TRUE(s.shares_storage_with(x.tensor)) << "slice copied";
    Dense want{s.shape(), {}};
    dense::for_each_index(s.shape(), [&](const Shape& idx) {
      Shape src = idx;
      src[1] *= 2;
      want.values.push_back(x.values.at(src));
    });
    EXPECT_TRUE(strided_testing::matches(want, read(s), 0, 0, "slice(1, 0, n, 2) of " + x.layout));

    Shape one = x.tensor.shape();
    one[0] = 1;
    Shape big = one;
    big[0] = 3;
    const FloatTensor e = x.tensor.slice(0, 0, 1).expand(big);
    EXPECT_TRUE(e.shares_storage_with(x.tensor)) << "expand copied";
    Dense first_row{one, {}};
    dense::for_each_index(one, [&](const Shape& idx) { first_row.values.push_back(x.values.at(idx)); });
    EXPECT_TRUE(strided_testing::matches(dense::expand_to(first_row, big), read(e), 0, 0,
                                         "slice(0, 0, 1).expand of " + x.layout));
  }
}

TEST(Task3Views, WritesThroughAViewAreSeenByTheOriginal) {
  FloatTensor a = FloatTensor::from_vector({2, 3}, {0, 1, 2, 3, 4, 5});
  FloatTensor t = a.transpose(0, 1);
  t.set({2, 1}, 50);
  EXPECT_EQ(a.at({1, 2}), 50) << "t = a.transpose(0, 1); t.set({2, 1}, 50) must change a(1, 2)";
  FloatTensor col = a.slice(1, 1, 2);
  col.set({0, 0}, -1);
  EXPECT_EQ(a.at({0, 1}), -1) << "a.slice(1, 1, 2).set({0, 0}, -1) must change a(0, 1)";
}

TEST(Task3Views, ReshapeIsAViewWhenContiguousAndACopyOtherwise) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (Layout layout : {Layout::kRowMajor, Layout::kPermuted, Layout::kSliced, Layout::kMixed,
                          Layout::kShifted}) {
      const auto x = random_strided<float>(rng, random_shape(rng, 1, 4, 4), layout);
      const Shape flat_shape{x.tensor.numel()};
      const FloatTensor r = x.tensor.reshape(flat_shape);
      EXPECT_TRUE(strided_testing::matches(dense::reshape(x.values, flat_shape), read(r), 0, 0,
                                           "reshape to 1-d of " + x.layout));
      EXPECT_EQ(r.shares_storage_with(x.tensor), laid_out_row_major(x.tensor))
          << x.layout << ": reshape must be a view exactly when the tensor is contiguous";
      const FloatTensor back = r.reshape(x.tensor.shape());
      EXPECT_TRUE(back.shares_storage_with(r)) << "reshaping a contiguous result must not copy";
      EXPECT_TRUE(strided_testing::matches(x.values, read(back), 0, 0, "reshape back of " + x.layout));
    }
  }
  EXPECT_THROW(FloatTensor::zeros({2, 3}).reshape({5}), std::invalid_argument);
}

TEST(Task4Broadcasting, BroadcastToIsAZeroCopyView) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Shape out = random_shape(rng, 1, 4, 4);
    const Shape in = strided_testing::random_broadcast_pair(rng, out).first;
    const auto x = random_strided<float>(rng, in);
    const FloatTensor b = x.tensor.broadcast_to(out);
    EXPECT_TRUE(b.shares_storage_with(x.tensor)) << "broadcast_to copied";
    EXPECT_TRUE(strided_testing::matches(dense::expand_to(x.values, out), read(b), 0, 0,
                                         x.layout + " broadcast to " + dense::shape_str(out)));
  }
  EXPECT_THROW(FloatTensor::zeros({2, 3}).broadcast_to({3, 3}), std::invalid_argument);
}

}  // namespace
