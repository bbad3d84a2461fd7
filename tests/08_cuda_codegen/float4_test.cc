// Task 5: multiple_of and float4_loads. Four neighbouring float loads are one float4 load only
// where the first one's element is a multiple of 4 (a 16-byte aligned address) whatever the
// thread: checked on expressions, on the loads found in programs, and on the GPU (the emulator
// faults on a misaligned float4, as a GPU does).
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ch08/render_cuda.h"
#include "gtest/gtest.h"
#include "tests/08_cuda_codegen/gpu_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch04::Expr;
using ch04::num;
using ch04::var;
using ch08::multiple_of;

// y = x' + 1 where x' is a view of x (rows, cols) made by `view`: the float4 candidates.
template <typename View>
twin::Twin viewed(int64_t rows, int64_t cols, const ch04::Shape& x_shape, const View& view) {
  twin::Builder b({rows, cols}, ch04::DType::kFloat32);
  std::mt19937_64 rng(static_cast<uint64_t>(rows * 100 + cols));
  const twin::Node x = b.load(x_shape, twin::quarters(rng, ch04::prod(x_shape)), view);
  return b.finish(b.alu(ch04::Op::ADD, {x, b.constant(1)}));
}

struct Vectorized {
  ch08::GpuProgram program;
  std::vector<ch08::Float4Load> loads;
  std::string source;
};

Vectorized vectorized(const twin::Twin& t) {
  Vectorized v{ch08::lower_gpu(ch08::plan_gpu(t.kernel, ch08::GpuOptions{})), {}, ""};
  v.loads = ch08::float4_loads(v.program.program);
  v.source = ch08::render_cuda(v.program);
  return v;
}

::testing::AssertionResult runs_like_tinyref(const twin::Twin& t, const Vectorized& v) {
  std::vector<double> got;
  try {
    got = gpu_testing::run_program(v.program, v.source, t);
  } catch (const gpu::GpuError& e) {
    return ::testing::AssertionFailure() << e.what() << "\nsource:\n" << v.source;
  }
  ::testing::AssertionResult ok = twin::agrees(t, twin::expected(t), got, "the kernel with float4 loads");
  if (!ok) ok << "\nsource:\n" << v.source;
  return ok;
}

TEST(Task5Float4, MultiplesOfFourByTheirForm) {
  const Expr i = var("i", 0, 99), j = var("j", 0, 7);
  EXPECT_TRUE(multiple_of(num(0), 4));
  EXPECT_TRUE(multiple_of(num(12), 4));
  EXPECT_FALSE(multiple_of(num(6), 4));
  EXPECT_TRUE(multiple_of(i * 4, 4));
  EXPECT_TRUE(multiple_of(i * 8 + j * 4 + num(12), 4));
  EXPECT_FALSE(multiple_of(i * 4 + num(2), 4)) << "4i + 2 is never a multiple of 4";
  EXPECT_FALSE(multiple_of(i * 2 + j * 2, 4)) << "2i + 2j is at i = 1, j = 0 not a multiple of 4";
  EXPECT_FALSE(multiple_of(i, 4)) << "a variable can be anything";
  EXPECT_FALSE(multiple_of(ch04::div(i * 8, num(2)), 4)) << "a quotient: not by its form";
  EXPECT_FALSE(multiple_of(ch04::mod(i * 4, num(6)), 4)) << "(4i) mod 6 is 2 at i = 2";
  EXPECT_TRUE(multiple_of(num(3) * (j * 4), 4)) << "a product with a multiple of 4";
}

TEST(Task5Float4, ContiguousRowsReadAsFloat4) {
  const twin::Twin t = viewed(8, 64, {8, 64}, [](auto st) { return st; });
  const Vectorized v = vectorized(t);
  ASSERT_EQ(v.loads.size(), 1u) << "the 4 loads of x each thread makes are one float4\n" << ch08::to_string(v.program);
  std::map<std::string, int64_t> at;  // some thread: every digit at 1 (where it can be)
  for (const ch08::GpuIndex& d : v.program.indices) at[d.var] = std::min<int64_t>(1, d.extent - 1);
  const auto& uops = v.program.program.uops;
  for (int lane = 0; lane < 4; ++lane) {
    const ch06::UOp& u = uops.at(static_cast<size_t>(v.loads[0].uops[lane]));
    ASSERT_EQ(u.kind, ch06::UOpKind::kLoad);
    EXPECT_EQ(ch04::evaluate(u.index, at) - ch04::evaluate(uops.at(static_cast<size_t>(v.loads[0].uops[0])).index, at), lane)
        << "lane " << lane << " reads element index + " << lane;
  }
  EXPECT_NE(v.source.find("float4"), std::string::npos) << v.source;
  EXPECT_TRUE(runs_like_tinyref(t, v));
}

TEST(Task5Float4, NotWhereTheViewStartsBetweenFours) {
  // x' = x[:, 1:65]: each row's first element is x's element 1 + 65 r, never aligned.
  const twin::Twin t = viewed(8, 64, {8, 65}, [](auto st) { return st.shrink({{0, 8}, {1, 65}}); });
  const Vectorized v = vectorized(t);
  EXPECT_TRUE(v.loads.empty()) << "element 1 + 65 r is not a multiple of 4\n" << ch08::to_string(v.program);
  EXPECT_TRUE(runs_like_tinyref(t, v)) << "a float4 there would be misaligned: a GPU faults";
}

TEST(Task5Float4, NotForStridedOrTransposedReads) {
  const twin::Twin strided = viewed(8, 64, {8, 128}, [](auto st) { return st.reshape({8, 64, 2}).shrink({{0, 8}, {0, 64}, {0, 1}}).reshape({8, 64}); });
  Vectorized v = vectorized(strided);
  EXPECT_TRUE(v.loads.empty()) << "every second float: not four neighbours\n" << ch08::to_string(v.program);
  EXPECT_TRUE(runs_like_tinyref(strided, v));

  const twin::Twin transposed = viewed(8, 64, {64, 8}, [](auto st) { return st.permute({1, 0}); });
  v = vectorized(transposed);
  EXPECT_TRUE(v.loads.empty()) << "neighbouring outputs read elements 8 apart\n" << ch08::to_string(v.program);
  EXPECT_TRUE(runs_like_tinyref(transposed, v));
}

TEST(Task5Float4, OnlyLoadsWithTheSameGuard) {
  // x' = the first 62 columns of x (4, 64), padded back to 64 with zeros: in each row the last
  // thread's four lanes are columns 60 and 61 (x's) and 62 and 63 (padding, 0). Read as one
  // float4, the padding lanes would be x's columns 62 and 63.
  const twin::Twin t = viewed(4, 64, {4, 64}, [](auto st) { return st.shrink({{0, 4}, {0, 62}}).pad({{0, 0}, {0, 2}}); });
  const Vectorized v = vectorized(t);
  const auto& uops = v.program.program.uops;
  for (const ch08::Float4Load& f : v.loads) {
    for (int lane = 1; lane < 4; ++lane) {
      const ch06::UOp& first = uops.at(static_cast<size_t>(f.uops[0]));
      const ch06::UOp& other = uops.at(static_cast<size_t>(f.uops[lane]));
      EXPECT_EQ(first.valid ? ch04::render(first.valid) : "", other.valid ? ch04::render(other.valid) : "")
          << "a float4 is read whole or not at all: one guard for its 4 lanes\n" << ch08::to_string(v.program);
    }
  }
  EXPECT_TRUE(runs_like_tinyref(t, v)) << "the padding reads 0, not x's columns 62 and 63";
}

TEST(Task5Float4, NeverForFloat64) {
  twin::Builder b({4, 64}, ch04::DType::kFloat64);
  std::mt19937_64 rng(9);
  const twin::Node x = b.load({4, 64}, twin::quarters(rng, 256), [](auto st) { return st; });
  const twin::Twin t = b.finish(b.alu(ch04::Op::MUL, {x, x}));
  const Vectorized v = vectorized(t);
  EXPECT_TRUE(v.loads.empty()) << "a float4 holds floats\n" << ch08::to_string(v.program);
  EXPECT_TRUE(runs_like_tinyref(t, v));
}

TEST(Task5Float4, RandomKernelsWithFloat4) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed * 7);
    for (int trial = 0; trial < 3; ++trial) {
      twin::Options o;
      o.reduce = trial == 2;
      o.extents = {4, 8, 12, 16, 24, 32, 5, 7};
      const twin::Twin t = twin::random_kernel(rng, o);
      ASSERT_TRUE(runs_like_tinyref(t, vectorized(t)));
    }
  }
}

}  // namespace
