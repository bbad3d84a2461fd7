// Task ch05.2: lower, one realize point to one kernel tree. The realize points are given by
// each test (never taken from your realize_points), and the trees run on the test's own slow
// evaluator (kernel_oracle.h), so these tests need only your lower().
#include <algorithm>
#include <functional>
#include <random>

#include "ch05/schedule.h"
#include "gtest/gtest.h"
#include "tests/05_scheduling_fusion/dual.h"
#include "tests/05_scheduling_fusion/fusion_testing.h"
#include "tests/05_scheduling_fusion/kernel_oracle.h"
#include "tests/testing/testing.h"

namespace {

using ch05::Kernel;
using ch05::KernelNode;
using ch05::NodeKind;
using dual::Dual;
using fusion_testing::base_of;

// The kernel of `root` with only `root` as a realize point (besides what is loaded).
Kernel lowered(const Dual& root, ch05::NodeSet points = {}) {
  points.insert(base_of(root));
  ch05::Lowered l = ch05::lower(root.ours.lazy()->base(), points);
  if (l.must_realize != nullptr) ADD_FAILURE() << "lower refused a reduce that this test expects it to fuse";
  if (!l.kernel) throw std::runtime_error("lower returned no kernel");
  return *l.kernel;
}

// Runs k on the oracle and returns its output in row-major order.
std::vector<double> run(const Kernel& k) {
  ch04::Buffer out(k.buffers[0]->dtype(), k.buffers[0]->numel());
  std::vector<ch04::Buffer*> bufs = {&out};
  for (size_t i = 1; i < k.buffers.size(); ++i) bufs.push_back(k.buffers[i]->buffer().get());
  oracle::run(k, bufs);
  std::vector<double> v(out.numel);
  for (int64_t i = 0; i < out.numel; ++i) v[i] = out.get(i);
  return v;
}

::testing::AssertionResult computes(const Kernel& k, const Dual& root, const std::string& what) {
  return testing_util::all_close(root.values_ref(), run(k), 1e-4, 1e-5, what + " (kernel " + k.name() + ")\n" +
                                                                              ch05::to_string(k));
}

int count(const ch05::NodeRef& n, NodeKind kind) {
  std::vector<const KernelNode*> todo = {n.get()};
  std::set<const KernelNode*> seen;
  int c = 0;
  while (!todo.empty()) {
    const KernelNode* x = todo.back();
    todo.pop_back();
    if (!seen.insert(x).second) continue;
    c += x->kind == kind;
    for (const ch05::NodeRef& s : x->src) todo.push_back(s.get());
  }
  return c;
}

TEST(Task2Lower, AnElementwiseChainIsOneTree) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Dual a = Dual::randn({13, 7}, rng), b = Dual::randn({13, 7}, rng), c = Dual::randn({13, 7}, rng);
    Dual y = (a + b) * c;
    const Kernel k = lowered(y);
    ASSERT_NO_THROW(ch05::verify(k)) << ch05::to_string(k);
    EXPECT_EQ(k.name(), "E_13_7");
    EXPECT_EQ(k.buffers.size(), 4u) << "buffers: y, then a, b, c";
    EXPECT_EQ(k.buffers[0].get(), base_of(y)) << "buffers[0] is the node the kernel realizes";
    EXPECT_EQ(count(k.ast, NodeKind::kLoad), 3);
    EXPECT_EQ(count(k.ast, NodeKind::kAlu), 2) << "ADD and MUL";
    EXPECT_TRUE(computes(k, y, "(a + b) * c"));
  }
}

TEST(Task2Lower, LinearReluIsOneReduceKernelOverTheFullShape) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Dual x = Dual::randn({8, 17}, rng), w = Dual::randn({17, 5}, rng), b = Dual::randn({5}, rng);
    Dual y = (x.matmul(w) + b).relu();
    const Kernel k = lowered(y);
    ASSERT_NO_THROW(ch05::verify(k)) << ch05::to_string(k);
    EXPECT_EQ(k.shape, (ch04::Shape{8, 5, 17})) << "the full shape: output axes, then the summed axis whole";
    EXPECT_EQ(k.output_shape(), (ch04::Shape{8, 5, 1}));
    ASSERT_NE(k.reduce_node(), nullptr);
    EXPECT_EQ(k.reduce_node()->axes, std::vector<int>{2});
    EXPECT_EQ(k.name(), "r_8_5_17");
    EXPECT_EQ(count(k.ast, NodeKind::kLoad), 3) << "x, w below the sum; b above it";
    EXPECT_TRUE(computes(k, y, "relu(x @ w + b)"));
  }
}

TEST(Task2Lower, LoadsReadThroughTheirViews) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Dual a = Dual::randn({5, 4}, rng), b = Dual::randn({4, 5}, rng), c = Dual::randn({6, 7}, rng);
    Dual d = Dual::randn({2, 3}, rng), e = Dual::randn({5}, rng);
    Dual y = a.transpose() * b.flip({1}) + c.shrink({{1, 5}, {2, 7}}) -
             d.pad({{1, 1}, {0, 2}}) * e.reshape({1, 5}).expand({4, 5});
    const Kernel k = lowered(y);
    ASSERT_NO_THROW(ch05::verify(k)) << ch05::to_string(k);
    EXPECT_TRUE(computes(k, y, "transposed, flipped, shrunk, padded and broadcast loads"));
    for (const Dual* in : {&a, &b, &c, &d, &e}) {
      EXPECT_NE(std::find_if(k.buffers.begin(), k.buffers.end(),
                             [&](const ch04::LazyRef& r) { return r.get() == base_of(*in); }),
                k.buffers.end())
          << "every input is a buffer of the kernel";
    }
  }
}

TEST(Task2Lower, ViewsComposeThroughFusedNodes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Dual a = Dual::randn({4, 6}, rng), b = Dual::randn({4, 6}, rng);
    // a * b is read transposed and reshaped; its loads must carry both views.
    Dual y = (a * b).transpose().reshape({2, 12}).flip({0}) + Dual::randn({2, 12}, rng);
    const Kernel k = lowered(y);
    EXPECT_EQ(count(k.ast, NodeKind::kAlu), 2) << "a * b is fused, not loaded";
    EXPECT_TRUE(computes(k, y, "(a * b) transposed, reshaped, flipped"));
  }
}

TEST(Task2Lower, APaddedConstantReadsZeroInThePadding) {
  std::mt19937_64 rng(11);
  Dual a = Dual::randn({4, 5}, rng);
  Dual y = Dual::full({2, 3}, 2.0).pad({{1, 1}, {1, 1}}) + a;
  const Kernel k = lowered(y);
  EXPECT_EQ(count(k.ast, NodeKind::kConst), 1);
  EXPECT_TRUE(computes(k, y, "pad(full 2) + a: a outside the 2x3 block, a + 2 inside"));
}

TEST(Task2Lower, ANodeReadTwiceIsOneTreeNode) {
  std::mt19937_64 rng(12);
  Dual a = Dual::randn({6, 6}, rng);
  Dual h = a.sin() + 1.0;
  Dual y = h * h;
  const Kernel k = lowered(y);
  const KernelNode& mul = *k.ast->src[0];
  ASSERT_EQ(mul.src.size(), 2u);
  EXPECT_EQ(mul.src[0].get(), mul.src[1].get()) << "h is read twice through the same view: one node, computed once";
  EXPECT_EQ(k.buffers.size(), 2u) << "y and a";
  EXPECT_TRUE(computes(k, y, "(sin a + 1)^2"));
}

TEST(Task2Lower, OneBufferPerInputEvenThroughTwoViews) {
  std::mt19937_64 rng(13);
  Dual a = Dual::randn({5, 5}, rng);
  Dual y = a + a.transpose();
  const Kernel k = lowered(y);
  EXPECT_EQ(k.buffers.size(), 2u) << "a is one buffer, read through two views";
  EXPECT_EQ(count(k.ast, NodeKind::kLoad), 2);
  EXPECT_TRUE(computes(k, y, "a + a^T"));
}

TEST(Task2Lower, ReducesOverAnyAxes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Dual x = Dual::randn({5, 4, 6}, rng);
    struct Case {
      const char* name;
      Dual y;
      std::vector<int> axes;
    };
    const Case cases[] = {
        {"sum over axis 0", x.sum({0}), {0}},
        {"max over axis 1", x.max({1}, true), {1}},
        {"sum over axes 0 and 2", x.sum({0, 2}) * 2.0, {0, 2}},
        {"max over all", x.max(), {0, 1, 2}},
        {"sum over axis 2, then + 1", x.sum({2}, true) + 1.0, {2}},
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(c.name);
      const Kernel k = lowered(c.y);
      ASSERT_NO_THROW(ch05::verify(k)) << ch05::to_string(k);
      EXPECT_EQ(k.shape, (ch04::Shape{5, 4, 6}));
      ASSERT_NE(k.reduce_node(), nullptr);
      EXPECT_EQ(k.reduce_node()->axes, c.axes);
      EXPECT_TRUE(computes(k, c.y, c.name));
    }
  }
}

TEST(Task2Lower, RealizePointsBelowTheRootAreLoads) {
  std::mt19937_64 rng(14);
  Dual a = Dual::randn({6, 5}, rng), b = Dual::randn({6, 5}, rng);
  Dual p = a * b, y = p.exp() + 1.0;
  const Kernel k = lowered(y, {base_of(p)});
  ASSERT_EQ(k.buffers.size(), 2u) << "y's kernel reads p's buffer, not a and b";
  EXPECT_EQ(k.buffers[1].get(), base_of(p));
  EXPECT_EQ(count(k.ast, NodeKind::kLoad), 1);
  EXPECT_EQ(count(k.ast, NodeKind::kAlu), 3) << "MUL by 1/ln 2, EXP2, ADD; no MUL of a and b";
}

TEST(Task2Lower, ASecondReduceInTheKernelIsRefused) {
  std::mt19937_64 rng(15);
  Dual inner = Dual::randn({4, 5, 6}, rng).sum({2});
  Dual y = inner.max({1});
  const ch05::Lowered l = ch05::lower(y.ours.lazy()->base(), {base_of(y)});
  EXPECT_FALSE(l.kernel.has_value()) << "two reduces in one kernel: no kernel";
  EXPECT_EQ(l.must_realize, base_of(inner)) << "the reduce farther from the root (the sum) must be realized first";
  // With the sum as a point the max is an ordinary reduce kernel.
  const ch05::Lowered ok = ch05::lower(y.ours.lazy()->base(), {base_of(y), base_of(inner)});
  ASSERT_TRUE(ok.kernel.has_value());
  EXPECT_EQ(ok.must_realize, nullptr);
}

TEST(Task2Lower, AReduceReadThroughAViewAboveItIsRefused) {
  std::mt19937_64 rng(16);
  Dual s = Dual::randn({4, 6, 8}, rng).sum({2});
  Dual y = (s + 1.0).permute({1, 0}) * 2.0;  // s + 1 is read transposed
  const ch05::Lowered l = ch05::lower(y.ours.lazy()->base(), {base_of(y)});
  EXPECT_FALSE(l.kernel.has_value());
  EXPECT_EQ(l.must_realize, base_of(s)) << "the kernel's coordinates (6, 4) are not the sum's (4, 6, 1)";
  // A same-size reshape keeps the sum's order: no refusal.
  Dual z = (s + 1.0).reshape({24}) * 2.0;
  const Kernel k = lowered(z);
  EXPECT_TRUE(computes(k, z, "sum, + 1, reshaped, * 2"));
}

TEST(Task2Lower, RejectsViewsAndRealizedRoots) {
  std::mt19937_64 rng(17);
  Dual a = Dual::randn({3, 4}, rng);
  Dual t = (a * 2.0).transpose();
  EXPECT_THROW(ch05::lower(t.ours.lazy(), {}), std::invalid_argument) << "a view is not a root";
  EXPECT_THROW(ch05::lower(a.ours.lazy(), {}), std::invalid_argument) << "a loaded (realized) node has no kernel";
}

// Random fusable graphs: elementwise ops over random movement views of random inputs, with
// at most one reduce read in its own order. Only the root is a realize point, so everything
// fuses into one kernel, which must compute what tinyref computes.
TEST(Task2Lower, RandomFusedGraphsComputeTinyrefsValues) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 20; ++trial) {
      SCOPED_TRACE("trial " + std::to_string(trial));
      const int64_t n = 2 + rng() % 5, m = 1 + rng() % 9;
      auto input = [&]() -> Dual {
        switch (rng() % 5) {
          case 0: return Dual::randn({m, n}, rng).transpose();
          case 1: return Dual::randn({n, m}, rng).flip({static_cast<int>(rng() % 2)});
          case 2: return Dual::randn({n + 2, m + 1}, rng).shrink({{1, n + 1}, {0, m}});
          case 3: return Dual::randn({1, m}, rng).expand({n, m});
          default: return Dual::randn({n, m}, rng);
        }
      };
      Dual y = input();
      const int ops = 1 + rng() % 4;
      for (int i = 0; i < ops; ++i) {
        switch (rng() % 6) {
          case 0: y = y * input(); break;
          case 1: y = y.sin() + input(); break;
          case 2: y = y.maximum(input()); break;
          case 3: y = y.pad({{1, 0}, {0, 1}}).shrink({{0, n}, {1, m + 1}}) - input(); break;  // shifted
          case 4: y = y.lt(input()).where(y, input() * 0.5); break;
          default: y = y.neg().flip({0}) + input(); break;
        }
      }
      if (rng() % 2) y = (rng() % 2 ? y.sum({static_cast<int>(rng() % 2)}, true) : y.max({1}, true)) * 2.0;
      const Kernel k = lowered(y);
      ASSERT_NO_THROW(ch05::verify(k)) << ch05::to_string(k);
      ASSERT_TRUE(computes(k, y, "random fused graph"));
    }
  }
}

}  // namespace
