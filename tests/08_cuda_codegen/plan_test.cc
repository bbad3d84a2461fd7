// Task 1: plan_gpu. Which loops become block digits, which thread digits, which reduce loop a
// group of threads shares. Checked on the plan alone (no code): every output is computed by
// exactly one (block, thread, upcast position), blocks stay within what a GPU launches, and
// the choices follow the rules of gpu_kernel.h on kernels picked to show each one.
#include "ch08/gpu_kernel.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ch06/simplify.h"
#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/twin_kernel.h"
#include "tests/testing/testing.h"

namespace {

using ch06::LoopKind;
using ch08::GpuKernel;
using ch08::GpuOptions;

// out (a, b) = x + y^T: the transposed y keeps chapter 6 from merging the two loops.
twin::Twin two_loops(int64_t a, int64_t b) {
  twin::Builder bld({a, b}, ch04::DType::kFloat32);
  std::mt19937_64 rng(static_cast<uint64_t>(a * 1000 + b));
  const twin::Node x = bld.load({a, b}, twin::quarters(rng, a * b), [](auto st) { return st; });
  const twin::Node y = bld.load({b, a}, twin::quarters(rng, a * b), [](auto st) { return st.permute({1, 0}); });
  return bld.finish(bld.alu(ch04::Op::ADD, {x, y}));
}

// The sum over the last axis of x (rows, n).
twin::Twin row_sums(int64_t rows, int64_t n) {
  twin::Builder bld({rows, n}, ch04::DType::kFloat32);
  std::mt19937_64 rng(static_cast<uint64_t>(rows * 1000 + n));
  const twin::Node x = bld.load({rows, n}, twin::quarters(rng, rows * n), [](auto st) { return st; });
  return bld.finish(bld.reduce(ch04::Op::SUM, x, {1}));
}

// The sum over `axes` of an input of shape `full` read through `view`, without any data: the
// plan needs only the shapes (a kernel of millions of elements costs nothing here).
template <typename View>
ch05::Kernel sum_without_data(const ch04::Shape& input, const ch04::Shape& full, std::vector<int> axes, const View& view) {
  ch04::Shape out = full;
  for (int a : axes) out[a] = 1;
  ch05::Kernel k;
  k.shape = full;
  const ch05::NodeRef x = ch05::load(1, ch04::DType::kFloat32, view(ch04::ShapeTracker::contiguous(input)));
  k.ast = ch05::store(ch05::reduce(ch04::Op::SUM, x, axes), ch04::ShapeTracker::contiguous(out));
  k.buffers = {ch04::LazyBuffer::constant(0, ch04::DType::kFloat32, out), ch04::LazyBuffer::constant(0, ch04::DType::kFloat32, input)};
  return k;
}

// x @ w for x (m, k), w (k, n), without data: full shape (m, n, k).
ch05::Kernel matmul_without_data(int64_t m, int64_t n, int64_t k) {
  const ch04::DType f32 = ch04::DType::kFloat32;
  const ch05::NodeRef x = ch05::load(1, f32, ch04::ShapeTracker::contiguous({m, k}).reshape({m, 1, k}).expand({m, n, k}));
  const ch05::NodeRef w = ch05::load(2, f32, ch04::ShapeTracker::contiguous({k, n}).permute({1, 0}).reshape({1, n, k}).expand({m, n, k}));
  ch05::Kernel kernel;
  kernel.shape = {m, n, k};
  kernel.ast = ch05::store(ch05::reduce(ch04::Op::SUM, ch05::alu(ch04::Op::MUL, {x, w}), {2}), ch04::ShapeTracker::contiguous({m, n, 1}));
  kernel.buffers = {ch04::LazyBuffer::constant(0, f32, {m, n, 1}), ch04::LazyBuffer::constant(0, f32, {m, k}),
                    ch04::LazyBuffer::constant(0, f32, {k, n})};
  return kernel;
}

std::string kinds(const GpuKernel& g) {
  std::string s;
  for (const ch06::Loop& l : g.loops.loops) {
    const bool block = std::count(g.blocks.begin(), g.blocks.end(), l.var) > 0;
    const bool thread = std::count(g.threads.begin(), g.threads.end(), l.var) > 0;
    const std::string role = l.var == g.group ? "group" : block ? "block" : thread ? "thread" : ch06::loop_kind_name(l.kind);
    s += (s.empty() ? "" : " ") + role + ":" + std::to_string(l.extent);
  }
  return s;
}

// Every output is written by exactly one (block digits, thread digits, upcast position), with
// the reduce loops (and the group) at 0, as lower_gpu will guard the group's stores.
::testing::AssertionResult covers_every_output_once(const GpuKernel& g, int64_t outputs) {
  const ch06::LoopKernel& k = g.loops;
  std::vector<std::map<std::string, int64_t>> points = {{}};
  for (const ch06::Loop& l : k.loops) {
    const bool output = l.kind == LoopKind::kGlobal || l.kind == LoopKind::kUpcast;
    std::vector<std::map<std::string, int64_t>> next;
    for (const auto& p : points) {
      for (int64_t v = 0; v < (output ? l.extent : 1); ++v) {
        next.push_back(p);
        next.back()[l.var] = v;
      }
    }
    points = std::move(next);
  }
  std::vector<int> writes(static_cast<size_t>(outputs), 0);
  for (const auto& p : points) {
    bool inside = true;
    for (const ch04::Expr& guard : k.guards) inside = inside && ch04::evaluate(guard, p) != 0;
    if (!inside) continue;
    const int64_t i = ch04::evaluate(k.index(0, p).first, p);
    if (i < 0 || i >= outputs) {
      return ::testing::AssertionFailure() << "the plan writes output " << i << " of " << outputs << ": " << k.describe();
    }
    ++writes[static_cast<size_t>(i)];
  }
  for (int64_t i = 0; i < outputs; ++i) {
    if (writes[static_cast<size_t>(i)] != 1) {
      return ::testing::AssertionFailure() << "output " << i << " is computed " << writes[static_cast<size_t>(i)]
                                           << " times (once is right): " << k.describe();
    }
  }
  return ::testing::AssertionSuccess();
}

// The plan's digits are its loops: every output loop is a block or a thread digit, nothing else is.
::testing::AssertionResult digits_are_the_loops(const GpuKernel& g) {
  std::multiset<std::string> digits(g.blocks.begin(), g.blocks.end());
  digits.insert(g.threads.begin(), g.threads.end());
  std::multiset<std::string> want;
  for (const ch06::Loop& l : g.loops.loops) {
    if (l.kind == LoopKind::kGlobal || l.var == g.group) want.insert(l.var);
  }
  if (digits != want) {
    return ::testing::AssertionFailure() << "the block and thread digits must be exactly the output loops (and the "
                                            "group): " << g.loops.describe();
  }
  if (!g.group.empty() && (g.threads.empty() || g.threads.back() != g.group)) {
    return ::testing::AssertionFailure() << "the group " << g.group << " must be the last (fastest) thread digit";
  }
  return ::testing::AssertionSuccess();
}

TEST(Task1Plan, EveryOutputOnceOnRandomKernels) {
  const std::vector<GpuOptions> variants = [] {
    std::vector<GpuOptions> v = {GpuOptions{}, GpuOptions::none()};
    GpuOptions small;
    small.threads = 32;
    small.upcast = 2;
    small.group = 8;
    small.group_reduce = 8;
    small.group_outputs = 64;
    v.push_back(small);
    GpuOptions big;
    big.threads = 1024;
    big.group = 100;
    big.group_reduce = 16;
    v.push_back(big);
    return v;
  }();
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 8; ++trial) {
      twin::Options o;
      o.reduce = trial % 2 == 1;
      const twin::Twin t = twin::random_kernel(rng, o);
      for (const GpuOptions& options : variants) {
        const GpuKernel g = ch08::plan_gpu(t.kernel, options);
        SCOPED_TRACE("options " + options.str() + ", kernel\n" + t.text());
        ASSERT_TRUE(digits_are_the_loops(g));
        ASSERT_TRUE(covers_every_output_once(g, t.outputs));
        EXPECT_LE(g.thread_count(), options.threads) << g.loops.describe();
        EXPECT_EQ(g.loops.parallel, 0) << "no OpenMP on a GPU";
      }
    }
  }
}

TEST(Task1Plan, TheInnermostOutputLoopBecomesThreads) {
  const twin::Twin t = two_loops(1000, 100);
  GpuOptions o = GpuOptions::none();
  const GpuKernel g = ch08::plan_gpu(t.kernel, o);
  EXPECT_EQ(kinds(g), "block:500 thread:2 thread:100")
      << "100 fits in 256 threads whole; 256 / 100 = 2 threads are left for the 1000 rows: 500 blocks of 2 x 100 "
         "threads: " << g.loops.describe();
  EXPECT_EQ(g.block_count(), 500);
  EXPECT_EQ(g.thread_count(), 200);
  EXPECT_TRUE(covers_every_output_once(g, t.outputs));
}

TEST(Task1Plan, ShortLoopsWholeThenOneSplitWithATail) {
  const twin::Twin t = two_loops(40, 10);
  const GpuKernel g = ch08::plan_gpu(t.kernel, GpuOptions::none());
  EXPECT_EQ(kinds(g), "block:2 thread:25 thread:10")
      << "10 whole leaves 256 / 10 = 25 threads: the 40 rows split into 2 blocks of 25 (and a tail): " << g.loops.describe();
  EXPECT_EQ(g.loops.guards.size(), 1u) << "25 does not divide 40: the second block's last 10 rows do not exist";
  EXPECT_EQ(g.threads.size(), 2u);
  EXPECT_TRUE(covers_every_output_once(g, t.outputs));
}

TEST(Task1Plan, UpcastsTheStoresStrideOneLoop) {
  const twin::Twin t = two_loops(64, 32);
  const GpuKernel g = ch08::plan_gpu(t.kernel, GpuOptions{});
  EXPECT_EQ(kinds(g), "block:2 thread:32 thread:8 upcast:4")
      << "32 columns = 8 threads x 4 outputs side by side; 256 / 8 = 32 threads left for the 64 rows: 2 blocks: "
      << g.loops.describe();
  EXPECT_TRUE(covers_every_output_once(g, t.outputs));
}

TEST(Task1Plan, AGroupForALongReductionIntoFewOutputs) {
  const twin::Twin t = row_sums(1, 100000);
  const GpuKernel g = ch08::plan_gpu(t.kernel, GpuOptions{});
  EXPECT_EQ(g.group, g.threads.empty() ? "" : g.threads.back()) << g.loops.describe();
  EXPECT_EQ(kinds(g), "reduce:391 group:256")
      << "one output: its 100000 numbers shared by 256 threads, each adding every 256th (391 of them, the last "
         "partly): " << g.loops.describe();
  EXPECT_EQ(g.block_count(), 1);
  EXPECT_EQ(g.thread_count(), 256);

  const GpuKernel rows = ch08::plan_gpu(row_sums(4, 1000).kernel, GpuOptions{});
  EXPECT_EQ(kinds(rows), "block:4 reduce:4 group:256") << "one block per output row: " << rows.loops.describe();
}

TEST(Task1Plan, NoGroupForManyOutputsOrAShortReduction) {
  auto rows = [](auto st) { return st; };
  EXPECT_EQ(ch08::plan_gpu(sum_without_data({65536, 300}, {65536, 300}, {1}, rows), GpuOptions{}).group, "")
      << "65536 outputs keep the GPU busy with a thread each";
  EXPECT_NE(ch08::plan_gpu(sum_without_data({8192, 300}, {8192, 300}, {1}, rows), GpuOptions{}).group, "")
      << "8192 outputs in 2048 threads of 4 would leave most of a GPU idle";
  EXPECT_EQ(ch08::plan_gpu(row_sums(10, 100).kernel, GpuOptions{}).group, "")
      << "100 numbers are quickly added by one thread";
  GpuOptions o;
  o.group_reduce = 64;
  const GpuKernel g = ch08::plan_gpu(row_sums(10, 100).kernel, o);
  EXPECT_EQ(kinds(g), "block:5 thread:2 group:100")
      << "a reduce loop shorter than `group` is shared whole by 100 threads; 2 rows' groups fit in a block of 256: "
      << g.loops.describe();
}

TEST(Task1Plan, TheLongestReduceLoopWhenTheInnermostIsShort) {
  // A weight gradient's shape: 10 outputs, each the sum over 512 images of rows of 20. The
  // images are not neighbours of the rows in memory, so the two reduce loops stay apart.
  const ch05::Kernel k = sum_without_data({512, 10, 20}, {10, 512, 20}, {1, 2}, [](auto st) { return st.permute({1, 0, 2}); });
  const GpuKernel g = ch08::plan_gpu(k, GpuOptions{});
  EXPECT_EQ(kinds(g), "block:10 reduce:2 group:256 reduce:20")
      << "a group of 20 threads (the innermost loop) would leave most of each block idle: the 512 images are "
         "shared by 256 threads instead: " << g.loops.describe();
}

TEST(Task1Plan, BigReduceKernelsGetARegisterTile) {
  const ch05::Kernel k = matmul_without_data(1024, 1024, 64);  // a million outputs of 64 products
  const GpuKernel g = ch08::plan_gpu(k, GpuOptions{});
  int upcasts = 0;
  for (const ch06::Loop& l : g.loops.loops) upcasts += l.kind == LoopKind::kUpcast;
  EXPECT_EQ(upcasts, 2) << "a million outputs: 4 x 4 of them a thread (chapter 6's register_tile), each loaded value "
                           "used 4 times: " << g.loops.describe();
  GpuOptions small = GpuOptions{};
  small.tile_outputs = int64_t{1} << 21;
  const GpuKernel fewer = ch08::plan_gpu(k, small);
  upcasts = 0;
  for (const ch06::Loop& l : fewer.loops.loops) upcasts += l.kind == LoopKind::kUpcast;
  EXPECT_EQ(upcasts, 1) << "below tile_outputs, the upcast only: " << fewer.loops.describe();
}

TEST(Task1Plan, RefusesBadOptionsAndGridsTooBig) {
  const twin::Twin t = two_loops(8, 8);
  for (int threads : {0, 1025}) {
    GpuOptions o;
    o.threads = threads;
    EXPECT_THROW(ch08::plan_gpu(t.kernel, o), std::invalid_argument) << "threads " << threads;
  }
  GpuOptions o;
  o.upcast = 0;
  EXPECT_THROW(ch08::plan_gpu(t.kernel, o), std::invalid_argument) << "upcast 0";

  // 2^33 outputs of a constant (no memory behind it), one thread a block: 2^33 blocks.
  const ch04::Shape huge = {int64_t{1} << 33};
  ch05::Kernel k;
  k.shape = huge;
  k.ast = ch05::store(ch05::constant(1, ch04::DType::kFloat32, ch04::ShapeTracker::contiguous({}).reshape({1}).expand(huge)),
                      ch04::ShapeTracker::contiguous(huge));
  k.buffers = {ch04::LazyBuffer::constant(1, ch04::DType::kFloat32, huge)};
  GpuOptions one = GpuOptions::none();
  one.threads = 1;
  try {
    ch08::plan_gpu(k, one);
    FAIL() << "2^33 blocks planned";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(k.name()), std::string::npos) << "the message names the kernel: " << e.what();
  }
}

}  // namespace
