// The milestone of chapters 4-8: tinygrad's beautiful_mnist, trained by your lazy tensors, your
// scheduler and your CUDA code generator on a GPU, reaches 98% on MNIST's 10,000 test images
// after 70 steps of 512 images. It needs a real GPU (the emulator would take hours): without
// one it skips, saying so; on the GPU machine tools/cuda/device_pack.sh packs it.
//   bazel test //tests/08_cuda_codegen:milestone_native_solution --test_output=streamed
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "datasets/mnist.h"
#include "gtest/gtest.h"
#include "tests/08_cuda_codegen/mnist_on_gpu.h"
#include "tests/testing/testing.h"
#include "tools/gpu/gpu.h"

namespace {

TEST(Task7Milestone, BeautifulMnistReaches98PercentOnTheGpu) {
  std::string why;
  if (!gpu::native_gpu_available(&why)) GTEST_SKIP() << "the milestone trains on a GPU, and there is none: " << why;
  ASSERT_TRUE(datasets::mnist_available()) << "MNIST is not in " << datasets::find_mnist_dir() << ": run ./course setup";
  const datasets::Mnist train = datasets::load_mnist("train"), test = datasets::load_mnist("test");
  const uint64_t seed = testing_util::seeds().front();
  SCOPED_TRACE(testing_util::seed_note(seed));
  auto runner = std::make_shared<ch08::CudaRunner>(gpu::open_native_gpu());
  MnistOnGpu run(runner, seed);
  std::vector<double> seconds;
  double loss = 0;
  for (int step = 1; step <= 70; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    loss = run.step(train);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (step % 10 == 0 || step <= 3) std::printf("step %2d: loss %.4f, %.1f ms\n", step, loss, 1e3 * seconds.back());
    std::fflush(stdout);
  }
  const double accuracy = run.accuracy(test);
  std::sort(seconds.begin() + 3, seconds.end());
  std::printf("MILESTONE ch08 beautiful_mnist gpu=\"%s\" test_accuracy=%.4f steps=70 median_step_ms=%.2f "
              "first_step_s=%.1f kernels=%lld\n",
              runner->gpu().name().c_str(), accuracy, 1e3 * seconds[3 + (seconds.size() - 3) / 2], seconds.front(),
              static_cast<long long>(runner->kernels_compiled()));
  EXPECT_GE(accuracy, 0.98) << "after 70 steps (final loss " << loss << ")";
}

}  // namespace
