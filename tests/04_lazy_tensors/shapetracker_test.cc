// Task 3: the ShapeTracker, a stack of Views. Random programs of movement ops (reshapes
// included) are applied to yours, to tinyref's and to a dense array of positions; every
// element must read the same buffer position in all three (or padding in all three).
#include <cstdio>
#include <map>
#include <random>

#include "ch04/shapetracker.h"
#include "gtest/gtest.h"
#include "tests/04_lazy_tensors/lazy_testing.h"
#include "tests/04_lazy_tensors/moves.h"
#include "tests/testing/testing.h"

namespace {

using dense::Dense;
using lazy_testing::index_matches;
using moves::Kind;
using moves::Move;

dense::Shape random_shape(std::mt19937_64& rng) {
  dense::Shape s(std::uniform_int_distribution<int>(1, 3)(rng));
  for (int64_t& d : s) d = std::uniform_int_distribution<int64_t>(1, 6)(rng);
  return s;
}

// Every element through `st` against tinyref's index_of, where tinyref agrees with the plain
// loops of `positions` (the truth). Where it does not, tinyref is wrong: that is reported on
// stdout as a course bug, and never held against you.
::testing::AssertionResult same_as_tinyref(const ch04::ShapeTracker& st, const tinyref::ShapeTracker& ref,
                                           const Dense& positions, const std::string& what) {
  std::string first_bad;
  dense::for_each_index(ref.shape(), [&](const dense::Shape& idx) {
    const int64_t want = ref.index_of(idx), got = st.index(idx);
    if (want != static_cast<int64_t>(positions.at(idx)) - 1) {
      std::printf("COURSE BUG (tinyref, not yours): %s: element %s: tinyref reads %lld, plain loops %lld\n",
                  what.c_str(), dense::shape_str(idx).c_str(), static_cast<long long>(want),
                  static_cast<long long>(positions.at(idx)) - 1);
      return;
    }
    if (want != got && first_bad.empty()) {
      first_bad = "element " + dense::shape_str(idx) + ": " + std::to_string(got) + ", tinyref says " + std::to_string(want);
    }
  });
  if (first_bad.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << first_bad << "\n  yours:   " << st.str() << "\n  tinyref: "
                                       << ref.to_string();
}

TEST(Task3ShapeTracker, RandomProgramsMatchPlainLoopsAndTinyref) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 60; ++trial) {
      const dense::Shape shape = random_shape(rng);
      const std::vector<Move> program = moves::random_program(rng, shape, 8, 1024);
      ch04::ShapeTracker st = ch04::ShapeTracker::contiguous(shape);
      tinyref::ShapeTracker ref = tinyref::ShapeTracker::from_shape(shape);
      Dense pos = moves::positions(shape);
      std::string history = "contiguous" + dense::shape_str(shape);
      for (const Move& m : program) {
        history += "." + moves::describe(m);
        st = lazy_testing::apply(m, st);
        ref = moves::apply(m, ref);
        pos = moves::apply(m, pos);
        ASSERT_TRUE(index_matches(st, pos, history));
        ASSERT_TRUE(same_as_tinyref(st, ref, pos, history));
      }
    }
  }
}

TEST(Task3ShapeTracker, ReshapeOfATransposePushesASecondView) {
  ch04::ShapeTracker st = ch04::ShapeTracker::contiguous({2, 3}).permute({1, 0});
  st = st.reshape({6});
  EXPECT_EQ(st.views.size(), 2u) << "a transposed (2, 3) read in flat order needs a second View: " << st.str();
  const Dense want = moves::apply(
      std::vector<Move>{{Kind::kPermute, {}, {1, 0}, {}, {}}, {Kind::kReshape, {6}, {}, {}, {}}}, moves::positions({2, 3}));
  EXPECT_TRUE(index_matches(st, want, "contiguous(2, 3).permute(1, 0).reshape(6)"));
  EXPECT_EQ(st.index({1}), 3) << "flat element 1 is (0, 1) of the transpose, buffer position 3";
  // Movement ops after the push change only the top View.
  const ch04::ShapeTracker flipped = st.flip({true});
  ASSERT_EQ(flipped.views.size(), 2u) << flipped.str();
  EXPECT_EQ(flipped.views[0], st.views[0]) << "flip changed a View below the top one";
  EXPECT_EQ(flipped.index({0}), 5) << flipped.str();
}

TEST(Task3ShapeTracker, ReshapesThatOneViewCanDoStayOneView) {
  ch04::ShapeTracker st = ch04::ShapeTracker::contiguous({4, 6}).reshape({2, 2, 3, 2}).permute({1, 0, 2, 3});
  st = st.reshape({2, 2, 6});
  EXPECT_EQ(st.views.size(), 1u) << "merging the chained last two axes needs no second View: " << st.str();
  st = st.flip({false, true, false}).reshape({2, 2, 2, 3});
  EXPECT_EQ(st.views.size(), 1u) << "splitting an axis needs no second View: " << st.str();
  EXPECT_FALSE(st.is_contiguous());
  EXPECT_TRUE(ch04::ShapeTracker::contiguous({3, 5}).reshape({15}).is_contiguous());
}

TEST(Task3ShapeTracker, PaddingReshapedToAScalarStaysPadding) {
  // One element of padding, as shape (1,) and then as shape (): a View of shape () has no axis
  // to carry a mask, so it cannot say "padding" on its own.
  const ch04::ShapeTracker pad = ch04::ShapeTracker::contiguous({2}).pad({{0, 1}}).shrink({{2, 3}});
  ASSERT_EQ(pad.index({0}), -1) << pad.str();
  const ch04::ShapeTracker scalar = pad.reshape({});
  EXPECT_EQ(scalar.index({}), -1) << "padding reshaped to () still reads as padding: " << scalar.str();
  const ch04::ShapeTracker one = ch04::ShapeTracker::contiguous({2}).shrink({{1, 2}}).reshape({});
  EXPECT_EQ(one.index({}), 1) << one.str();
}

TEST(Task3ShapeTracker, ExpressionsComputeWhatIndexComputes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 30; ++trial) {
      const dense::Shape shape = random_shape(rng);
      const std::vector<Move> program = moves::random_program(rng, shape, 6, 512);
      const ch04::ShapeTracker st = lazy_testing::apply(program, ch04::ShapeTracker::contiguous(shape));
      std::vector<ch04::Expr> idx;
      for (size_t i = 0; i < st.ndim(); ++i) {
        idx.push_back(ch04::var("i" + std::to_string(i), 0, std::max<int64_t>(st.shape()[i] - 1, 0)));
      }
      const auto [position, valid] = st.to_expr(idx);
      const std::string what = "contiguous" + dense::shape_str(shape) + "." + moves::describe(program) + ": to_expr";
      ASSERT_TRUE(position && valid) << what << " returned a null expression";
      dense::for_each_index(st.shape(), [&](const dense::Shape& i) {
        std::map<std::string, int64_t> vars;
        for (size_t d = 0; d < i.size(); ++d) vars["i" + std::to_string(d)] = i[d];
        const int64_t want = st.index(i);
        const bool ok = ch04::evaluate(valid, vars) != 0;
        EXPECT_EQ(ok, want >= 0) << what << " says element " << dense::shape_str(i) << " is "
                                 << (ok ? "valid" : "padding") << ": " << ch04::render(valid);
        if (ok && want >= 0) {
          EXPECT_EQ(ch04::evaluate(position, vars), want) << what << " at " << dense::shape_str(i) << ": "
                                                          << ch04::render(position);
        }
      });
    }
  }
}

// Each mistake throws ShapeError, and its message names the op and the shape.
void expect_shape_error(const std::function<void()>& f, const std::string& op, const std::string& shape) {
  try {
    f();
    ADD_FAILURE() << op << " should have thrown ch04::ShapeError for shape " << shape;
  } catch (const ch04::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(op), std::string::npos) << "the message should name the op " << op << ": \"" << msg << "\"";
    EXPECT_NE(msg.find(shape), std::string::npos) << "the message should name the shape " << shape << ": \"" << msg << "\"";
  }
}

TEST(Task3ShapeTracker, MistakesThrowShapeErrorNamingOpAndShape) {
  const ch04::ShapeTracker st = ch04::ShapeTracker::contiguous({2, 3});
  expect_shape_error([&] { st.reshape({4}); }, "reshape", "(2, 3)");
  expect_shape_error([&] { st.reshape({-2, -3}); }, "reshape", "(-2, -3)");
  expect_shape_error([&] { st.permute({0, 0}); }, "permute", "(2, 3)");
  expect_shape_error([&] { st.permute({1, 2}); }, "permute", "(2, 3)");
  expect_shape_error([&] { st.permute({0}); }, "permute", "(2, 3)");
  expect_shape_error([&] { st.expand({4, 3}); }, "expand", "(2, 3)");
  expect_shape_error([&] { st.expand({2, 3, 1}); }, "expand", "(2, 3)");
  expect_shape_error([&] { st.pad({{0, 0}, {-1, 0}}); }, "pad", "(2, 3)");
  expect_shape_error([&] { st.pad({{1, 1}}); }, "pad", "(2, 3)");
  expect_shape_error([&] { st.shrink({{0, 2}, {2, 4}}); }, "shrink", "(2, 3)");
  expect_shape_error([&] { st.shrink({{1, 0}, {0, 3}}); }, "shrink", "(2, 3)");
  expect_shape_error([&] { st.flip({true}); }, "flip", "(2, 3)");
  expect_shape_error([&] { st.index({2, 0}); }, "index", "(2, 3)");
  expect_shape_error([&] { st.index({0}); }, "index", "(2, 3)");
}

}  // namespace
