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
#include <filesystem>
#include <string>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/cuda_bench.h"
#include "datasets/mnist.h"
#include "tinyref/error.h"
#include "tools/mnist/train.h"

namespace {

constexpr double kMustRatio = 1.0, kGoalRatio = 0.5, kMinAccuracy = 0.980;
constexpr int kWorkloadSteps = 70;  // the accuracy bar holds for the full workload only

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinyref vs PyTorch eager on CUDA: the beautiful_mnist training step", "mnist_cuda"};
  std::string data;
  int steps = kWorkloadSteps, warmup = 3;
  bench::BenchFlags flags;
  app.add_option("--data", data, "folder with the four MNIST IDX files (default: $TT_MNIST_DIR, else datasets/mnist)");
  app.add_option("--steps", steps, "training steps (70 is the workload)")->check(CLI::Range(2, 100000))->capture_default_str();
  app.add_option("--warmup", warmup, "first steps left out of the median")->check(CLI::Range(0, 1000))->capture_default_str();
  bench::add_bench_flags(app, flags);
  return bench::run_cuda_bench(app, flags, argc, argv, [&] {
    TT_CHECK(warmup < steps, "mnist_cuda: --warmup " << warmup << " leaves no step of " << steps << " to time");
    if (data.empty()) data = datasets::find_mnist_dir();
    // Loaded (and checked against the sums) before the anchor runs, so a missing or damaged file
    // fails here with the loader's message instead of as a Python traceback.
    const datasets::Mnist train = datasets::load_mnist_from(data, "train"), test = datasets::load_mnist_from(data, "test");
    const nlohmann::json torch = bench::run_torch_anchor(
        flags, "mnist",
        {"--data", std::filesystem::absolute(data).string(), "--steps", std::to_string(steps), "--mnist-warmup",
         std::to_string(warmup)},
        "cnn");

    mnist_tool::TrainConfig config = mnist_tool::defaults_for("cnn");
    config.device = flags.device;
    config.steps = steps;
    config.eval_every = 0;  // only the final accuracy, outside the timed steps
    mnist_tool::Trainer trainer(config, train, test);
    const mnist_tool::TrainResult r = trainer.run();
    const double ours_ms =
        1e3 * bench::median({r.step_seconds.begin() + warmup, r.step_seconds.end()});
    const nlohmann::json ours = {{"workload", "cnn"},           {"device", config.device},
                                 {"step_ms_median", ours_ms},   {"first_step_seconds", r.step_seconds.front()},
                                 {"steps", r.steps},            {"final_loss", r.final_loss},
                                 {"test_accuracy", r.test_accuracy}};
    std::printf("tinyref %s\n", ours.dump().c_str());

    const double torch_ms = torch.at("step_ms_median").get<double>(), torch_acc = torch.at("test_accuracy").get<double>();
    const std::string extra = " steps=" + std::to_string(steps);
    bench::print_result("mnist_cuda.step_ms", ours_ms, torch_ms, extra);
    bench::print_result("mnist_cuda.test_accuracy", r.test_accuracy, torch_acc, extra);
    const bool full = steps == kWorkloadSteps;
    const bool accurate = r.test_accuracy >= kMinAccuracy && torch_acc >= kMinAccuracy;
    std::printf("must (step <= %.1fx PyTorch%s): %s; goal (<= %.1fx): %s\n", kMustRatio,
                full ? ", both >= 98.0% after 70 steps" : "; accuracy not judged: not 70 steps",
                bench::verdict(ours_ms / torch_ms <= kMustRatio && (!full || accurate)).c_str(), kGoalRatio,
                bench::verdict(ours_ms / torch_ms <= kGoalRatio).c_str());
    return 0;
  });
}
