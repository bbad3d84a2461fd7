// Task 8: reorder_loops. The innermost output loop, and the innermost reduce loop, is the one
// along which the most leaves move stride-1 (for output loops the STORE counts too, and wins
// ties): a transposed read then walks memory forward instead of jumping a row per step.
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/optimize_testing.h"
#include "tests/06_cpu_codegen/twin_kernel.h"

namespace {

using namespace optimize_testing;
using ch06::LoopKind;

// out (a, b) = x + y * z with the first `transposed_loads` of x, y, z stored (b, a) and read
// transposed: those walk dimension 0 stride-1, the others and the store dimension 1.
twin::Twin transposed_sum(int64_t a, int64_t b, int transposed_loads) {
  twin::Builder bld({a, b}, ch04::DType::kFloat32);
  std::mt19937_64 rng(static_cast<uint64_t>(a * 1000 + b));
  auto plain = [](auto st) { return st; };
  auto transposed = [](auto st) { return st.permute({1, 0}); };
  std::vector<twin::Node> loads;
  for (int i = 0; i < 3; ++i) {
    const bool t = i < transposed_loads;
    loads.push_back(bld.load(t ? ch04::Shape{b, a} : ch04::Shape{a, b}, twin::quarters(rng, a * b), [&](auto st) {
      return t ? transposed(st) : plain(st);
    }));
  }
  return bld.finish(bld.alu(ch04::Op::ADD, {loads[0], bld.alu(ch04::Op::MUL, {loads[1], loads[2]})}));
}

TEST(Task8Reorder, MostStrideOneLoadsGoInnermost) {
  const twin::Twin t = transposed_sum(12, 20, 3);
  ch06::LoopKernel k(t.kernel);
  const std::string before = k.describe();
  ch06::reorder_loops(k);
  ASSERT_EQ(k.loops.size(), 2u) << k.describe();
  EXPECT_EQ(k.loops[1].var, "gidx0") << "three loads move stride-1 along gidx0, only the store along gidx1: "
                                     << before << " -> " << k.describe();
  EXPECT_EQ(k.stride(1, 1), 1) << "x is read stride-1 in the inner loop now";
  EXPECT_TRUE(means_the_same(t, optimized(t, only("reorder"))));
}

TEST(Task8Reorder, TheStoreWinsATie) {
  const twin::Twin t = transposed_sum(12, 20, 2);  // two loads along gidx0; one load and the store along gidx1
  ch06::LoopKernel k(t.kernel);
  ch06::reorder_loops(k);
  EXPECT_EQ(k.loops[1].var, "gidx1") << "a tie: the innermost loop stays " << k.describe();
  const twin::Twin u = transposed_sum(9, 7, 1);  // one transposed load: nothing to gain
  ch06::LoopKernel ku(u.kernel);
  ch06::reorder_loops(ku);
  EXPECT_EQ(ku.loops[1].var, "gidx1") << ku.describe();
  EXPECT_TRUE(means_the_same(t, optimized(t, only("reorder"))));
}

TEST(Task8Reorder, ReduceLoopsToo) {
  // sum over (r1, r2) of x stored (o, r2, r1): r1 is the stride-1 one, so it goes innermost.
  twin::Builder b({5, 6, 7}, ch04::DType::kFloat32);
  std::mt19937_64 rng(3);
  const twin::Node x = b.load({5, 7, 6}, twin::quarters(rng, 210), [](auto st) { return st.permute({0, 2, 1}); });
  const twin::Twin t = b.finish(b.reduce(ch04::Op::SUM, x, {1, 2}));
  ch06::LoopKernel k(t.kernel);
  ch06::reorder_loops(k);
  ASSERT_EQ(k.loops.size(), 3u) << k.describe();
  EXPECT_EQ(k.loops[0].kind, LoopKind::kGlobal) << "output loops stay outside: " << k.describe();
  EXPECT_EQ(k.stride(1, 2), 1) << "the innermost reduce loop should read x stride-1: " << k.describe();
  EXPECT_TRUE(means_the_same(t, optimized(t, only("reorder"))));
}

TEST(Task8Reorder, RandomKernelsMeanTheSame) { random_kernels_mean_the_same(only("reorder"), false, 6); }

}  // namespace
