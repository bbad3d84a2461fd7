// Task 1: one View and its five movement ops. Every View you build is compared field by field
// with tinyref's (both keep the canonical form of shapetracker.h, so equal views compare equal)
// and element by element with plain loops over a dense array (moves.h).
#include <algorithm>
#include <optional>
#include <random>

#include "ch04/shapetracker.h"
#include "gtest/gtest.h"
#include "tests/04_lazy_tensors/lazy_testing.h"
#include "tests/04_lazy_tensors/moves.h"
#include "tests/testing/testing.h"
#include "tinyref/shape/view.h"

namespace {

using dense::Dense;
using moves::Kind;
using moves::Move;

// A random move of the given kind (or of any kind but reshape when kind is empty). An expand
// needs an axis of size 1 and a pad room to grow: without, a shrink of the largest axis to one
// element comes first (and is returned instead).
Move random_view_move(std::mt19937_64& rng, const dense::Shape& shape, std::optional<Kind> kind = std::nullopt) {
  const bool no_size_one = std::find(shape.begin(), shape.end(), 1) == shape.end();
  if ((kind == Kind::kExpand && no_size_one) || (kind == Kind::kPad && dense::count(shape) > 2048)) {
    Move m{Kind::kShrink, {}, {}, {}, {}};
    for (int64_t d : shape) m.pairs.push_back({0, d});
    const size_t axis = std::max_element(shape.begin(), shape.end()) - shape.begin();
    m.pairs[axis] = {shape[axis] / 2, shape[axis] / 2 + 1};
    return m;
  }
  for (int tries = 0; tries < 1000; ++tries) {
    Move m = moves::random_move(rng, shape, 1 << 14);
    if (m.kind != Kind::kReshape && (!kind || m.kind == *kind)) return m;
  }
  ADD_FAILURE() << "no such move for shape " << dense::shape_str(shape);
  return Move{Kind::kFlip, {}, {}, {}, std::vector<bool>(shape.size(), false)};
}

// Yours against tinyref's View (every field) and against the plain-loop positions.
::testing::AssertionResult same_view(const ch04::View& v, const tinyref::View& ref, const Dense& positions,
                                     const std::string& what) {
  const std::optional<ch04::Pairs> ref_mask = ref.mask;
  if (v.shape != ref.shape || v.strides != ref.strides || v.offset != ref.offset || v.mask != ref_mask) {
    std::ostringstream want;
    want << ref;
    return ::testing::AssertionFailure() << what << ":\n  expected " << want.str() << "\n  got      " << v.str();
  }
  std::string first_bad;
  dense::for_each_index(positions.shape, [&](const dense::Shape& idx) {
    const int64_t want = static_cast<int64_t>(positions.at(idx)) - 1;
    const int64_t got = v.valid(idx) ? v.position(idx) : -1;
    if (want != got && first_bad.empty()) {
      first_bad = "element " + dense::shape_str(idx) + ": position " + std::to_string(got) + " (-1: invalid), expected " +
                  std::to_string(want);
    }
  });
  if (!first_bad.empty()) return ::testing::AssertionFailure() << what << ": " << v.str() << "\n  " << first_bad;
  return ::testing::AssertionSuccess();
}

dense::Shape random_shape(std::mt19937_64& rng, int max_ndim = 4, int64_t max_size = 5) {
  dense::Shape s(std::uniform_int_distribution<int>(1, max_ndim)(rng));
  for (int64_t& d : s) d = std::uniform_int_distribution<int64_t>(1, max_size)(rng);
  return s;
}

// Applies `count` moves of `kind` (any but reshape if empty) to a contiguous view of a random
// shape, each first applied to a random chain of `warmup` other moves, checking after each.
void check_moves(std::optional<Kind> kind, int count, int warmup) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 20; ++trial) {
      dense::Shape shape = random_shape(rng);
      ch04::View v = ch04::View::contiguous(shape);
      tinyref::View ref = tinyref::View::create(shape);
      Dense pos = moves::positions(shape);
      std::string history = "View::contiguous(" + dense::shape_str(shape) + ")";
      for (int step = 0; step < warmup + count; ++step) {
        const Move m = random_view_move(rng, v.shape, step < warmup ? std::nullopt : kind);
        if (step >= warmup && kind && m.kind != *kind) --step;  // a shrink to make room for an expand
        history += "." + moves::describe(m);
        v = moves::apply_to_view(m, v);
        ref = moves::apply_to_view(m, ref);
        pos = moves::apply(m, pos);
        ASSERT_TRUE(same_view(v, ref, pos, history));
      }
    }
  }
}

TEST(Task1View, PositionAndValidOfTheHeadersExamples) {
  const ch04::View v = ch04::View::contiguous({2, 3});
  EXPECT_EQ(v.position({1, 2}), 5) << "(2, 3) row-major: offset 0 + 1*3 + 2*1";
  EXPECT_TRUE(v.valid({1, 2})) << "an unmasked view is valid everywhere";
  const ch04::View padded = ch04::View::make({3, 3}, {3, 1}, -3, ch04::Pairs{{1, 3}, {0, 3}});
  EXPECT_FALSE(padded.valid({0, 1})) << "row 0 is outside mask [1, 3) of " << padded.str();
  EXPECT_TRUE(padded.valid({1, 0})) << "row 1 is inside mask [1, 3) of " << padded.str();
  EXPECT_EQ(padded.position({1, 2}), 2) << "-3 + 1*3 + 2*1 in " << padded.str();
  const ch04::View strided = ch04::View::make({4, 2}, {-2, 7}, 11);
  EXPECT_EQ(strided.position({3, 1}), 11 - 6 + 7) << strided.str();
}

TEST(Task1View, PermuteMatchesTinyrefAndPlainLoops) { check_moves(Kind::kPermute, 3, 2); }
TEST(Task1View, ExpandGivesStrideZero) { check_moves(Kind::kExpand, 1, 3); }
TEST(Task1View, PadMasksExactlyTheNewElements) { check_moves(Kind::kPad, 2, 2); }
TEST(Task1View, ShrinkMovesTheOffset) { check_moves(Kind::kShrink, 2, 2); }
TEST(Task1View, FlipNegatesStridesAndMovesTheOffset) { check_moves(Kind::kFlip, 2, 2); }
TEST(Task1View, LongChainsOfEveryOp) { check_moves(std::nullopt, 10, 0); }

TEST(Task1View, PadThenShrinkBackIsContiguousAgain) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape shape = random_shape(rng);
    ch04::Pairs pads, back;
    for (int64_t d : shape) {
      const int64_t b = std::uniform_int_distribution<int64_t>(0, 3)(rng), a = std::uniform_int_distribution<int64_t>(0, 3)(rng);
      pads.push_back({b, a});
      back.push_back({b, b + d});
    }
    const ch04::View v = ch04::View::contiguous(shape).pad(pads).shrink(back);
    EXPECT_EQ(v, ch04::View::contiguous(shape)) << "pad" << ch04::pairs_str(pads) << " then shrink" << ch04::pairs_str(back)
                                                << " of " << ch04::shape_str(shape)
                                                << " reads the original again: the full mask must be dropped";
    EXPECT_TRUE(v.is_contiguous()) << v.str();
  }
}

TEST(Task1View, ExpandOfPaddingAndAnEmptyShrink) {
  // (1, 3) padded to (2, 3): row 0 valid, row 1 padding; shrink to row 1 and expand it.
  const ch04::View row = ch04::View::contiguous({1, 3}).pad({{0, 1}, {0, 0}}).shrink({{1, 2}, {0, 3}});
  const ch04::View grown = row.expand({4, 3});
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_FALSE(grown.valid({i, 1})) << "an expanded padding row stays padding: " << grown.str();
  }
  const tinyref::View ref = tinyref::View::create({1, 3}).pad({{0, 1}, {0, 0}}).shrink({{1, 2}, {0, 3}}).expand({4, 3});
  Dense pos = moves::apply(
      std::vector<Move>{{Kind::kPad, {}, {}, {{0, 1}, {0, 0}}, {}}, {Kind::kShrink, {}, {}, {{1, 2}, {0, 3}}, {}},
                        {Kind::kExpand, {4, 3}, {}, {}, {}}},
      moves::positions({1, 3}));
  EXPECT_TRUE(same_view(grown, ref, pos, "contiguous(1, 3).pad(((0, 1), (0, 0))).shrink(((1, 2), (0, 3))).expand(4, 3)"));
}

}  // namespace
