// ch06_mnist_cnn: beautiful_mnist's training step on chapters 4-6 (lazy tensors, the
// FusedEngine, the CpuRunner) against tinyref's CPU backend, the same workload measured in the
// same run, with both test accuracies. The chapter's goal: at most 3x tinyref's step.
//
//   bazel run --config=opt //bench:ch06_mnist_cnn                      # ./course bench ch06_mnist_cnn: yours
//   bazel run --config=opt --define ch04=solution --define ch05=solution --define ch06=solution
//       //bench:ch06_mnist_cnn -- --steps 10                         # the solution's, a quicker run
//
//   RESULT name=ch06_mnist_cnn.step_seconds ours=... anchor=... ratio=... goal=3
//   RESULT name=ch06_mnist_cnn.test_accuracy ours=... anchor=... ratio=... steps=70
//
// The workload is tools/mnist's: Adam 1e-3, batches of 512 drawn with replacement, 70 steps;
// the step time is the median after 3 warm-up steps (the first ones compile the kernels).
// tinyref replays its recorded step (no graph building per step); ours builds, schedules and
// looks up every kernel of every step, as chapters 4-6 do.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "ch06/mnist_cnn.h"
#include "datasets/mnist.h"
#include "tools/mnist/train.h"

namespace {

constexpr double kGoalRatio = 3.0;

double median_after_warmup(const std::vector<double>& steps) {
  const size_t warmup = std::min<size_t>(3, steps.size() - 1);
  return bench::median({steps.begin() + static_cast<long>(warmup), steps.end()});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"beautiful_mnist's step: chapters 4-6 against tinyref's CPU backend"};
  int steps = 70, threads = 0;
  ch06::CnnConfig ours_config;
  bool ours_only = false;
  app.add_option("--steps", steps, "training steps (70 is the workload; fewer for a rough timing)");
  app.add_option("--threads", threads, "OpenMP threads for both (0: OpenMP's default)");
  app.add_option("--seed", ours_config.seed, "seed of both runs (initialization and batches)")->capture_default_str();
  app.add_flag("--ours-only", ours_only, "skip tinyref (with CH06_DEBUG=2: a profile of your kernels)");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) omp_set_num_threads(threads);
  if (!datasets::mnist_available()) {
    std::fprintf(stderr, "ch06_mnist_cnn: MNIST is not in %s: run ./course setup\n", datasets::find_mnist_dir().c_str());
    return 2;
  }
  const datasets::Mnist train = datasets::load_mnist("train"), test = datasets::load_mnist("test");
  std::fprintf(stderr, "ch06_mnist_cnn: %d steps, %d threads\n", steps, omp_get_max_threads());

  ours_config.steps = steps;
  const ch06::CnnResult ours = ch06::train_cnn(train, test, ours_config, [&](const ch06::CnnStep& s) {
    std::fprintf(stderr, "ours    step %2d/%d  loss %.4f  %.3f s\n", s.step, steps, s.loss, s.seconds);
  });
  std::fprintf(stderr, "ours: %lld kernels compiled, test accuracy %.4f\n", static_cast<long long>(ours.kernels_compiled),
               ours.test_accuracy);
  const double ours_step = median_after_warmup(ours.step_seconds);
  if (ours_only) {
    std::printf("ours: median step %.3f s, test accuracy %.4f\n", ours_step, ours.test_accuracy);
    return 0;
  }

  mnist_tool::TrainConfig ref_config = mnist_tool::defaults_for("cnn");
  ref_config.device = "CPU";
  ref_config.steps = steps;
  ref_config.eval_every = 0;
  ref_config.seed = ours_config.seed;
  mnist_tool::Trainer trainer(ref_config, train, test);
  const mnist_tool::TrainResult ref = trainer.run([&](const mnist_tool::StepInfo& s) {
    std::fprintf(stderr, "tinyref step %2d/%d  loss %.4f  %.3f s\n", s.step, s.total, s.loss, s.seconds);
  });
  const double ref_step = median_after_warmup(ref.step_seconds);

  bench::print_result("ch06_mnist_cnn.step_seconds", ours_step, ref_step,
                      " goal=" + std::to_string(kGoalRatio).substr(0, 3) + " threads=" + std::to_string(omp_get_max_threads()));
  bench::print_result("ch06_mnist_cnn.test_accuracy", ours.test_accuracy, ref.test_accuracy, " steps=" + std::to_string(steps));
  return ours_step <= kGoalRatio * ref_step ? 0 : 1;
}
