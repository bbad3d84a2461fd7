// Task 4: group_combine. A group reduce's partials added up through shared memory. On the
// emulator every kernel here also runs under the race check (a thread reading a partial that
// another thread writes without a __syncthreads() between them), the check of shared memory
// read before anyone wrote it, and the check that every thread reaches the same barriers: any
// of them fails the test with the emulator's report, even where the numbers come out right.
#include <random>
#include <string>
#include <vector>

#include "ch08/render_cuda.h"
#include "gtest/gtest.h"
#include "tests/08_cuda_codegen/gpu_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch04::Op;
using ch08::GpuOptions;

twin::Twin row_reduce(int64_t rows, int64_t n, Op op = Op::SUM, ch04::DType dtype = ch04::DType::kFloat32, int lo = -8) {
  twin::Builder bld({rows, n}, dtype);
  std::mt19937_64 rng(static_cast<uint64_t>(rows * 1000 + n));
  const twin::Node x = bld.load({rows, n}, twin::quarters(rng, rows * n, lo, lo + 16), [](auto st) { return st; });
  return bld.finish(bld.reduce(op, x, {1}));
}

GpuOptions group_of(int size) {
  GpuOptions o;
  o.group = size;
  o.group_reduce = 2;
  o.float4 = false;
  return o;
}

::testing::AssertionResult runs_like_tinyref(const twin::Twin& t, const ch08::GpuKernel& plan, int64_t want_group) {
  const ch08::GpuProgram g = ch08::lower_gpu(plan);
  if (g.group_size != want_group) {
    return ::testing::AssertionFailure() << "the test expected a group of " << want_group << "\n" << ch08::to_string(g);
  }
  const std::string source = ch08::render_cuda(g);
  std::vector<double> got;
  try {
    got = gpu_testing::run_program(g, source, t);
  } catch (const gpu::GpuError& e) {
    return ::testing::AssertionFailure() << e.what() << "\nsource:\n" << source;
  }
  ::testing::AssertionResult ok = twin::agrees(t, twin::expected(t), got, "the group reduce");
  if (!ok) ok << "\nsource:\n" << source;
  return ok;
}

::testing::AssertionResult runs_like_tinyref(const twin::Twin& t, const GpuOptions& o, int64_t want_group) {
  return runs_like_tinyref(t, ch08::plan_gpu(t.kernel, o), want_group);
}

TEST(Task4Group, SumsOfManyNumbersByAGroupOf256) {
  EXPECT_TRUE(runs_like_tinyref(row_reduce(1, 100000), GpuOptions{}, 256)) << "one output, 391 numbers a thread";
  EXPECT_TRUE(runs_like_tinyref(row_reduce(3, 1000), GpuOptions{}, 256)) << "a block per row, a tail in each";
  EXPECT_TRUE(runs_like_tinyref(row_reduce(2, 256), GpuOptions{}, 256)) << "one number a thread";
}

TEST(Task4Group, GroupsOfAnySize) {
  for (int size : {100, 7, 3, 2, 33}) {
    EXPECT_TRUE(runs_like_tinyref(row_reduce(2, 1000), group_of(size), size))
        << "a group of " << size << ": the tree must not assume a power of two";
  }
}

TEST(Task4Group, MaxOfNegativeNumbers) {
  // Every value below 0, so partials that start at 0 instead of -inf would win.
  EXPECT_TRUE(runs_like_tinyref(row_reduce(3, 700, Op::RMAX, ch04::DType::kFloat32, -20), group_of(128), 128));
  EXPECT_TRUE(runs_like_tinyref(row_reduce(2, 50, Op::RMAX, ch04::DType::kFloat32, -20), group_of(64), 50))
      << "50 numbers shared by 50 threads";
}

TEST(Task4Group, Float64) {
  EXPECT_TRUE(runs_like_tinyref(row_reduce(2, 3000, Op::SUM, ch04::DType::kFloat64), GpuOptions{}, 256));
}

TEST(Task4Group, SeveralGroupsInOneBlock) {
  GpuOptions o = group_of(32);
  const twin::Twin t = row_reduce(16, 500);
  const ch08::GpuKernel plan = ch08::plan_gpu(t.kernel, o);
  ASSERT_EQ(plan.thread_count(), 256) << "8 rows' groups of 32 threads in a block of 256: " << plan.loops.describe();
  EXPECT_TRUE(runs_like_tinyref(t, plan, 32)) << "each group combines its own 32 partials, starting at its own first "
                                                 "thread (threadIdx.x - the group digit)";
}

TEST(Task4Group, SeveralAccumulatorsAThread) {
  // Each thread sums 2 rows side by side (an upcast): two accumulators, two rows of partials.
  const twin::Twin t = row_reduce(6, 300);
  ch06::LoopKernel k(t.kernel);
  ASSERT_EQ(k.describe(), "gidx0<6 ridx0<300");
  k.split(0, 2, ch06::LoopKind::kUpcast);
  const size_t group = k.split(k.find("ridx0"), 64, ch06::LoopKind::kReduce);
  ch08::GpuKernel plan(k);
  plan.blocks = {"gidx0"};
  plan.group = k.loops[group].var;
  plan.threads = {plan.group};
  EXPECT_TRUE(runs_like_tinyref(t, plan, 64));
}

TEST(Task4Group, BarriersAroundTheSharedPartials) {
  const ch08::GpuProgram g = ch08::lower_gpu(ch08::plan_gpu(row_reduce(1, 5000).kernel, GpuOptions{}));
  const std::string source = ch08::render_cuda(g);
  EXPECT_NE(source.find("__shared__ float"), std::string::npos) << source;
  size_t barriers = 0;
  for (size_t at = source.find("__syncthreads()"); at != std::string::npos; at = source.find("__syncthreads()", at + 1)) {
    ++barriers;
  }
  EXPECT_GE(barriers, 2u) << "one after the partials are written, one after every step of the tree:\n" << source;
}

}  // namespace
