// ch05_mlp: the milestone's training steps (chapter 4's MLP 784-128-10 on MNIST, SGD, batches
// of 64) realized by your FusedEngine with its InterpretedRunner, against the same steps on
// chapter 4's Interpreter (one op at a time), in one run: the median time of a step.
//
//   bazel run --config=opt //bench:ch05_mlp                  # ./course bench ch05_mlp: your code
//   bazel run --config=opt --define ch04=solution --define ch05=solution //bench:ch05_mlp
//   bazel run --config=opt //bench:ch05_mlp -- 50            # 50 timed steps (default 20)
//
//   RESULT name=ch05_mlp_step ours=... anchor=... ratio=...   (ms a step; ratio = ours / anchor)
//
// Both start from the same seed and see the same batches, so their losses must agree (the
// program checks the first steps'); each gets 2 untimed warm-up steps.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "ch04/realize.h"
#include "ch05/runner.h"
#include "datasets/mnist.h"
#include "tests/05_scheduling_fusion/mlp_training.h"

namespace {

struct Run {
  double median_ms = 0;
  int64_t kernels = 0;
  std::vector<double> losses;
};

Run time_steps(const datasets::Mnist& train, std::shared_ptr<ch04::Engine> engine, int steps) {
  ch04::ScopedEngine use(std::move(engine));
  mlp_training::MlpTraining training(train, /*seed=*/1);
  std::vector<double> ms;
  Run r;
  for (int i = 0; i < steps + 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    training.step();
    const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i >= 2) ms.push_back(t);
    r.losses.push_back(training.loss());
    r.kernels = training.kernels();
  }
  std::sort(ms.begin(), ms.end());
  r.median_ms = ms[ms.size() / 2];
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  if (!datasets::mnist_available()) {
    std::fprintf(stderr, "ch05_mlp: MNIST is not in %s: run ./course setup\n", datasets::find_mnist_dir().c_str());
    return 1;
  }
  try {
    const datasets::Mnist train = datasets::load_mnist("train");
    const Run unfused = time_steps(train, std::make_shared<ch04::Interpreter>(), steps);
    const Run fused = time_steps(train, std::make_shared<ch05::FusedEngine>(), steps);
    double worst = 0;  // float32 losses of identical steps, summed in another order
    for (size_t i = 0; i < fused.losses.size(); ++i) worst = std::max(worst, std::abs(fused.losses[i] - unfused.losses[i]));
    std::printf("chapter 4 Interpreter: %.1f ms a step (%lld kernels); FusedEngine: %.1f ms a step (%lld kernels); "
                "tinyref schedules %d; median of %d steps; largest loss difference %.2g\n",
                unfused.median_ms, static_cast<long long>(unfused.kernels), fused.median_ms,
                static_cast<long long>(fused.kernels), mlp_training::tinyref_step_kernels(mlp_training::kBatch), steps,
                worst);
    if (!(worst < 1e-3)) {
      std::fprintf(stderr, "ch05_mlp: the two engines' losses differ by %g: a result is wrong\n", worst);
      return 1;
    }
    std::printf("RESULT name=ch05_mlp_step ours=%.2f anchor=%.2f ratio=%.3f\n", fused.median_ms, unfused.median_ms,
                fused.median_ms / unfused.median_ms);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ch05_mlp: %s\n", e.what());
    return 1;
  }
}
