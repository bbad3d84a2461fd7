// Task 7: parallelize. The threads share the leading output loops (collapsed when the first
// is too short to go around), never a reduce loop (its iterations add into one accumulator:
// shared, they race), and leave small kernels alone. Runs use two OpenMP threads.
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/optimize_testing.h"
#include "tests/06_cpu_codegen/twin_kernel.h"

namespace {

using namespace optimize_testing;
using ch06::LoopKind;

TEST(Task7Parallel, SharesTheOutputLoops) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 64, 48, 32);
  const Optimized c = optimized(t, only("parallel"));
  ASSERT_GE(c.loops.parallel, 1) << "a 64x48x32 matmul is worth two threads: " << c.loops.describe();
  for (int l = 0; l < c.loops.parallel; ++l) EXPECT_EQ(c.loops.loops[l].kind, LoopKind::kGlobal) << c.loops.describe();
  EXPECT_NE(c.source.find("#pragma omp parallel for"), std::string::npos) << c.source;
  EXPECT_TRUE(means_the_same(t, c));
  EXPECT_TRUE(runs_on_threads(t, only("parallel"), 2));
}

TEST(Task7Parallel, CollapsesAShortFirstLoop) {
  // out (2, 96, 200) = x + a transposed y: the first loop has 2 iterations for 2 threads, too
  // few to even out; with the second it has 192.
  twin::Builder b({2, 96, 200}, ch04::DType::kFloat32);
  std::mt19937_64 rng(2);
  const twin::Node x = b.load({2, 96, 200}, twin::quarters(rng, 2 * 96 * 200), [](auto st) { return st; });
  const twin::Node y = b.load({2, 200, 96}, twin::quarters(rng, 2 * 96 * 200), [](auto st) { return st.permute({0, 2, 1}); });
  const twin::Twin t = b.finish(b.alu(ch04::Op::ADD, {x, y}));
  ch06::LoopKernel k(t.kernel);
  ch06::parallelize(k, 2);
  EXPECT_EQ(k.parallel, 2) << "collapse the first two loops (2 x 96 iterations): " << k.describe();
  EXPECT_TRUE(runs_on_threads(t, only("parallel"), 2));
  EXPECT_NE(optimized(t, only("parallel")).source.find("collapse(2)"), std::string::npos);
}

TEST(Task7Parallel, NeverSharesAReduceLoop) {
  std::mt19937_64 rng(3);
  {  // one output, 2^18 values: no output loop to share, and sharing the reduce loop would race
    twin::Builder b({1 << 18}, ch04::DType::kFloat32);
    const twin::Node x = b.load({1 << 18}, twin::quarters(rng, 1 << 18), [](auto st) { return st; });
    const twin::Twin t = b.finish(b.reduce(ch04::Op::SUM, x, {0}));
    ch06::LoopKernel k(t.kernel);
    ch06::parallelize(k, 2);
    EXPECT_EQ(k.parallel, 0) << "a full reduction has no output loop to share: " << k.describe();
    EXPECT_TRUE(runs_on_threads(t, only("parallel"), 2));
  }
  {  // 3 outputs of 2^16 values each: the 3 outputs may go to threads, each reduce stays whole
    twin::Builder b({3, 1 << 16}, ch04::DType::kFloat32);
    const twin::Node x = b.load({3, 1 << 16}, twin::quarters(rng, 3 << 16), [](auto st) { return st; });
    const twin::Twin t = b.finish(b.reduce(ch04::Op::SUM, x, {1}));
    ch06::LoopKernel k(t.kernel);
    ch06::parallelize(k, 2);
    for (int l = 0; l < k.parallel; ++l) EXPECT_EQ(k.loops[l].kind, LoopKind::kGlobal) << k.describe();
    EXPECT_TRUE(runs_on_threads(t, only("parallel"), 2));
  }
}

TEST(Task7Parallel, LeavesSmallKernelsAlone) {
  std::mt19937_64 rng(4);
  const twin::Twin t = twin::matmul(rng, 4, 5, 6);
  ch06::LoopKernel k(t.kernel);
  ch06::parallelize(k, 2);
  EXPECT_EQ(k.parallel, 0) << "120 multiply-adds do not pay for waking a second thread";
  ch06::LoopKernel k1(t.kernel);
  ch06::parallelize(k1, 1);
  EXPECT_EQ(k1.parallel, 0) << "one thread: nothing to share";
}

TEST(Task7Parallel, RandomKernelsOnTwoThreads) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 4; ++trial) {
      twin::Options o;
      o.reduce = trial % 2 == 1;
      o.extents = {3, 16, 17, 31, 64, 96};
      o.max_elements = 1 << 17;
      o.max_reduce = 2048;
      const twin::Twin t = twin::random_kernel(rng, o);
      ASSERT_TRUE(runs_on_threads(t, only("parallel"), 2));
    }
  }
}

}  // namespace
