// mnist_cuda: the beautiful_mnist training step (the CNN of `./course mnist`: batch 512 drawn
// with replacement, Adam 1e-3, 70 steps) by tinyref on CUDA against PyTorch eager on CUDA, on
// the same GPU in the same run. The bar: a step at most 1.0x PyTorch's (must), 0.5x
// (goal); both test accuracies after 70 steps at least 98.0%.
//
//   bazel run --config=opt //bench:mnist_cuda -- --data /path/to/mnist   # or devbin/run_all.sh
//   pytorch {"workload": "cnn", "step_ms_median": 3.78, "test_accuracy": 0.9831, ...}
//   tinyref {"workload": "cnn", "step_ms_median": ..., "test_accuracy": ...}
//   RESULT name=mnist_cuda.step_ms ours=... anchor=3.78 ratio=...   (ratio = ours / PyTorch)
//   RESULT name=mnist_cuda.test_accuracy ours=... anchor=0.9831 ratio=...
//
// Both sides are the workloads of mnist_cpu (tools/mnist/train.h; bench/anchors/torch_mnist.py,
// which torch_cuda.py imports): the median step time after `warmup` steps, each step ending on
// the loss read back to the host, and the accuracy on all 10,000 test images at the end.
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/cuda_bench.h"
#include "bench/mnist_workload.h"

namespace {

constexpr double kMustRatio = 1.0, kGoalRatio = 0.5, kMinAccuracy = 0.980;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinyref vs PyTorch eager on CUDA: the beautiful_mnist training step", "mnist_cuda"};
  bench::MnistWorkload workload;
  bench::BenchFlags flags;
  workload.add_options(app);
  bench::add_bench_flags(app, flags);
  return bench::run_cuda_bench(app, flags, argc, argv, [&] {
    const bench::MnistBaselines b = bench::run_mnist_baselines(workload, flags, "mnist_cuda");
    const std::string extra = " steps=" + std::to_string(workload.steps);
    bench::print_result("mnist_cuda.step_ms", b.tinyref_ms, b.torch_ms, extra);
    bench::print_result("mnist_cuda.test_accuracy", b.tinyref.test_accuracy, b.torch_accuracy, extra);
    const bool full = workload.steps == bench::MnistWorkload::kSteps;
    const bool accurate = b.tinyref.test_accuracy >= kMinAccuracy && b.torch_accuracy >= kMinAccuracy;
    std::printf("must (step <= %.1fx PyTorch%s): %s; goal (<= %.1fx): %s\n", kMustRatio,
                full ? ", both >= 98.0% after 70 steps" : "; accuracy not judged: not 70 steps",
                bench::verdict(b.tinyref_ms / b.torch_ms <= kMustRatio && (!full || accurate)).c_str(), kGoalRatio,
                bench::verdict(b.tinyref_ms / b.torch_ms <= kGoalRatio).c_str());
    return 0;
  });
}
