// Task 10: split_accumulators. A reduction with few accumulators is a chain: each add waits for
// the one before (4 cycles apiece on most CPUs). Several partial accumulators, one per position
// of an unrolled piece of the innermost reduce loop, are independent chains the CPU overlaps;
// they are combined once the loop ends. A max must start its partials at -inf too, and a tail
// position must add nothing.
#include <cmath>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/optimize_testing.h"
#include "tests/06_cpu_codegen/twin_kernel.h"

namespace {

using namespace optimize_testing;
using ch06::LoopKind;
using ch06::UOpKind;

twin::Twin row_reduce(ch04::Op op, int64_t rows, int64_t n, int lo = -8, int hi = 8) {
  twin::Builder b({rows, n}, ch04::DType::kFloat32);
  std::mt19937_64 rng(static_cast<uint64_t>(rows * 7 + n));
  const twin::Node x = b.load({rows, n}, twin::quarters(rng, rows * n, lo, hi), [](auto st) { return st; });
  return b.finish(b.reduce(op, x, {1}));
}

TEST(Task10Registers, FourPartialSums) {
  const twin::Twin t = row_reduce(ch04::Op::SUM, 3, 1000);
  OptimizeOptions o = only("registers");
  o.partials = 4;
  const Optimized c = optimized(t, o);
  EXPECT_EQ(count(c.program, UOpKind::kDefineAcc), 4) << "4 partial accumulators per output\n" << c.source;
  EXPECT_EQ(count(c.program, UOpKind::kAccumulate), 4) << c.source;
  EXPECT_EQ(c.loops.loops.back().kind, LoopKind::kUnroll) << c.loops.describe();
  EXPECT_TRUE(means_the_same(t, c));
}

TEST(Task10Registers, MaxPartialsStartAtMinusInfinity) {
  const twin::Twin t = row_reduce(ch04::Op::RMAX, 4, 64, -40, -1);  // every value negative
  const Optimized c = optimized(t, only("registers"));
  for (const ch06::UOp& u : c.program.uops) {
    if (u.kind == UOpKind::kDefineAcc) {
      EXPECT_TRUE(std::isinf(u.value) && u.value < 0) << c.source;
    }
  }
  EXPECT_TRUE(means_the_same(t, c));
}

TEST(Task10Registers, TailPositionsAddNothing) {
  for (ch04::Op op : {ch04::Op::SUM, ch04::Op::RMAX}) {
    for (int64_t n : {17, 19, 1001, 1003}) {
      const twin::Twin t = row_reduce(op, 2, n, -40, -1);
      const Optimized c = optimized(t, only("registers"));
      EXPECT_EQ(c.loops.extent_of(LoopKind::kUnroll), 8) << c.loops.describe();
      EXPECT_TRUE(means_the_same(t, c)) << ch04::op_name(op) << " of " << n << " values in 8 partials";
    }
  }
}

TEST(Task10Registers, NotWhenAnOutputIsUpcast) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 8, 16, 32);
  const Optimized c = optimized(t, only("upcast registers"));
  EXPECT_EQ(c.loops.extent_of(LoopKind::kUnroll), 1) << "16 upcast accumulators are 16 chains already: "
                                                       << c.loops.describe();
  EXPECT_TRUE(means_the_same(t, c));
  const twin::Twin e = twin::random_kernel(rng, {});  // no reduce: nothing to accumulate
  ch06::LoopKernel k(e.kernel);
  ch06::split_accumulators(k, 4);
  EXPECT_EQ(k.extent_of(LoopKind::kUnroll), 1) << k.describe();
}

TEST(Task10Registers, RandomKernelsMeanTheSame) { random_kernels_mean_the_same(only("registers"), true, 6); }

}  // namespace
