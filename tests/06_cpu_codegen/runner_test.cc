// Task 6: the CpuRunner. Random kernels through CpuRunner::run on chapter 4 Buffers (no
// optimizations: tasks 7-11 are tested on their own), each kernel compiled once, buffers that
// do not fit refused by name, CH06_DEBUG's lines, and whole tensor programs (forward and
// backward) realized by chapter 5's FusedEngine on the CpuRunner against tinyref's tensors.
#include "ch06/cpu_runner.h"

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ch04/tensor.h"
#include "ch05/runner.h"
#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/runner_checks.h"
#include "tests/06_cpu_codegen/twin_kernel.h"
#include "tests/testing/testing.h"
#include "tinyref/tensor.h"

namespace {

using ch06::CpuRunner;
using ch06::OptimizeOptions;
using runner_checks::buffers_of;

std::vector<double> output_of(const twin::Twin& t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.outputs; ++i) out.push_back(t.memory[0]->get(i));
  return out;
}

TEST(Task6Runner, RunsRandomKernelsLikeTinyref) {
  CpuRunner runner(OptimizeOptions::none());
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 6; ++trial) {
      twin::Options o;
      o.reduce = trial % 2 == 1;
      const twin::Twin t = twin::random_kernel(rng, o);
      runner.run(t.kernel, buffers_of(t));
      ASSERT_TRUE(twin::agrees(t, twin::expected(t), output_of(t), "CpuRunner::run"));
    }
  }
}

TEST(Task6Runner, CompilesEachKernelOnce) {
  CpuRunner runner(OptimizeOptions::none());
  std::mt19937_64 rng(1);
  const twin::Twin a = twin::matmul(rng, 5, 6, 7, true);
  const twin::Twin b = twin::matmul(rng, 5, 6, 7, true);  // an equal kernel on other data
  const ch06::CompiledKernel& ca = runner.compile(a.kernel);
  EXPECT_EQ(&runner.compile(b.kernel), &ca) << "an equal kernel must be found, not compiled again";
  EXPECT_EQ(runner.kernels_compiled(), 1);
  runner.run(a.kernel, buffers_of(a));
  runner.run(b.kernel, buffers_of(b));
  EXPECT_EQ(runner.kernels_compiled(), 1);
  EXPECT_TRUE(twin::agrees(b, twin::expected(b), output_of(b)));
  EXPECT_NE(ca.source.find("r_5_6_7"), std::string::npos);
  EXPECT_FALSE(ca.program.uops.empty());
}

// Two kernels that differ only in a constant's last digits are two kernels: a cache keyed by
// the name, or by values printed to 6 digits, would run the first one's code for both.
TEST(Task6Runner, KernelsDifferingInAConstantAreNotConfused) {
  CpuRunner runner(OptimizeOptions::none());
  std::vector<std::vector<double>> got;
  for (double c : {1.0 / 3.0, 1.0 / 3.0 + 1e-6}) {
    twin::Builder b({4, 3}, ch04::DType::kFloat64);
    const twin::Node x = b.load({4, 3}, std::vector<double>(12, 3.0), [](auto st) { return st; });
    const twin::Twin t = b.finish(b.alu(ch04::Op::MUL, {x, b.constant(c)}));
    runner.run(t.kernel, buffers_of(t));
    got.push_back(output_of(t));
    EXPECT_TRUE(twin::agrees(t, twin::expected(t), got.back(), "x * " + std::to_string(c)));
  }
  EXPECT_EQ(runner.kernels_compiled(), 2) << "x * 0.333333 and x * 0.333334 are different kernels";
  EXPECT_NE(got[0][0], got[1][0]);
}

TEST(Task6Runner, RefusesBuffersThatDoNotFit) {
  CpuRunner runner(OptimizeOptions::none());
  runner_checks::expect_refuses_buffers_that_do_not_fit(runner);
}

TEST(Task6Runner, DebugOutput) {
  std::mt19937_64 rng(3);
  const twin::Twin t = twin::matmul(rng, 4, 3, 2);
  ::setenv("CH06_DEBUG", "4", 1);
  CpuRunner runner(OptimizeOptions::none());
  ::unsetenv("CH06_DEBUG");
  ::testing::internal::CaptureStderr();
  runner.run(t.kernel, buffers_of(t));
  runner.run(t.kernel, buffers_of(t));
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("extern \"C\" void r_4_3_2("), std::string::npos) << "CH06_DEBUG=4 prints the source:\n" << err;
  size_t lines = 0;
  for (size_t at = err.find("GFLOP/s"); at != std::string::npos; at = err.find("GFLOP/s", at + 1)) ++lines;
  EXPECT_EQ(lines, 2u) << "CH06_DEBUG=2 prints one line (with GFLOP/s) per kernel run:\n" << err;
  EXPECT_NE(err.find(" ms"), std::string::npos) << "and its time in ms:\n" << err;
  size_t sources = 0;
  for (size_t at = err.find("extern \"C\" void r_4_3_2("); at != std::string::npos;
       at = err.find("extern \"C\" void r_4_3_2(", at + 1)) {
    ++sources;
  }
  EXPECT_EQ(sources, 1u) << "the source once, when the kernel is compiled:\n" << err;
}

// ------------------------------------------------------------ whole programs, both frameworks

// Values both frameworks can start from: the same numbers.
std::vector<double> values(std::mt19937_64& rng, int64_t n) {
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = normal(rng);
  return v;
}

std::vector<double> ref_values(const tinyref::Tensor& t) { return t.to_doubles(); }

struct Pair {
  ch04::Tensor ours;
  tinyref::Tensor ref;
};

Pair tensor(std::mt19937_64& rng, const ch04::Shape& shape, bool grad = false) {
  const std::vector<double> v = values(rng, ch04::prod(shape));
  std::vector<float> f(v.begin(), v.end());
  Pair p{ch04::Tensor::from_vector(v, shape), tinyref::Tensor(f, shape)};
  if (grad) {
    p.ours.requires_grad_();
    p.ref.requires_grad_();
  }
  return p;
}

TEST(Task6Runner, TensorProgramsOnTheFusedEngine) {
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(std::make_shared<CpuRunner>(OptimizeOptions::none())));
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Pair x = tensor(rng, {6, 10}, true), w = tensor(rng, {10, 4}, true), b = tensor(rng, {4}, true);
    // relu(x @ w + b), softmax over it, a loss: forward and backward.
    ch04::Tensor y = (x.ours.matmul(w.ours) + b.ours).relu();
    tinyref::Tensor ry = (x.ref.matmul(w.ref) + b.ref).relu();
    ch04::Tensor loss = (y.softmax(1) * y).sum();
    tinyref::Tensor rloss = (ry.softmax(1) * ry).sum();
    loss.backward();
    rloss.backward();
    EXPECT_TRUE(testing_util::all_close(ref_values(ry), y.to_vector(), 1e-5, 1e-6, "relu(x @ w + b)"));
    EXPECT_TRUE(testing_util::close(rloss.item(), loss.item(), 1e-5, 1e-6, "the loss"));
    EXPECT_TRUE(testing_util::all_close(ref_values(x.ref.grad()), x.ours.grad().to_vector(), 1e-4, 1e-6, "d loss / d x"));
    EXPECT_TRUE(testing_util::all_close(ref_values(w.ref.grad()), w.ours.grad().to_vector(), 1e-4, 1e-6, "d loss / d w"));
    EXPECT_TRUE(testing_util::all_close(ref_values(b.ref.grad()), b.ours.grad().to_vector(), 1e-4, 1e-6, "d loss / d b"));
  }
}

TEST(Task6Runner, ConvolutionOnTheFusedEngine) {
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(std::make_shared<CpuRunner>(OptimizeOptions::none())));
  std::mt19937_64 rng(testing_util::seeds().front());
  Pair x = tensor(rng, {2, 3, 7, 6}, true), w = tensor(rng, {4, 3, 3, 3}, true), b = tensor(rng, {4}, true);
  ch04::Tensor y = x.ours.conv2d(w.ours, b.ours, 1, 1).relu().max_pool2d(2);
  tinyref::Tensor ry = x.ref.conv2d(w.ref, b.ref, 1, 1).relu().max_pool2d(2);
  ch04::Tensor loss = (y * y).sum();
  tinyref::Tensor rloss = (ry * ry).sum();
  loss.backward();
  rloss.backward();
  EXPECT_TRUE(testing_util::all_close(ref_values(ry), y.to_vector(), 1e-5, 1e-5, "maxpool(relu(conv2d(x, w, b, pad 1)))"));
  EXPECT_TRUE(testing_util::all_close(ref_values(w.ref.grad()), w.ours.grad().to_vector(), 1e-4, 1e-4, "d loss / d w"));
  EXPECT_TRUE(testing_util::all_close(ref_values(x.ref.grad()), x.ours.grad().to_vector(), 1e-4, 1e-4, "d loss / d x"));
}

}  // namespace
