// Task 5: render_cpp. The source's form (restrict pointers, the entry point, OpenMP pragmas,
// literals that read back exactly), then its meaning: kernels rendered, compiled with your
// Compiler (task 4) and run in guarded memory (a load of padding that touches memory faults),
// against tinyref, for every op and for random kernels with random splits.
#include "ch06/render_cpp.h"

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ch06/compiler.h"
#include "ch06/linearize.h"
#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/twin_kernel.h"
#include "tests/testing/testing.h"

namespace {

using ch06::LoopKernel;
using ch06::LoopKind;

ch06::Compiler& compiler() {
  static ch06::Compiler c;
  return c;
}

// Linearize, render, compile and run in guarded memory; the result against tinyref's.
::testing::AssertionResult runs_like_tinyref(const twin::Twin& t, const LoopKernel& k) {
  const ch06::Program p = ch06::linearize(k);
  const std::string src = ch06::render_cpp(p);
  ch06::KernelFunction f = nullptr;
  try {
    f = compiler().compile(p.name, src);
  } catch (const ch06::CompileError& e) {
    return ::testing::AssertionFailure() << "the rendered source does not compile: " << e.what() << "\n" << src;
  }
  std::vector<double> got;
  ::testing::AssertionResult ran = twin::run_guarded(f, t, &got);
  if (!ran) return ran << "\n" << src;
  ::testing::AssertionResult r = twin::agrees(t, twin::expected(t), got, "the compiled " + p.name);
  if (!r) r << "\n" << src;
  return r;
}

TEST(Task5Render, LiteralsReadBackExactly) {
  for (double v : {0.0, 1.0, -2.0, 0.1, 1.0 / 3.0, 1e-30, 3.4e38, -7.25, 16777217.0}) {
    const std::string f = ch06::literal(v, ch04::DType::kFloat32);
    ASSERT_FALSE(f.empty());
    std::string digits = f;
    for (char c : {'(', ')', 'f'}) digits.erase(std::remove(digits.begin(), digits.end(), c), digits.end());
    EXPECT_EQ(std::strtof(digits.c_str(), nullptr), static_cast<float>(v)) << v << " rendered as " << f;
    EXPECT_NE(f.find_first_of(".e"), std::string::npos) << f << " must be a floating literal (1.0f, not 1f)";
    const std::string d = ch06::literal(v, ch04::DType::kFloat64);
    std::string ddigits = d;
    for (char c : {'(', ')'}) ddigits.erase(std::remove(ddigits.begin(), ddigits.end(), c), ddigits.end());
    EXPECT_EQ(std::strtod(ddigits.c_str(), nullptr), v) << v << " rendered as " << d;
  }
  EXPECT_NE(ch06::literal(-INFINITY, ch04::DType::kFloat32).find("inf"), std::string::npos);
  EXPECT_NE(ch06::literal(NAN, ch04::DType::kFloat64).find("nan"), std::string::npos);
}

TEST(Task5Render, SignatureAndEntryPoint) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 8, 4, 16, true);
  const std::string src = ch06::render_cpp(ch06::linearize(LoopKernel(t.kernel)));
  EXPECT_NE(src.find("void r_8_4_16(float* __restrict__ data0, const float* __restrict__ data1, const float* "
                     "__restrict__ data2, const float* __restrict__ data3)"),
            std::string::npos)
      << "one function named after the kernel, restrict pointers, the output first and not const:\n" << src;
  EXPECT_NE(src.find("extern \"C\" void r_8_4_16_entry(void**"), std::string::npos) << src;
  EXPECT_NE(src.find("for (int gidx0 = 0; gidx0 < 8; gidx0++)"), std::string::npos) << "loops named after their variables:\n"
                                                                                      << src;
  EXPECT_EQ(src.find("#include"), std::string::npos) << "no headers: they cost compile time\n" << src;
  EXPECT_TRUE(runs_like_tinyref(t, LoopKernel(t.kernel)));
}

TEST(Task5Render, ParallelLoopsGetAPragma) {
  std::mt19937_64 rng(2);
  const twin::Twin t = twin::matmul(rng, 8, 4, 16);
  LoopKernel k(t.kernel);
  k.parallel = 1;
  std::string src = ch06::render_cpp(ch06::linearize(k));
  EXPECT_NE(src.find("#pragma omp parallel for\n  for (int gidx0"), std::string::npos) << src;
  k.parallel = 2;
  src = ch06::render_cpp(ch06::linearize(k));
  EXPECT_NE(src.find("#pragma omp parallel for collapse(2)\n  for (int gidx0"), std::string::npos) << src;
  EXPECT_TRUE(runs_like_tinyref(t, k));
}

TEST(Task5Render, UpcastPositionsAreConstantOffsets) {
  std::mt19937_64 rng(3);
  const twin::Twin t = twin::matmul(rng, 4, 16, 8);
  LoopKernel k(t.kernel);
  k.split(1, 8, LoopKind::kUpcast);
  const std::string src = ch06::render_cpp(ch06::linearize(k));
  EXPECT_EQ(src.find("up0"), std::string::npos) << "an upcast variable never reaches the source:\n" << src;
  EXPECT_NE(src.find("+7)]"), std::string::npos) << "the 8th column is the group's start + 7:\n" << src;
  EXPECT_TRUE(runs_like_tinyref(t, k));
}

TEST(Task5Render, GuardedLoadsTouchNoPadding) {
  // Wide padding on every side: a padded element's position lies more than 64 bytes (the slack
  // guarded_memory.h allows the compiler's vector loads) before or after x, in the guard pages.
  twin::Builder b({10, 45}, ch04::DType::kFloat32);
  std::mt19937_64 rng(4);
  const twin::Node x = b.load({4, 5}, twin::quarters(rng, 20), [](auto st) { return st.pad({{3, 3}, {20, 20}}); });
  const twin::Twin t = b.finish(b.alu(ch04::Op::MUL, {x, b.constant(2, {{1, 1}, {1, 1}})}));
  EXPECT_TRUE(runs_like_tinyref(t, LoopKernel(t.kernel)));
}

// Every op, in float32 and float64, on inputs that include ties and negatives.
TEST(Task5Render, EveryOpCompilesAndRuns) {
  using ch04::Op;
  for (ch04::DType dtype : {ch04::DType::kFloat32, ch04::DType::kFloat64}) {
    for (Op op : {Op::NEG, Op::EXP2, Op::LOG2, Op::SIN, Op::SQRT, Op::RECIP, Op::ADD, Op::SUB, Op::MUL, Op::DIV, Op::MAX,
                  Op::CMPLT, Op::CMPNE, Op::WHERE}) {
      SCOPED_TRACE(std::string(ch04::op_name(op)) + " " + ch04::dtype_name(dtype));
      twin::Builder b({3, 7}, dtype);
      std::mt19937_64 rng(5);
      const bool positive = op == Op::LOG2 || op == Op::SQRT || op == Op::RECIP;
      auto input = [&] { return b.load({3, 7}, twin::quarters(rng, 21, positive ? 1 : -4, 4), [](auto st) { return st; }); };
      const int arity = ch04::op_arity(op);
      std::vector<twin::Node> src;
      for (int i = 0; i < arity; ++i) src.push_back(input());
      const twin::Twin t = b.finish(b.alu(op, src));
      EXPECT_TRUE(runs_like_tinyref(t, LoopKernel(t.kernel)));
    }
  }
}

TEST(Task5Render, ConvolutionThroughTwoViews) {
  std::mt19937_64 rng(6);
  const twin::Twin t = twin::conv2d(rng, 2, 3, 6, 5, 4, 3, 3, 1);
  LoopKernel k(t.kernel);
  const std::string src = ch06::render_cpp(ch06::linearize(k));
  EXPECT_EQ(src.find('%'), std::string::npos) << "with simplify (task 1), the windows need no % at all:\n" << src;
  EXPECT_TRUE(runs_like_tinyref(t, k));
}

TEST(Task5Render, RandomKernelsLikeTinyref) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 8; ++trial) {
      twin::Options o;
      o.reduce = trial % 2 == 1;
      const twin::Twin t = twin::random_kernel(rng, o);
      LoopKernel k(t.kernel);
      if (trial >= 2 && !k.loops.empty() && ch06::is_loop(k.loops.back().kind)) {
        const bool reduce = k.loops.back().kind == LoopKind::kReduce;
        k.split(k.loops.size() - 1, 2 + static_cast<int64_t>(rng() % 4), reduce ? LoopKind::kUnroll : LoopKind::kUpcast);
      }
      SCOPED_TRACE("loops " + k.describe());
      ASSERT_TRUE(runs_like_tinyref(t, k));
    }
  }
}

}  // namespace
