// The milestone of chapters 4-6: tinygrad's beautiful_mnist, trained by your lazy tensors, your
// scheduler and your code generator, reaches 98% on MNIST's 10,000 test images after 70 steps
// of 512 images on the CPU.
//
// The budget is tinygrad's: Adam 1e-3, batches of 512 drawn with replacement, 70 steps. The seed
// is fixed (CnnConfig's, 0, tools/mnist's default), not taken from TT_SEEDS: 70 steps reach 98%
// at some seeds and not at others, tinyref's own run included. tinyref's test accuracy, same
// budget (bazel run -c opt --config=opt //tools/mnist -- --steps 70 --seed N), and the solution's:
//   seed 0: tinyref 98.39%, solution 98.36%     seed 1: tinyref 97.55%, solution 97.74%
//   seed 2: tinyref 98.06%, solution 98.26%     seed 3: tinyref 98.02%    seed 4: tinyref 97.35%
// Two correct solutions round differently, their runs part after a few steps, and the accuracy
// moves by a few tenths of a percent (seeds 0-2 above); seed 0 leaves tinyref that margin.
// Run it alone to watch the steps:
//   bazel test //tests/06_cpu_codegen:milestone_test_solution --test_output=streamed
#include <algorithm>
#include <cstdio>
#include <string>

#include "ch06/mnist_cnn.h"
#include "datasets/mnist.h"
#include "gtest/gtest.h"

namespace {

TEST(Task12Milestone, BeautifulMnistReaches98Percent) {
  ASSERT_TRUE(datasets::mnist_available()) << "MNIST is not in " << datasets::find_mnist_dir() << ": run ./course setup";
  const datasets::Mnist train = datasets::load_mnist("train");
  const datasets::Mnist test = datasets::load_mnist("test");
  const ch06::CnnConfig config;  // seed 0: see the top of this file
  SCOPED_TRACE("seed " + std::to_string(config.seed) + " (fixed: tinyref reaches 98.39% there)");
  const ch06::CnnResult r = ch06::train_cnn(train, test, config, [](const ch06::CnnStep& s) {
    if (s.step % 10 == 0 || s.step <= 3) std::printf("step %2d: loss %.4f, %.2f s\n", s.step, s.loss, s.seconds);
    std::fflush(stdout);
  });
  std::vector<double> steps = r.step_seconds;
  std::sort(steps.begin() + std::min<long>(3, static_cast<long>(steps.size())), steps.end());
  const double median = steps.size() > 3 ? steps[3 + (steps.size() - 3) / 2] : steps.back();
  double total = 0;
  for (double s : r.step_seconds) total += s;
  std::printf("MILESTONE beautiful_mnist test_accuracy=%.4f steps=%d train_seconds=%.1f median_step_seconds=%.3f "
              "eval_seconds=%.1f kernels=%lld\n",
              r.test_accuracy, config.steps, total, median, r.eval_seconds, static_cast<long long>(r.kernels_compiled));
  EXPECT_GE(r.test_accuracy, 0.98) << "after " << config.steps << " steps";
}

}  // namespace
