// Task 2: View::reshape. A reshape reads the same elements in the same row-major order under
// another shape; one View can do that when the axes it merges chain in memory (outer stride ==
// inner stride * inner size) and the axes it splits are cut evenly. Whatever View you return
// must read exactly the elements that plain loops say (dense reshape of the positions); where
// one View certainly can do it (splits, chained merges, axes of size 1, contiguous views), you
// must return one; a transposed matrix flattened cannot be one View, and you must say so.
#include <random>

#include "ch04/shapetracker.h"
#include "gtest/gtest.h"
#include "tests/04_lazy_tensors/lazy_testing.h"
#include "tests/04_lazy_tensors/moves.h"
#include "tests/testing/testing.h"

namespace {

using dense::Dense;
using moves::Kind;
using moves::Move;

// A random single View (no reshape in its history) with the positions it reads.
struct RandomView {
  ch04::View view;
  Dense positions;
  std::string how;
};

RandomView random_view(std::mt19937_64& rng, bool masks) {
  dense::Shape shape(std::uniform_int_distribution<int>(1, 4)(rng));
  for (int64_t& d : shape) d = std::uniform_int_distribution<int64_t>(1, 6)(rng);
  RandomView r{ch04::View::contiguous(shape), moves::positions(shape), "View::contiguous(" + dense::shape_str(shape) + ")"};
  const int steps = std::uniform_int_distribution<int>(0, 4)(rng);
  for (int i = 0; i < steps; ++i) {
    Move m = moves::random_move(rng, r.view.shape, 2048);
    if (m.kind == Kind::kReshape || (!masks && m.kind == Kind::kPad)) continue;
    r.view = moves::apply_to_view(m, r.view);
    r.positions = moves::apply(m, r.positions);
    r.how += "." + moves::describe(m);
  }
  return r;
}

// `got` (if any) reads, element by element, what the dense reshape of the positions says.
::testing::AssertionResult reads_like(const std::optional<ch04::View>& got, const Dense& positions,
                                      const dense::Shape& shape, const std::string& what) {
  if (!got) return ::testing::AssertionSuccess();
  if (got->shape != shape) {
    return ::testing::AssertionFailure() << what << ": the result has shape " << ch04::shape_str(got->shape);
  }
  const Dense want = dense::reshape(positions, shape);
  std::string first_bad;
  dense::for_each_index(shape, [&](const dense::Shape& idx) {
    const int64_t expected = static_cast<int64_t>(want.at(idx)) - 1;
    const int64_t position = got->valid(idx) ? got->position(idx) : -1;
    if (expected != position && first_bad.empty()) {
      first_bad = "element " + dense::shape_str(idx) + " reads " + std::to_string(position) + " (-1: padding), expected " +
                  std::to_string(expected);
    }
  });
  if (first_bad.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << " returned " << got->str() << "\n  " << first_bad;
}

TEST(Task2Reshape, ContiguousViewsReshapeToAnything) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 30; ++trial) {
      const RandomView r = random_view(rng, false);
      const ch04::View c = ch04::View::contiguous(r.view.shape);
      const dense::Shape target = moves::random_reshape(rng, c.shape);
      const std::optional<ch04::View> got = c.reshape(target);
      const std::string what = "View::contiguous(" + ch04::shape_str(c.shape) + ").reshape(" + ch04::shape_str(target) + ")";
      ASSERT_TRUE(got.has_value()) << what << ": a contiguous view can take any shape of its size";
      EXPECT_EQ(*got, ch04::View::contiguous(target)) << what;
    }
  }
}

TEST(Task2Reshape, ATransposeFlattenedIsNotOneView) {
  const ch04::View t = ch04::View::contiguous({2, 3}).permute({1, 0});  // (3, 2), strides (1, 3)
  const std::optional<ch04::View> flat = t.reshape({6});
  EXPECT_FALSE(flat.has_value()) << "(2, 3) transposed reads buffer positions 0 3 1 4 2 5: no single stride walks that, "
                                 << "yet reshape(6) returned " << (flat ? flat->str() : "");
  EXPECT_TRUE(reads_like(flat, moves::apply(Move{Kind::kPermute, {}, {1, 0}, {}, {}}, moves::positions({2, 3})), {6},
                         "transpose then reshape(6)"));
  const ch04::View rows = ch04::View::contiguous({1, 4}).expand({3, 4});  // strides (0, 1)
  EXPECT_FALSE(rows.reshape({12}).has_value()) << "a row read 3 times, flattened, repeats 0 1 2 3: not one stride";
}

TEST(Task2Reshape, SplittingAnAxisIsOneView) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 40; ++trial) {
      const RandomView r = random_view(rng, false);
      dense::Shape target = r.view.shape;
      size_t axis = target.size();
      int64_t factor = 1;
      for (size_t i = 0; i < target.size() && axis == target.size(); ++i) {
        for (int64_t f = 2; f < target[i]; ++f) {
          if (target[i] % f == 0) axis = i, factor = f;
        }
      }
      if (axis == target.size()) continue;
      target[axis] /= factor;
      target.insert(target.begin() + axis, factor);
      const std::string what = r.how + ".reshape(" + ch04::shape_str(target) + ")";
      const std::optional<ch04::View> got = r.view.reshape(target);
      ASSERT_TRUE(got.has_value()) << what << ": splitting an axis of " << r.view.str() << " needs no second view";
      EXPECT_TRUE(reads_like(got, r.positions, target, what));
    }
  }
}

TEST(Task2Reshape, MergingChainedAxesIsOneView) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    int merged = 0;
    for (int trial = 0; trial < 200 && merged < 30; ++trial) {
      const RandomView r = random_view(rng, false);
      const ch04::View& v = r.view;
      for (size_t i = 0; i + 1 < v.ndim(); ++i) {
        // Chained: stepping the outer axis once is stepping the inner one its size times.
        if (v.shape[i] == 1 || v.shape[i + 1] == 1 || v.strides[i] != v.strides[i + 1] * v.shape[i + 1]) continue;
        dense::Shape target = v.shape;
        target[i] *= target[i + 1];
        target.erase(target.begin() + i + 1);
        const std::string what = r.how + ".reshape(" + ch04::shape_str(target) + ")";
        const std::optional<ch04::View> got = v.reshape(target);
        ASSERT_TRUE(got.has_value()) << what << ": axes " << i << " and " << i + 1 << " of " << v.str()
                                     << " chain (outer stride = inner stride * inner size): one view can merge them";
        EXPECT_TRUE(reads_like(got, r.positions, target, what));
        ++merged;
      }
    }
  }
}

TEST(Task2Reshape, AxesOfSizeOneComeAndGoEvenWithPadding) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 40; ++trial) {
      const RandomView r = random_view(rng, true);
      dense::Shape target;
      for (int64_t d : r.view.shape) {
        if (d != 1) target.push_back(d);
      }
      target.insert(target.begin() + std::uniform_int_distribution<size_t>(0, target.size())(rng), 1);
      const std::string what = r.how + ".reshape(" + ch04::shape_str(target) + ")";
      const std::optional<ch04::View> got = r.view.reshape(target);
      ASSERT_TRUE(got.has_value()) << what << ": only axes of size 1 change, which read nothing";
      EXPECT_TRUE(reads_like(got, r.positions, target, what));
    }
  }
}

TEST(Task2Reshape, AnyReshapeOfAnyViewReadsTheRightElements) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 150; ++trial) {
      const RandomView r = random_view(rng, true);
      dense::Shape target = moves::random_reshape(rng, r.view.shape);
      if (trial % 2) target = moves::random_reshape(rng, target);
      const std::string what = r.how + ".reshape(" + ch04::shape_str(target) + ")";
      EXPECT_TRUE(reads_like(r.view.reshape(target), r.positions, target, what));
    }
  }
}

TEST(Task2Reshape, EmptyViewsAndAllPadding) {
  const ch04::View empty = ch04::View::contiguous({3, 4}).shrink({{1, 1}, {0, 4}});  // (0, 4)
  const std::optional<ch04::View> e = empty.reshape({4, 0, 2});
  ASSERT_TRUE(e.has_value()) << "a view with no elements can take any shape with no elements";
  EXPECT_EQ(e->shape, (ch04::Shape{4, 0, 2}));
  // (2, 3) padded by 2 rows after, then only the padding kept: every element invalid.
  const ch04::View padding = ch04::View::contiguous({2, 3}).pad({{0, 2}, {0, 0}}).shrink({{2, 4}, {0, 3}});
  const std::optional<ch04::View> p = padding.reshape({3, 2});
  ASSERT_TRUE(p.has_value()) << "all padding stays all padding under any shape: " << padding.str();
  dense::for_each_index({3, 2}, [&](const dense::Shape& idx) {
    EXPECT_FALSE(p->valid(idx)) << "element " << ch04::shape_str(idx) << " of " << p->str();
  });
}

}  // namespace
