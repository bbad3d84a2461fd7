// Task ch05.3: create_schedule. The graph table's kernel counts against tinyref's (and the
// number each row states), the order of the kernels, and their values: every schedule is run
// by the test's own slow evaluator (kernel_oracle.h), so these tests need no runner of yours.
#include <random>
#include <set>

#include "ch05/schedule.h"
#include "gtest/gtest.h"
#include "tests/05_scheduling_fusion/dual.h"
#include "tests/05_scheduling_fusion/fusion_testing.h"
#include "tests/05_scheduling_fusion/graphs.h"
#include "tests/05_scheduling_fusion/kernel_oracle.h"
#include "tests/testing/testing.h"

namespace {

using dual::Dual;
using fusion_testing::base_of;
using fusion_testing::names;
using fusion_testing::ours;
using fusion_testing::tinyref_count;

TEST(Task3Schedule, KernelCountsEqualTinyrefsOnTheGraphTable) {
  // Counts do not depend on the values: the first seed is enough.
  fusion_testing::for_each_graph([](const graphs::GraphCase& g, const std::vector<Dual>& outs) {
    const int reference = tinyref_count(outs);
    EXPECT_EQ(reference, g.kernels) << "course bug: tinyref's count changed from the one the table states";
    const std::vector<ch05::Kernel> kernels = ch05::create_schedule(ours(outs));
    EXPECT_EQ(static_cast<int>(kernels.size()), reference) << "your kernels: " << names(kernels);
    EXPECT_EQ(ch05::count_kernels(ours(outs)), static_cast<int>(kernels.size()));
  }, /*every_seed=*/false);
}

TEST(Task3Schedule, EveryKernelIsWellFormedAndRunsAfterWhatItReads) {
  fusion_testing::for_each_graph([](const graphs::GraphCase&, const std::vector<Dual>& outs) {
    const std::vector<ch05::Kernel> kernels = ch05::create_schedule(ours(outs));
    std::set<const ch04::LazyBuffer*> written;
    for (size_t i = 0; i < kernels.size(); ++i) {
      const ch05::Kernel& k = kernels[i];
      ASSERT_NO_THROW(ch05::verify(k)) << "kernel " << i << ":\n" << ch05::to_string(k);
      EXPECT_FALSE(k.buffers[0]->is_view()) << "kernel " << i << " must write a base";
      EXPECT_TRUE(written.insert(k.buffers[0].get()).second) << "kernel " << i << " writes a node another kernel wrote";
      for (size_t j = 1; j < k.buffers.size(); ++j) {
        EXPECT_TRUE(k.buffers[j]->realized() || written.count(k.buffers[j].get()))
            << "kernel " << i << " (" << k.name() << ") reads buffer " << j
            << " before any kernel wrote it: order kernels so that producers come first (" << names(kernels) << ")";
      }
    }
    for (const Dual& o : outs) {
      EXPECT_TRUE(o.ours.lazy()->realized() || written.count(base_of(o))) << "an output is never written";
    }
  }, /*every_seed=*/false);
}

TEST(Task3Schedule, SchedulesComputeTinyrefsValues) {
  fusion_testing::for_each_graph([](const graphs::GraphCase& g, const std::vector<Dual>& outs) {
    oracle::run_schedule(ch05::create_schedule(ours(outs)));  // realizes every output
    EXPECT_TRUE(fusion_testing::same_values(outs, g.name));
  });
}

TEST(Task3Schedule, RealizedOutputsNeedNoKernels) {
  std::mt19937_64 rng(21);
  Dual a = Dual::randn({4, 4}, rng);
  EXPECT_TRUE(ch05::create_schedule(ours({a})).empty()) << "a is loaded data";
  Dual y = a * 2.0;
  oracle::run_schedule(ch05::create_schedule(ours({y})));
  EXPECT_TRUE(ch05::create_schedule(ours({y, y.transpose()})).empty()) << "y (and any view of it) is realized now";
  Dual z = y + a;
  const std::vector<ch05::Kernel> ks = ch05::create_schedule(ours({z}));
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ks[0].buffers.size(), 3u) << "z reads y's buffer and a's: y is not computed again";
}

TEST(Task3Schedule, AnOutputListedTwiceIsOneKernel) {
  std::mt19937_64 rng(22);
  Dual y = Dual::randn({5, 3}, rng).exp();
  EXPECT_EQ(ch05::count_kernels(ours({y, y, y.transpose()})), 1);
}

TEST(Task3Schedule, RefusedReducesGetTheirOwnKernelFirst) {
  std::mt19937_64 rng(23);
  Dual inner = Dual::randn({4, 5, 6}, rng).sum({2});
  Dual y = inner.max({1});
  const std::vector<ch05::Kernel> ks = ch05::create_schedule(ours({y}));
  ASSERT_EQ(ks.size(), 2u) << names(ks);
  EXPECT_EQ(ks[0].buffers[0].get(), base_of(inner)) << "the sum runs first, into its own buffer";
  EXPECT_EQ(ks[1].buffers[0].get(), base_of(y));
  EXPECT_EQ(ks[1].buffers[1].get(), base_of(inner)) << "the max reads the sum's buffer";
}

TEST(Task3Schedule, ABroadcastReduceIsComputedOnce) {
  // x - mean(x): the mean is read broadcast, so it is realized (one reduce kernel) and the
  // subtraction loads it; it is not fused into the subtraction and recomputed per element.
  std::mt19937_64 rng(24);
  Dual x = Dual::randn({6, 10}, rng);
  Dual mean = x.mean({1}, true), y = x - mean;
  const std::vector<ch05::Kernel> ks = ch05::create_schedule(ours({y}));
  ASSERT_EQ(ks.size(), 2u) << names(ks);
  EXPECT_NE(ks[0].reduce_node(), nullptr) << "first the mean's reduce kernel";
  EXPECT_EQ(ks[1].reduce_node(), nullptr) << "then an elementwise kernel that loads it";
}

}  // namespace
