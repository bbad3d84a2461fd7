// Task 7: DeviceBuffer and the CudaRunner. Random kernels through CudaRunner::run on chapter 4
// Buffers; each kernel compiled once; the memory rules (an input copied in once, an output
// copied out only when read on the host, device memory freed with its Buffer); buffers that do
// not fit refused by name; CH08_DEBUG; and whole tensor programs on chapter 5's FusedEngine
// against tinyref's tensors.
#include "ch08/cuda_runner.h"

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ch04/tensor.h"
#include "ch05/runner.h"
#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/runner_checks.h"
#include "tests/08_cuda_codegen/gpu_testing.h"
#include "tests/testing/testing.h"
#include "tinyref/tensor.h"

namespace {

using ch08::CudaRunner;
using gpu_testing::buffers_of;

std::shared_ptr<CudaRunner> runner() { return std::make_shared<CudaRunner>(gpu_testing::gpu()); }

TEST(Task7Runner, RunsRandomKernelsLikeTinyref) {
  CudaRunner r(gpu_testing::gpu());
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 3; ++trial) {
      twin::Options o;
      o.reduce = trial != 0;
      o.max_reduce = trial == 2 ? 4096 : 64;  // trial 2: long reductions into few outputs, a group reduce
      o.max_elements = trial == 2 ? 8192 : 4096;
      const twin::Twin t = twin::random_kernel(rng, o);
      ASSERT_TRUE(twin::agrees(t, twin::expected(t), gpu_testing::run(r, t), "CudaRunner::run"))
          << r.compile(t.kernel).source;
    }
  }
}

TEST(Task7Runner, CompilesEachKernelOnce) {
  CudaRunner r(gpu_testing::gpu());
  std::mt19937_64 rng(1);
  const twin::Twin a = twin::matmul(rng, 5, 6, 7, true);
  const twin::Twin b = twin::matmul(rng, 5, 6, 7, true);  // an equal kernel on other data
  const ch08::CudaKernel& ca = r.compile(a.kernel);
  EXPECT_EQ(&r.compile(b.kernel), &ca) << "an equal kernel must be found, not compiled again";
  EXPECT_EQ(r.kernels_compiled(), 1);
  EXPECT_TRUE(twin::agrees(a, twin::expected(a), gpu_testing::run(r, a)));
  EXPECT_TRUE(twin::agrees(b, twin::expected(b), gpu_testing::run(r, b)));
  EXPECT_EQ(r.kernels_compiled(), 1);
  EXPECT_NE(ca.source.find("r_5_6_7"), std::string::npos) << ca.source;
  EXPECT_EQ(ca.image.empty(), !ch08::CudaCompiler::available()) << "NVRTC compiles every kernel where it is installed";
}

TEST(Task7Runner, InputsGoInOnceAndOutputsComeOutOnlyWhenRead) {
  auto gpu = gpu::open_gpu();
  CudaRunner r(gpu);
  std::mt19937_64 rng(2);
  const twin::Twin t = twin::matmul(rng, 8, 8, 8, true);  // x, w and b in
  r.run(t.kernel, buffers_of(t));
  EXPECT_EQ(gpu->stats().copies_in, 3) << "x, w and b, each once";
  EXPECT_EQ(gpu->stats().copies_out, 0) << "nothing comes back until someone reads it";
  ASSERT_TRUE(t.memory[0]->device != nullptr) << "the output lives on the GPU";
  EXPECT_FALSE(t.memory[0]->host_valid) << "its host bytes are stale until copied back";
  r.run(t.kernel, buffers_of(t));
  EXPECT_EQ(gpu->stats().copies_in, 3) << "the inputs are on the GPU already: no copy the second time";
  std::vector<double> out;
  for (int64_t i = 0; i < t.outputs; ++i) out.push_back(t.memory[0]->get(i));
  EXPECT_EQ(gpu->stats().copies_out, 1) << "one copy for the whole buffer, at the first read";
  EXPECT_TRUE(t.memory[0]->host_valid);
  EXPECT_TRUE(twin::agrees(t, twin::expected(t), out, "the output read on the host"));
}

TEST(Task7Runner, ChainedKernelsNeverVisitTheHost) {
  auto gpu = gpu::open_gpu();
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(std::make_shared<CudaRunner>(gpu)));
  std::mt19937_64 rng(3);
  const ch04::Tensor x = ch04::Tensor::from_vector(twin::quarters(rng, 6 * 5), {6, 5});
  const ch04::Tensor w = ch04::Tensor::from_vector(twin::quarters(rng, 5 * 4), {5, 4});
  ch04::Tensor y = x.matmul(w).relu();
  y.realize();
  ch04::Tensor z = (y * y).sum();
  z.realize();
  EXPECT_EQ(gpu->stats().copies_out, 0) << "y stays on the GPU for the next kernel";
  const double got = z.item();
  EXPECT_EQ(gpu->stats().copies_out, 1) << "only z, read by item()";
  double want = 0;
  for (double v : y.to_vector()) want += v * v;
  EXPECT_EQ(got, want);
}

TEST(Task7Runner, DeviceMemoryIsFreedWithItsBuffer) {
  auto gpu = gpu::open_gpu();
  {
    CudaRunner r(gpu);
    std::mt19937_64 rng(4);
    const twin::Twin t = twin::matmul(rng, 4, 4, 4);
    r.run(t.kernel, buffers_of(t));
    EXPECT_EQ(gpu->stats().allocations, 3) << "the output and the two inputs";
  }
  EXPECT_EQ(gpu->stats().frees, gpu->stats().allocations) << "every Buffer is gone, and its GPU memory with it";
}

TEST(Task7Runner, ABufferOnAnotherGpuGoesThroughTheHost) {
  auto first = gpu::open_gpu(), second = gpu::open_gpu();  // two of them, the same kind as the others
  CudaRunner on_first(first), on_second(second);
  std::mt19937_64 rng(5);
  twin::Twin t = twin::matmul(rng, 4, 4, 4);
  on_first.run(t.kernel, buffers_of(t));
  // The output of the first GPU is an input of a kernel on the second one.
  twin::Builder b({4, 4}, ch04::DType::kFloat32);
  const twin::Node y = b.load({4, 4}, std::vector<double>(16, 0), [](auto st) { return st; });
  twin::Twin twice = b.finish(b.alu(ch04::Op::ADD, {y, y}));
  twice.memory[1] = t.memory[0];
  twice.kernel.buffers[1] = ch04::LazyBuffer::load(t.memory[0], {16});
  on_second.run(twice.kernel, buffers_of(twice));
  const std::vector<double> want = twin::expected(t);
  for (int64_t i = 0; i < 16; ++i) {
    ASSERT_EQ(twice.memory[0]->get(i), 2 * want[static_cast<size_t>(i)]) << "element " << i;
  }
  EXPECT_EQ(first->stats().copies_out, 1) << "the first GPU's result to the host...";
  EXPECT_GE(second->stats().copies_in, 1) << "...and from there to the second GPU";
}

TEST(Task7Runner, RefusesBuffersThatDoNotFit) {
  CudaRunner r(gpu_testing::gpu());
  runner_checks::expect_refuses_buffers_that_do_not_fit(r);
}

TEST(Task7Runner, DebugOutput) {
  std::mt19937_64 rng(7);
  const twin::Twin t = twin::matmul(rng, 4, 3, 2);
  ::setenv("CH08_DEBUG", "4", 1);
  CudaRunner r(gpu_testing::gpu());
  ::unsetenv("CH08_DEBUG");
  ::testing::internal::CaptureStderr();
  r.run(t.kernel, buffers_of(t));
  r.run(t.kernel, buffers_of(t));
  const std::string err = ::testing::internal::GetCapturedStderr();
  const std::string signature = "__global__ void __launch_bounds__";
  size_t sources = 0, lines = 0;
  for (size_t at = err.find(signature); at != std::string::npos; at = err.find(signature, at + 1)) ++sources;
  for (size_t at = err.find(" ms "); at != std::string::npos; at = err.find(" ms ", at + 1)) ++lines;
  EXPECT_EQ(sources, 1u) << "CH08_DEBUG=4 prints the source once, when the kernel is compiled:\n" << err;
  EXPECT_EQ(lines, 2u) << "CH08_DEBUG=2 prints one line (with its time in ms) per kernel run:\n" << err;
  EXPECT_NE(err.find("<<<"), std::string::npos) << "and its launch:\n" << err;
}

// ------------------------------------------------------------ whole programs, against tinyref

struct Both {
  ch04::Tensor ours;
  tinyref::Tensor ref;
};

Both random_tensor(std::mt19937_64& rng, const ch04::Shape& shape) {
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> v(static_cast<size_t>(ch04::prod(shape)));
  for (double& x : v) x = normal(rng);
  Both b{ch04::Tensor::from_vector(v, shape), tinyref::Tensor(std::vector<float>(v.begin(), v.end()), shape)};
  b.ours.requires_grad_();
  b.ref.requires_grad_();
  return b;
}

::testing::AssertionResult same(const tinyref::Tensor& want, const ch04::Tensor& got, double tol, const std::string& what) {
  return testing_util::all_close(want.to_doubles(), got.to_vector(), tol, tol, what);
}

TEST(Task7Runner, AnMlpStepLikeTinyref) {
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(runner()));
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Both x = random_tensor(rng, {6, 10}), w = random_tensor(rng, {10, 4}), b = random_tensor(rng, {4});
    ch04::Tensor y = (x.ours.matmul(w.ours) + b.ours).relu();
    tinyref::Tensor ry = (x.ref.matmul(w.ref) + b.ref).relu();
    ch04::Tensor loss = y.log_softmax(1).mean();
    tinyref::Tensor rloss = ry.log_softmax(1).mean();
    loss.backward();
    rloss.backward();
    EXPECT_TRUE(same(ry, y, 1e-5, "relu(x @ w + b)"));
    EXPECT_TRUE(testing_util::close(rloss.item(), loss.item(), 1e-5, 1e-6, "the loss"));
    EXPECT_TRUE(same(w.ref.grad(), w.ours.grad(), 1e-5, "d loss / d w"));
    EXPECT_TRUE(same(x.ref.grad(), x.ours.grad(), 1e-5, "d loss / d x"));
  }
}

TEST(Task7Runner, AConvolutionLikeTinyref) {
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(runner()));
  std::mt19937_64 rng(testing_util::seeds().front());
  Both x = random_tensor(rng, {2, 3, 7, 6}), w = random_tensor(rng, {4, 3, 3, 3}), b = random_tensor(rng, {4});
  ch04::Tensor y = x.ours.conv2d(w.ours, b.ours, 1, 1).relu().max_pool2d(2);
  tinyref::Tensor ry = x.ref.conv2d(w.ref, b.ref, 1, 1).relu().max_pool2d(2);
  ch04::Tensor loss = (y * y).sum();
  tinyref::Tensor rloss = (ry * ry).sum();
  loss.backward();
  rloss.backward();
  EXPECT_TRUE(same(ry, y, 1e-5, "maxpool(relu(conv2d(x, w, b, pad 1)))"));
  EXPECT_TRUE(same(w.ref.grad(), w.ours.grad(), 1e-4, "d loss / d w"));
  EXPECT_TRUE(same(x.ref.grad(), x.ours.grad(), 1e-4, "d loss / d x"));
}

}  // namespace
