// The milestone of chapters 4-8: tinygrad's beautiful_mnist, trained by your lazy tensors, your
// scheduler and your CUDA code generator on a GPU, reaches 98% on MNIST's 10,000 test images
// after 70 steps of 512 images. It needs a real GPU (the emulator would take hours): without
// one it skips, saying so; on the GPU machine tools/cuda/device_pack.sh packs it.
//
// The seed is chapter 6's milestone seed (CnnConfig's, 0), fixed rather than taken from TT_SEEDS:
// 70 steps reach 98% at some seeds and not at others, tinyref's own run included (seed 1:
// tinyref 97.55% on the CPU; the solution here reached 97.79% on an H100). At seed 0 tinyref
// reaches 98.39% on the CPU and 98.38% on an H100. With TT_DATASET=fashion it trains on
// Fashion-MNIST, with chapter 6's bar there (tests/testing/milestone.h).
//   bazel test //tests/08_cuda_codegen:milestone_native_solution --test_output=streamed
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "ch06/mnist_cnn.h"
#include "gtest/gtest.h"
#include "tests/08_cuda_codegen/mnist_on_gpu.h"
#include "tests/testing/milestone.h"
#include "tools/gpu/gpu.h"

namespace {

TEST(Task7Milestone, BeautifulMnistReaches98PercentOnTheGpu) {
  std::string why;
  if (!gpu::native_gpu_available(&why)) GTEST_SKIP() << "the milestone trains on a GPU, and there is none: " << why;
  const testing_util::MilestoneData data = testing_util::milestone_data({.mnist = 0.98, .fashion = 0.80});
  const datasets::Mnist &train = data.train, &test = data.test;
  const uint64_t seed = ch06::CnnConfig{}.seed;
  SCOPED_TRACE("seed " + std::to_string(seed) + " (fixed: see the top of this file)");
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
  std::printf("MILESTONE ch08 beautiful_mnist dataset=%s gpu=\"%s\" test_accuracy=%.4f steps=70 median_step_ms=%.2f "
              "first_step_s=%.1f kernels=%lld\n",
              data.name, runner->gpu().name().c_str(), accuracy, 1e3 * seconds[3 + (seconds.size() - 3) / 2], seconds.front(),
              static_cast<long long>(runner->kernels_compiled()));
  EXPECT_GE(accuracy, data.bar) << "on " << data.name << " after 70 steps (final loss " << loss << ")";
}

}  // namespace
