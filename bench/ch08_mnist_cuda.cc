// ch08_mnist_cuda: the beautiful_mnist training step of chapters 4-8 (the solutions: chapter 4's
// tensors, chapter 5's FusedEngine, chapter 8's CudaRunner), against tinyref's CUDA step and
// PyTorch eager's, on the same GPU in the same run. The workload of mnist_cuda (batches of 512
// with replacement, Adam 1e-3, 70 steps); each side's median step after `warmup` steps (the
// first ones compile), each step ending on its loss read back to the host.
//
//   bazel run --config=opt //bench:ch08_mnist_cuda -- --data /path/to/mnist   # or devbin/run_all.sh
//   pytorch {"workload": "cnn", "step_ms_median": 3.4, ...}
//   tinyref {"step_ms_median": 3.0, "test_accuracy": 0.98, ...}
//   ch08 {"step_ms_median": ..., "first_step_seconds": ..., "test_accuracy": ..., "kernels": ...}
//   RESULT name=ch08_mnist_cuda.step_ms ours=... anchor=<PyTorch's> ratio=...
//   RESULT name=ch08_mnist_cuda.vs_tinyref ours=... anchor=<tinyref's> ratio=...
//   RESULT name=ch08_mnist_cuda.test_accuracy ours=... anchor=<PyTorch's> ratio=...
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/cuda_bench.h"
#include "bench/mnist_workload.h"
#include "ch06/mnist_cnn.h"
#include "ch08/cuda_runner.h"
#include "datasets/mnist.h"
#include "tests/08_cuda_codegen/mnist_on_gpu.h"
#include "tinyref/error.h"
#include "tools/gpu/gpu.h"

namespace {

struct Measured {
  double step_ms = 0, first_step_seconds = 0, test_accuracy = 0;
};

Measured chapter8(const datasets::Mnist& train, const datasets::Mnist& test, int steps, int warmup, int64_t* kernels) {
  auto runner = std::make_shared<ch08::CudaRunner>(gpu::open_native_gpu());
  MnistOnGpu run(runner, ch06::CnnConfig{}.seed);  // the milestone's seed, and tinyref's below
  std::vector<double> seconds;
  for (int s = 0; s < steps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    run.step(train);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  Measured m;
  m.first_step_seconds = seconds.front();
  m.step_ms = bench::median_step_ms(seconds, warmup);
  m.test_accuracy = run.accuracy(test);
  *kernels = runner->kernels_compiled();
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chapter 8's beautiful_mnist step on CUDA against tinyref's and PyTorch eager's", "ch08_mnist_cuda"};
  bench::MnistWorkload workload;
  bench::BenchFlags flags;
  workload.add_options(app);
  bench::add_bench_flags(app, flags);
  return bench::run_cuda_bench(app, flags, argc, argv, [&] {
    std::string why;
    TT_CHECK(gpu::native_gpu_available(&why), "ch08_mnist_cuda: chapter 8 finds no GPU: " << why);
    const bench::MnistBaselines b = bench::run_mnist_baselines(workload, flags, "ch08_mnist_cuda");

    int64_t kernels = 0;
    const Measured ours = chapter8(b.train, b.test, workload.steps, workload.warmup, &kernels);
    std::printf("ch08 %s\n", nlohmann::json({{"step_ms_median", ours.step_ms},
                                             {"first_step_seconds", ours.first_step_seconds},
                                             {"test_accuracy", ours.test_accuracy},
                                             {"kernels", kernels}})
                                 .dump()
                                 .c_str());

    const std::string extra = " steps=" + std::to_string(workload.steps);
    bench::print_result("ch08_mnist_cuda.step_ms", ours.step_ms, b.torch_ms, extra);
    bench::print_result("ch08_mnist_cuda.vs_tinyref", ours.step_ms, b.tinyref_ms, extra);
    bench::print_result("ch08_mnist_cuda.test_accuracy", ours.test_accuracy, b.torch_accuracy, extra);
    if (workload.steps == bench::MnistWorkload::kSteps) {
      std::printf("milestone (chapters 4-8 reach 98.0%% after 70 steps): %s\n",
                  bench::verdict(ours.test_accuracy >= 0.98).c_str());
    }
    return 0;
  });
}
