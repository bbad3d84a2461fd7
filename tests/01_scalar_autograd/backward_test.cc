// Tasks ch01.4 and ch01.5: the topological order and the whole backward pass, checked against
// tinyref's tensor engine (tensor_oracle.h) and against finite differences on random graphs
// with shared nodes, and timed on a graph whose paths are exponentially many.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ch01/value.h"
#include "gtest/gtest.h"
#include "tests/01_scalar_autograd/random_graph.h"
#include "tests/01_scalar_autograd/tensor_oracle.h"
#include "tests/testing/testing.h"

namespace {

using ch01::Value;

// tinyref's gradients (exp through exp2, tanh through a sigmoid, its own summation order)
// differ from <cmath>-based ones by at most 2.3e-13 * max(1, |grad|) over seeds 1-5000; 1e-10
// is 400 times that and far below a wrong rule (off by 1e-3 or more).
constexpr double kGradTol = 1e-10;

// Central differences with h = 1e-6 |x|: truncation ~h^2 |f'''| and rounding ~1e-16 |f| / h
// both stay near 1e-8 on these graphs (their ops keep well inside their domains); 1e-5 is
// far above that and far below any wrong rule (off by O(1)).
constexpr double kFiniteDifferenceTolerance = 1e-5;

scalar_graph::Recipe recipe_for(uint64_t seed) {
  return scalar_graph::random_recipe(seed, {/*leaves=*/3, /*ops=*/16, /*functions=*/true});
}

// Counted from the recipe: one node per step, plus a leaf for each double written on one side
// of a binary op (2.0 * x makes a leaf for 2.0); an arrow per operand (x * x has two).
struct GraphSize {
  size_t nodes = 0, arrows = 0;
};

GraphSize graph_size(const scalar_graph::Recipe& recipe) {
  GraphSize size{recipe.steps.size(), 0};
  for (const scalar_graph::Step& s : recipe.steps) {
    switch (s.kind) {
      case scalar_graph::Kind::kLeaf: break;
      case scalar_graph::Kind::kAdd: case scalar_graph::Kind::kSub:
      case scalar_graph::Kind::kMul: case scalar_graph::Kind::kDiv:
        size.arrows += 2;
        size.nodes += (s.lhs < 0) + (s.rhs < 0);
        break;
      default: size.arrows += 1;
    }
  }
  return size;
}

// The ladder x_{k+1} = x_k + x_k: depth + 1 nodes, 2^depth paths from the top down to x_0.
std::vector<Value> ladder(int depth) {
  std::vector<Value> rungs{Value(1.0)};
  for (int i = 0; i < depth; ++i) rungs.push_back(rungs.back() + rungs.back());
  return rungs;
}

// The fastest of up to three runs, in seconds: one slow run on a busy machine is not the
// code's fault; three are.
template <class F>
double fastest_of_three(double budget, F run) {
  double best = 1e30;
  for (int i = 0; i < 3 && best > budget; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// A walk over the 25 nodes of ladder(24) takes microseconds (tens under ASan); one that
// revisits shared nodes walks 2^24 = 17 million paths: a second or more. 50 ms sits between,
// thousands of times above the first.
constexpr int kLadderDepth = 24;
constexpr double kLadderBudgetSeconds = 0.05;

// A walk that lists a node once per path would fill gigabytes on the deep ladder: it is
// stopped on a small one first.
::testing::AssertionResult lists_each_node_once() {
  const size_t size = ladder(12).back().topological_order().size();
  if (size == 13) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "topological_order of ladder(12) lists " << size
                                       << " nodes, not 13: keep a set of visited nodes";
}

// ---------------------------------------------------------------------------------------
// Task 4: topological order.

TEST(Task4TopologicalOrder, EachNodeOnceOperandsFirstRootLast) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    const scalar_graph::Recipe recipe = recipe_for(seed);
    SCOPED_TRACE(recipe.describe());
    const auto mine = scalar_graph::build<Value>(recipe);
    const std::vector<Value> order = mine.back().topological_order();
    EXPECT_EQ(order.size(), graph_size(recipe).nodes)
        << "task ch01.4: the number of distinct nodes the root depends on (constants written as "
           "doubles count: each became a leaf)";
    std::unordered_set<const ch01::Node*> earlier;
    for (size_t i = 0; i < order.size(); ++i) {
      for (const Value& operand : order[i].operands()) {
        EXPECT_TRUE(earlier.count(operand.node()))
            << "task ch01.4: position " << i << " (op '" << ch01::op_name(order[i].op())
            << "', data " << order[i].data() << ") comes before one of its operands";
      }
      EXPECT_TRUE(earlier.insert(order[i].node()).second)
          << "task ch01.4: position " << i << " repeats a node that came earlier";
    }
    for (size_t step = 0; step < mine.size(); ++step) {
      EXPECT_TRUE(earlier.count(mine[step].node())) << "task ch01.4: v" << step << " is missing";
    }
    ASSERT_FALSE(order.empty());
    EXPECT_EQ(order.back().node(), mine.back().node()) << "task ch01.4: the root comes last";
  }
}

TEST(Task4TopologicalOrder, SharedNodesAppearOnce) {
  // x_{k+1} = x_k + x_k: 13 nodes, but 2^12 = 4096 paths from the top down to x_0. A search
  // without a visited set walks every path.
  const Value bottom = 1.0;
  Value top = bottom;
  for (int i = 0; i < 12; ++i) top = top + top;
  const std::vector<Value> order = top.topological_order();
  ASSERT_EQ(order.size(), 13u)
      << "task ch01.4: 13 distinct nodes; a node reached through several paths must be listed "
         "once (keep a set of visited nodes)";
  EXPECT_EQ(order.front().node(), bottom.node());
  EXPECT_EQ(order.back().node(), top.node());
}

TEST(Task4TopologicalOrder, SharedNodesAreWalkedOnce) {
  ASSERT_TRUE(lists_each_node_once()) << "task ch01.4";
  const std::vector<Value> rungs = ladder(kLadderDepth);
  size_t size = 0;
  const double seconds = fastest_of_three(kLadderBudgetSeconds, [&] { size = rungs.back().topological_order().size(); });
  EXPECT_EQ(size, size_t(kLadderDepth + 1));
  EXPECT_LT(seconds, kLadderBudgetSeconds)
      << "task ch01.4: topological_order of the ladder x_{k+1} = x_k + x_k, " << kLadderDepth
      << " rungs deep, took " << seconds << " s. It has " << kLadderDepth + 1
      << " nodes but 2^" << kLadderDepth << " paths: mark a node visited before walking into "
      << "its operands, and never walk into a visited one again";
}

TEST(Task4TopologicalOrder, LeafIsItsOwnOrder) {
  const Value leaf = 5.0;
  const std::vector<Value> order = leaf.topological_order();
  ASSERT_EQ(order.size(), 1u) << "task ch01.4: a leaf depends on itself only";
  EXPECT_EQ(order[0].node(), leaf.node());
}

TEST(Task4TopologicalOrder, DotMentionsEveryNode) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    const scalar_graph::Recipe recipe = recipe_for(seed);
    SCOPED_TRACE(recipe.describe());
    const auto mine = scalar_graph::build<Value>(recipe);
    // "n7x": no such label is a piece of another ("n17x" does not contain "n7x").
    for (size_t i = 0; i < mine.size(); ++i) mine[i].set_label("n" + std::to_string(i) + "x");
    const std::string dot = ch01::to_dot(mine.back());
    for (size_t i = 0; i < mine.size(); ++i) {
      EXPECT_NE(dot.find("\"n" + std::to_string(i) + "x"), std::string::npos)
          << "task ch01.4: to_dot draws the nodes of your topological_order; v" << i
          << " is missing from\n" << dot;
    }
    const auto count = [](const std::string& text, const std::string& what) {
      size_t n = 0;
      for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
      return n;
    };
    EXPECT_EQ(count(dot, "[label="), graph_size(recipe).nodes) << "boxes in\n" << dot;
    EXPECT_EQ(count(dot, "->"), graph_size(recipe).arrows) << "arrows in\n" << dot;
  }
}

// ---------------------------------------------------------------------------------------
// Task 5: backward and zero_grad.

TEST(Task5Backward, GradientsMatchReferenceOnRandomGraphs) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    const scalar_graph::Recipe recipe = recipe_for(seed);
    SCOPED_TRACE(recipe.describe());
    const auto mine = scalar_graph::build<Value>(recipe);
    mine.back().backward();
    EXPECT_TRUE(testing_util::all_close(tensor_oracle::run(recipe).grads, scalar_graph::grads(mine),
                                        kGradTol, kGradTol,
                                        "task ch01.5: grad of v0, v1, ... (index = step) after "
                                        "root.backward()"));
  }
}

TEST(Task5Backward, GradientsMatchFiniteDifferences) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    const scalar_graph::Recipe recipe = recipe_for(seed);
    SCOPED_TRACE(recipe.describe());
    const auto mine = scalar_graph::build<Value>(recipe);
    mine.back().backward();
    std::vector<double> leaf_grads;
    for (int leaf : recipe.leaves()) leaf_grads.push_back(mine[leaf].grad());
    EXPECT_TRUE(testing_util::all_close(scalar_graph::finite_difference_gradients(recipe),
                                        leaf_grads, kFiniteDifferenceTolerance,
                                        kFiniteDifferenceTolerance,
                                        "task ch01.5: d(root)/d(leaf) for the leaves v0, v1, v2 "
                                        "by central differences (expected) and backward (got)"));
  }
}

TEST(Task5Backward, SharedNodesAccumulate) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const double x = 0.5 + static_cast<double>(rng() % 1000) / 1000;
    // y feeds z three times: twice through y * y, once directly, and y itself uses w twice.
    const Value w = x;
    const Value y = w * w + w;
    const Value z = y * y + y.tanh();
    z.backward();
    const double y_data = x * x + x;
    const double dz_dy = 2 * y_data + (1 - std::pow(std::tanh(y_data), 2));
    EXPECT_TRUE(testing_util::close(dz_dy, y.grad(), 1e-12, 1e-12,
                                    "task ch01.5: y.grad for z = y*y + tanh(y): the sum over y's "
                                    "three uses (y = " + std::to_string(y_data) + ")"));
    EXPECT_TRUE(testing_util::close(dz_dy * (2 * x + 1), w.grad(), 1e-12, 1e-12,
                                    "task ch01.5: w.grad for y = w*w + w (w = " +
                                        std::to_string(x) + ")"));
  }
}

TEST(Task5Backward, SharedNodesArePushedOnce) {
  ASSERT_TRUE(lists_each_node_once()) << "task ch01.5 needs ch01.4";
  const std::vector<Value> rungs = ladder(kLadderDepth);
  const double seconds = fastest_of_three(kLadderBudgetSeconds, [&] {
    rungs.back().zero_grad();
    rungs.back().backward();
  });
  EXPECT_EQ(rungs.front().grad(), std::ldexp(1.0, kLadderDepth))
      << "task ch01.5: d(top)/d(x_0) of the ladder x_{k+1} = x_k + x_k is 2^" << kLadderDepth;
  EXPECT_LT(seconds, kLadderBudgetSeconds)
      << "task ch01.5: zero_grad() and backward() of the ladder x_{k+1} = x_k + x_k, "
      << kLadderDepth << " rungs deep, took " << seconds << " s: every node must be pushed once, "
      << "in one walk of the topological order";
}

TEST(Task5Backward, RootGradIsOne) {
  const Value a = 2.0, b = 3.0;
  const Value root = (a * b).tanh();
  root.backward();
  EXPECT_EQ(root.grad(), 1.0) << "task ch01.5: d(root)/d(root) = 1 seeds the backward pass";
}

TEST(Task5Backward, BackwardOnALeafAddsOne) {
  const Value leaf = -1.5;
  leaf.backward();
  EXPECT_EQ(leaf.grad(), 1.0) << "task ch01.5: d(leaf)/d(leaf)";
  leaf.backward();
  EXPECT_EQ(leaf.grad(), 2.0) << "task ch01.5: a leaf accumulates, even as the root: backward() "
                                 "adds 1 to the root's grad, it does not set it to 1";
}

TEST(Task5Backward, SecondBackwardAddsLeafGradsOnce) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    const scalar_graph::Recipe recipe = recipe_for(seed);
    SCOPED_TRACE(recipe.describe());
    const auto mine = scalar_graph::build<Value>(recipe);
    for (int pass = 0; pass < 2; ++pass) mine.back().backward();
    // Leaves: twice the gradient. Inner nodes: one pass's gradient, because backward()
    // clears them first; stale inner grads would reach the leaves a second time.
    std::vector<double> want = tensor_oracle::run(recipe).grads;
    for (int leaf : recipe.leaves()) want[leaf] *= 2;
    EXPECT_TRUE(testing_util::all_close(want, scalar_graph::grads(mine), kGradTol, kGradTol,
                                        "task ch01.5: grads of v0, v1, ... after calling "
                                        "root.backward() twice"));
  }
}

TEST(Task5Backward, ZeroGradClearsEveryNode) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    const scalar_graph::Recipe recipe = recipe_for(seed);
    SCOPED_TRACE(recipe.describe());
    const auto mine = scalar_graph::build<Value>(recipe);
    mine.back().backward();
    const std::vector<double> once = scalar_graph::grads(mine);
    mine.back().zero_grad();
    EXPECT_TRUE(testing_util::all_close(std::vector<double>(mine.size(), 0.0),
                                        scalar_graph::grads(mine), 0, 0,
                                        "task ch01.5: grads of v0, v1, ... after zero_grad()"));
    mine.back().backward();
    EXPECT_TRUE(testing_util::all_close(once, scalar_graph::grads(mine), 0, 0,
                                        "task ch01.5: grads after zero_grad() and a second "
                                        "backward() equal those of the first backward()"));
  }
}

}  // namespace
