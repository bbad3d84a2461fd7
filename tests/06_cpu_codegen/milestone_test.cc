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
//
// With TT_DATASET=fashion it trains on Fashion-MNIST instead, the hidden data set an instructor
// grades with (tests/testing/milestone.h), and the bar is kBars.fashion below.
#include <algorithm>
#include <cstdio>
#include <string>

#include "ch06/mnist_cnn.h"
#include "gtest/gtest.h"
#include "tests/testing/milestone.h"

namespace {

// Fashion-MNIST, the same 70 steps from seed 0: tinyref reaches 84.34% (83.59% from seed 1),
// the solution 84.02%. 80% allows 1.25 times the solution's error rate (16.0% -> 20%), as 98%
// does on MNIST (1.64% -> 2%).
constexpr testing_util::AccuracyBars kBars{.mnist = 0.98, .fashion = 0.80};

TEST(Task12Milestone, BeautifulMnistReaches98Percent) {
  const testing_util::MilestoneData data = testing_util::milestone_data(kBars);  // names what is missing
  const ch06::CnnConfig config;  // seed 0: see the top of this file
  SCOPED_TRACE("seed " + std::to_string(config.seed) + " (fixed: tinyref reaches 98.39% there on MNIST, 84.34% on " +
               "Fashion-MNIST)");
  const ch06::CnnResult r = ch06::train_cnn(data.train, data.test, config, [](const ch06::CnnStep& s) {
    if (s.step % 10 == 0 || s.step <= 3) std::printf("step %2d: loss %.4f, %.2f s\n", s.step, s.loss, s.seconds);
    std::fflush(stdout);
  });
  std::vector<double> steps = r.step_seconds;
  std::sort(steps.begin() + std::min<long>(3, static_cast<long>(steps.size())), steps.end());
  const double median = steps.size() > 3 ? steps[3 + (steps.size() - 3) / 2] : steps.back();
  double total = 0;
  for (double s : r.step_seconds) total += s;
  std::printf("MILESTONE beautiful_mnist dataset=%s test_accuracy=%.4f steps=%d train_seconds=%.1f "
              "median_step_seconds=%.3f eval_seconds=%.1f kernels=%lld\n",
              data.name, r.test_accuracy, config.steps, total, median, r.eval_seconds,
              static_cast<long long>(r.kernels_compiled));
  EXPECT_GE(r.test_accuracy, data.bar) << "on " << data.name << " after " << config.steps << " steps";
}

}  // namespace
