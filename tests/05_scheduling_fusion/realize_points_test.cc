// Task ch05.1: realize_points, the rules that decide which nodes become buffers. Each rule has
// a graph of its own here (the node it must pick, and the nodes it must leave alone), and the
// graph table checks the number of points against tinyref's kernel count.
#include <random>

#include "ch05/schedule.h"
#include "gtest/gtest.h"
#include "tests/05_scheduling_fusion/dual.h"
#include "tests/05_scheduling_fusion/fusion_testing.h"
#include "tests/05_scheduling_fusion/graphs.h"
#include "tests/testing/testing.h"

namespace {

using dual::Dual;
using fusion_testing::base_of;
using fusion_testing::ours;
using fusion_testing::tinyref_count;

ch05::NodeSet points_of(const std::vector<Dual>& outs) { return ch05::realize_points(ours(outs)); }

bool has(const ch05::NodeSet& s, const Dual& d) { return s.count(base_of(d)) > 0; }

TEST(Task1RealizePoints, OutputsAreRealizePointsAndTheirChainsAreNot) {
  std::mt19937_64 rng(1);
  Dual a = Dual::randn({5, 6}, rng), b = Dual::randn({5, 6}, rng), c = Dual::randn({5, 6}, rng);
  Dual sum = a + b, y = sum * c;
  const ch05::NodeSet p = points_of({y});
  EXPECT_TRUE(has(p, y)) << "y = (a + b) * c is the output: it must be a realize point";
  EXPECT_FALSE(has(p, sum)) << "a + b is only read by y, elementwise: it fuses into y's kernel";
  EXPECT_EQ(p.size(), 1u) << "(a + b) * c is one kernel";
  EXPECT_EQ(tinyref_count({y}), 1);
}

TEST(Task1RealizePoints, RealizedNodesAndConstantsAreNeverPoints) {
  std::mt19937_64 rng(2);
  Dual a = Dual::randn({4, 4}, rng);
  Dual y = (a * 2.0 + 1.0).realize();
  EXPECT_TRUE(points_of({y}).empty()) << "y is realized already: nothing to compute";
  Dual z = y * 3.0 + Dual::full({4, 4}, 5);
  const ch05::NodeSet p = points_of({z});
  EXPECT_EQ(p.size(), 1u) << "only z: y is a buffer, 3 and 5 are constants";
  EXPECT_FALSE(has(p, a)) << "a is loaded data";
  EXPECT_FALSE(has(p, Dual::full({4, 4}, 5))) << "a constant is never a realize point (unless it is an output)";
}

TEST(Task1RealizePoints, AConstantOutputIsItsOwnPoint) {
  Dual c = Dual::full({3, 4}, 2.5);
  const ch05::NodeSet p = points_of({c});
  EXPECT_EQ(p.size(), 1u) << "realizing a constant tensor takes one kernel (it writes the constant)";
  EXPECT_TRUE(has(p, c));
  EXPECT_EQ(tinyref_count({c}), 1);
}

TEST(Task1RealizePoints, ExpressionsOfConstantsAreConstantsToo) {
  // 2 * 3 is a MUL node in chapter 4 (tinyref folds it to 6 as it builds the graph): it needs
  // no kernel of its own, even read broadcast; every kernel that reads it computes it.
  std::mt19937_64 rng(10);
  Dual x = Dual::randn({4, 4}, rng);
  Dual six = Dual::full({}, 2) * 3.0, y = x + six.reshape({1, 1}).expand({4, 4});
  const ch05::NodeSet p = points_of({y});
  EXPECT_FALSE(has(p, six)) << "2 * 3 is a constant: never a realize point of its own";
  EXPECT_EQ(p.size(), 1u);
  EXPECT_EQ(tinyref_count({y}), 1);
  // Padded, a constant is no longer the same everywhere: then it is an ordinary node.
  Dual padded = (Dual::full({2, 2}, 2).pad({{1, 1}, {1, 1}}) * 3.0).exp();
  Dual z = x + padded.reshape({1, 4, 4}).expand({2, 4, 4}).sum({0});
  EXPECT_EQ(static_cast<int>(points_of({z}).size()), tinyref_count({z}));
}

TEST(Task1RealizePoints, ContiguousIsARealizePoint) {
  std::mt19937_64 rng(3);
  Dual a = Dual::randn({5, 5}, rng);
  Dual c = (a * 2.0).contiguous(), y = c * a;
  const ch05::NodeSet p = points_of({y});
  EXPECT_TRUE(has(p, c)) << "contiguous() asks for a buffer: it is a realize point";
  EXPECT_EQ(p.size(), 2u);
}

TEST(Task1RealizePoints, ExpandedReadsRealizeTheProducer) {
  std::mt19937_64 rng(4);
  Dual a = Dual::randn({5, 7}, rng), b = Dual::randn({5, 7}, rng), c = Dual::randn({3, 5, 7}, rng);
  Dual prod = a * b, y = prod.reshape({1, 5, 7}).expand({3, 5, 7}) + c;
  const ch05::NodeSet p = points_of({y});
  EXPECT_TRUE(has(p, prod)) << "a * b is read broadcast 3 times: fused, it would be computed 3 times";
  EXPECT_EQ(p.size(), 2u);
  // Broadcasting a loaded input costs nothing: it is a buffer already.
  Dual z = a.reshape({1, 5, 7}).expand({3, 5, 7}) * c;
  EXPECT_EQ(points_of({z}).size(), 1u) << "a broadcast input is read in place, not a new point";
}

TEST(Task1RealizePoints, PermutedReshapedFlippedElementwiseReadsAreFused) {
  std::mt19937_64 rng(5);
  Dual a = Dual::randn({6, 4}, rng), b = Dual::randn({6, 4}, rng);
  Dual prod = a * b;
  Dual y = prod.transpose().flip({1}).reshape({2, 12}).shrink({{0, 2}, {1, 11}}) + 1.0;
  const ch05::NodeSet p = points_of({y});
  EXPECT_FALSE(has(p, prod)) << "permute, flip, reshape and shrink read every element of a * b at most once: fuse";
  EXPECT_EQ(p.size(), 1u);
}

TEST(Task1RealizePoints, PaddingAfterAnOpWithNonzeroValueAtZeroRealizesIt) {
  std::mt19937_64 rng(6);
  Dual a = Dual::randn({3, 5}, rng);
  const dual::Pairs pad = {{1, 1}, {2, 0}};
  struct Case {
    const char* name;
    Dual node;
    bool unsafe;
  };
  const Case cases[] = {
      {"exp2", a.exp2(), true},      {"log2", a.log2(), true},          {"reciprocal", a.reciprocal(), true},
      {"a / 3", a / 3.0, true},      {"a * 2", a * 2.0, false},         {"-a", a.neg(), false},
      {"sqrt", a.sqrt(), false},     {"sin", a.sin(), false},           {"max(a, 0)", a.relu(), false},
      {"a < 1", a.lt(Dual::full({3, 5}, 1)), false},                   {"exp(a) * 2", a.exp() * 2.0, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Dual y = c.node.pad(pad) + 1.0;
    const ch05::NodeSet p = points_of({y});
    EXPECT_EQ(has(p, c.node), c.unsafe)
        << c.name << (c.unsafe ? " is not 0 at 0 (or reads something that is not): padded, it must be realized first"
                               : " is 0 at 0: its padding can be computed in the consumer's kernel");
    EXPECT_EQ(static_cast<int>(p.size()), tinyref_count({y}));
  }
}

TEST(Task1RealizePoints, ReducesReadThroughReshufflingViewsAreRealized) {
  std::mt19937_64 rng(7);
  Dual x = Dual::randn({4, 6, 5}, rng);
  Dual s = x.sum({2}, true);  // (4, 6, 1)
  struct Case {
    const char* view;
    Dual y;
    bool realized;
  };
  const Case cases[] = {
      {"reshape to (24,)", s.reshape({24}) * 2.0, false},
      {"reshape to (4, 3, 2)", s.reshape({4, 3, 2}) * 2.0, false},
      {"permute", s.permute({1, 0, 2}) * 2.0, true},
      {"shrink", s.shrink({{1, 3}, {0, 6}, {0, 1}}) * 2.0, true},
      {"flip", s.flip({0}) * 2.0, true},
      {"pad", s.pad({{0, 1}, {0, 0}, {0, 0}}) * 2.0, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("sum read through ") + c.view);
    const ch05::NodeSet p = points_of({c.y});
    EXPECT_EQ(has(p, s), c.realized) << (c.realized ? "a reduce read in another order must be realized"
                                                    : "a same-size reshape reads the reduce in its own order: fuse it");
    EXPECT_EQ(static_cast<int>(p.size()), tinyref_count({c.y}));
  }
}

TEST(Task1RealizePoints, AReduceWithTwoConsumersIsRealized) {
  std::mt19937_64 rng(8);
  Dual s = Dual::randn({16, 16}, rng).sum({1}, true);
  Dual two = s * 2.0 + s.exp();
  EXPECT_TRUE(has(points_of({two}), s)) << "s feeds s * 2 and exp(s): fused into both, it would be summed twice";
  Dual square = s * s;
  EXPECT_FALSE(has(points_of({square}), s)) << "s * s reads s twice but in one consumer: one kernel computes it once";
}

TEST(Task1RealizePoints, ElementwiseNodesSharedByTwoOutputsAreRecomputed) {
  std::mt19937_64 rng(9);
  Dual h = (Dual::randn({8, 8}, rng) * 2.0).exp();
  Dual y1 = h * 2.0, y2 = h * 3.0;
  const ch05::NodeSet p = points_of({y1, y2});
  EXPECT_FALSE(has(p, h)) << "exp(2a) read elementwise by two kernels: cheaper to compute twice than to store";
  EXPECT_EQ(p.size(), 2u);
}

TEST(Task1RealizePoints, PointCountsMatchTinyrefOnTheGraphTable) {
  fusion_testing::for_each_graph([](const graphs::GraphCase& g, const std::vector<Dual>& outs) {
    const int points = static_cast<int>(points_of(outs).size()), kernels = tinyref_count(outs);
    if (g.refuses) {
      EXPECT_LT(points, kernels) << "lowering refuses a reduce here, so the rules alone find fewer points";
    } else {
      EXPECT_EQ(points, kernels) << "realize points before lowering: expected tinyref's kernel count";
    }
  }, /*every_seed=*/false);
}

}  // namespace
