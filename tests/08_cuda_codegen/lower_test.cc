// Task 2: lower_gpu and index_expression. The plan's digits turn from loops into SPECIAL uops;
// checked by form (where the SPECIALs are, which RANGEs are gone, the launch) and by meaning:
// the lowered program, run thread by thread on the CPU (gpu_interpreter.h, no renderer, no
// GPU), computes tinyref's result and writes every output exactly once.
#include "ch08/gpu_program.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/twin_kernel.h"
#include "tests/08_cuda_codegen/gpu_interpreter.h"
#include "tests/testing/testing.h"

namespace {

using ch06::UOpKind;
using ch08::GpuOptions;
using ch08::GpuProgram;

GpuProgram lowered(const twin::Twin& t, const GpuOptions& o = {}) { return ch08::lower_gpu(ch08::plan_gpu(t.kernel, o)); }

::testing::AssertionResult computes_tinyref(const twin::Twin& t, const GpuProgram& g) {
  std::vector<std::vector<double>> bufs = {std::vector<double>(static_cast<size_t>(t.outputs))};
  bufs.insert(bufs.end(), t.inputs.begin(), t.inputs.end());
  const std::string error = gpu_interpreter::run(g, bufs);
  if (!error.empty()) return ::testing::AssertionFailure() << error << "\n" << ch08::to_string(g) << "kernel:\n" << t.text();
  ::testing::AssertionResult r = twin::agrees(t, twin::expected(t), bufs[0], "the lowered program");
  if (!r) r << "\n" << ch08::to_string(g);
  return r;
}

int count(const GpuProgram& g, UOpKind kind) {
  int n = 0;
  for (const ch06::UOp& u : g.program.uops) n += u.kind == kind;
  return n;
}

// The sum over the last axis of x (rows, n).
twin::Twin row_sums(int64_t rows, int64_t n, ch04::Op op = ch04::Op::SUM) {
  twin::Builder bld({rows, n}, ch04::DType::kFloat32);
  std::mt19937_64 rng(static_cast<uint64_t>(rows * 1000 + n));
  const twin::Node x = bld.load({rows, n}, twin::quarters(rng, rows * n), [](auto st) { return st; });
  return bld.finish(bld.reduce(op, x, {1}));
}

TEST(Task2Lower, RandomKernelsComputeTinyrefsResult) {
  GpuOptions group;
  group.group_reduce = 16;
  group.group = 24;
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 6; ++trial) {
      twin::Options o;
      o.reduce = trial % 2 == 1;
      o.max_elements = 2048;
      const twin::Twin t = twin::random_kernel(rng, o);
      for (const GpuOptions& options : {GpuOptions{}, GpuOptions::none(), group}) {
        ASSERT_TRUE(computes_tinyref(t, lowered(t, options))) << "options " << options.str();
      }
    }
  }
}

TEST(Task2Lower, DigitsBecomeSpecialsAfterTheGlobals) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 64, 64, 16, true);
  const ch08::GpuKernel plan = ch08::plan_gpu(t.kernel, GpuOptions{});
  const GpuProgram g = ch08::lower_gpu(plan);
  const size_t digits = plan.blocks.size() + plan.threads.size();
  ASSERT_EQ(count(g, UOpKind::kSpecial), static_cast<int>(digits)) << "one SPECIAL per digit\n" << ch08::to_string(g);
  for (size_t i = 0; i < digits; ++i) {
    const ch06::UOp& u = g.program.uops.at(4 + i);
    ASSERT_EQ(u.kind, UOpKind::kSpecial) << "the SPECIALs come right after the 4 DEFINE_GLOBALs\n" << ch08::to_string(g);
    EXPECT_EQ(u.var, g.indices.at(i).var) << "in the order of the indices: blocks, then threads";
  }
  EXPECT_EQ(count(g, UOpKind::kRange), 1) << "only the reduce loop is still a loop\n" << ch08::to_string(g);
  EXPECT_EQ(count(g, UOpKind::kEndRange), 1) << ch08::to_string(g);
  for (size_t i = 0; i < g.program.uops.size(); ++i) {
    for (int s : g.program.uops[i].src) ASSERT_LT(s, static_cast<int>(i)) << "operands come before their uop\n" << ch08::to_string(g);
  }
  EXPECT_EQ(g.dims.blocks, plan.block_count());
  EXPECT_EQ(g.dims.threads, plan.thread_count());
  EXPECT_TRUE(computes_tinyref(t, g));
}

TEST(Task2Lower, DigitsInMixedRadix) {
  const twin::Twin t = row_sums(4, 2);  // any kernel: the indices below are set by hand
  GpuProgram g = lowered(t, GpuOptions::none());
  g.dims = {8 * 4, 5 * 3};
  const ch08::GpuIndex slow{"a", 8, true, 4}, fast{"b", 4, true, 1}, t_slow{"c", 5, false, 3}, t_fast{"d", 3, false, 1};
  EXPECT_EQ(ch08::index_expression(slow, g.dims), "(blockIdx.x/4)") << "the slowest digit needs no %";
  EXPECT_EQ(ch08::index_expression(fast, g.dims), "(blockIdx.x%4)") << "a stride of 1 needs no /";
  EXPECT_EQ(ch08::index_expression(t_slow, g.dims), "(threadIdx.x/3)");
  EXPECT_EQ(ch08::index_expression(t_fast, g.dims), "(threadIdx.x%3)");
  const ch08::GpuIndex middle{"m", 5, true, 3};
  g.dims.blocks = 2 * 5 * 3;
  EXPECT_EQ(ch08::index_expression(middle, g.dims), "((blockIdx.x/3)%5)");
  const ch08::GpuIndex only{"o", 30, true, 1};
  EXPECT_EQ(ch08::index_expression(only, g.dims), "blockIdx.x");
}

TEST(Task2Lower, TheLastDigitIsTheFastest) {
  // out (7, 6, 300) = x + y^T: three loops that do not merge. 300 threads do not fit a block of
  // 256: the columns split into 2 blocks' worth, and three block digits.
  twin::Builder b({7, 6, 300}, ch04::DType::kFloat32);
  std::mt19937_64 rng(8);
  const twin::Node x = b.load({7, 6, 300}, twin::quarters(rng, 12600), [](auto st) { return st; });
  const twin::Node y = b.load({300, 6, 7}, twin::quarters(rng, 12600), [](auto st) { return st.permute({2, 1, 0}); });
  const twin::Twin t = b.finish(b.alu(ch04::Op::ADD, {x, y}));
  const GpuProgram g = lowered(t, GpuOptions::none());
  for (bool block : {true, false}) {
    std::vector<ch08::GpuIndex> digits;
    for (const ch08::GpuIndex& d : g.indices) {
      if (d.block == block) digits.push_back(d);
    }
    ASSERT_FALSE(digits.empty()) << ch08::to_string(g);
    EXPECT_EQ(digits.back().stride, 1) << "the last (innermost) digit moves fastest: neighbouring threads, neighbouring "
                                          "memory\n" << ch08::to_string(g);
    for (size_t i = 0; i + 1 < digits.size(); ++i) {
      EXPECT_EQ(digits[i].stride, digits[i + 1].stride * digits[i + 1].extent)
          << "each digit's stride is the product of the extents after it\n" << ch08::to_string(g);
    }
    EXPECT_EQ(digits.front().stride * digits.front().extent, block ? g.dims.blocks : g.dims.threads) << ch08::to_string(g);
  }
  EXPECT_EQ(g.dims.blocks, 7 * 6 * 2) << ch08::to_string(g);
  EXPECT_TRUE(computes_tinyref(t, g));
}

TEST(Task2Lower, AGridCoversTheTail) {
  // 1000 outputs, 256 threads, no upcast: 4 blocks, the last one a quarter empty.
  const twin::Twin t = row_sums(1000, 3);
  const GpuProgram g = lowered(t, GpuOptions::none());
  EXPECT_EQ(g.dims.blocks * g.dims.threads, 1024) << "4 blocks of 256 threads, not 3 (1000 / 256 rounded down)\n"
                                                  << ch08::to_string(g);
  EXPECT_TRUE(computes_tinyref(t, g));
}

TEST(Task2Lower, OnlyTheGroupsFirstThreadStores) {
  const twin::Twin t = row_sums(3, 1000);
  const GpuProgram g = lowered(t);
  ASSERT_EQ(g.group_size, 256) << ch08::to_string(g);
  for (const ch06::UOp& u : g.program.uops) {
    if (u.kind == UOpKind::kStore) {
      ASSERT_TRUE(u.valid != nullptr) << "the group's 256 threads must not all store\n" << ch08::to_string(g);
      EXPECT_NE(ch04::render(u.valid).find(g.group), std::string::npos) << "the guard tests the group digit\n"
                                                                        << ch08::to_string(g);
    }
  }
  EXPECT_TRUE(computes_tinyref(t, g));
}

TEST(Task2Lower, CombineAfterTheReduceLoopsClose) {
  for (const auto& [rows, n] : std::vector<std::pair<int64_t, int64_t>>{{2, 1000}, {2, 256}, {1, 300}}) {
    const twin::Twin t = row_sums(rows, n, ch04::Op::RMAX);
    const GpuProgram g = lowered(t);
    ASSERT_FALSE(g.group.empty()) << "rows " << rows << " n " << n << "\n" << ch08::to_string(g);
    ASSERT_GE(g.combine_after, 0) << ch08::to_string(g);
    int last_accumulate = -1;
    for (size_t i = 0; i < g.program.uops.size(); ++i) {
      if (g.program.uops[i].kind == UOpKind::kAccumulate) last_accumulate = static_cast<int>(i);
    }
    int want = last_accumulate;
    while (g.program.uops.at(static_cast<size_t>(want) + 1).kind == UOpKind::kEndRange) ++want;
    EXPECT_EQ(g.combine_after, want) << "after the last ACCUMULATE and the END_RANGEs that close its loops\n"
                                     << ch08::to_string(g);
    EXPECT_TRUE(computes_tinyref(t, g));
  }
  EXPECT_EQ(lowered(row_sums(4, 4)).combine_after, -1) << "no group, nothing to combine";
}

}  // namespace
