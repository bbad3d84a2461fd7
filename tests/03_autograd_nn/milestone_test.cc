// The milestone of chapters 2 and 3: the MLP 784-128-10, trained with your tensors, your
// autograd, your layers, loss, optimizer and loader, reaches 97% on MNIST's 10000 test images.
//
// The budget is fixed: TrainConfig's defaults (5 epochs, batch 64, Adam from 1e-3 shrinking by
// 0.6 per epoch), seeded with the first of the test seeds (TT_SEEDS; 1 by default). The
// solution reaches 97.65% to 97.8% (seeds 1 to 5) in 20 s to a minute on two cores. Run it alone to
// see the epochs:
//   bazel test //tests/03_autograd_nn:milestone_test --test_output=streamed
//
// With TT_DATASET=fashion it trains on Fashion-MNIST instead, the hidden data set an instructor
// grades with (tests/testing/milestone.h), and the bar is kBars.fashion below.
#include <cstdio>

#include "ch03/train.h"
#include "gtest/gtest.h"
#include "tests/testing/milestone.h"
#include "tests/testing/testing.h"

namespace {

// Fashion-MNIST is harder: the solution reaches 88.1% to 88.2% (seeds 1 to 3) with the same
// budget. 85% allows it 1.3 times the solution's error rate, as 97% does on MNIST.
constexpr testing_util::AccuracyBars kBars{.mnist = 0.97, .fashion = 0.85};

TEST(Task9Milestone, MlpReaches97PercentOnMnist) {
  const testing_util::MilestoneData data = testing_util::milestone_data(kBars);  // names what is missing
  ch03::TrainConfig config;
  config.seed = testing_util::seeds().front();
  SCOPED_TRACE(testing_util::seed_note(config.seed));
  const ch03::TrainResult r = ch03::train_mlp(data.train, data.test, config, [](int epoch, double loss, double acc) {
    std::printf("epoch %d: mean training loss %.4f, test accuracy %.2f%%\n", epoch + 1, loss, 100 * acc);
    std::fflush(stdout);
  });
  std::printf("MILESTONE mlp_784_128_10 dataset=%s test_accuracy=%.4f seconds=%.1f epochs=%d\n", data.name,
              r.test_accuracy, r.seconds, config.epochs);
  EXPECT_GE(r.test_accuracy, data.bar) << "on " << data.name << " after " << config.epochs << " epochs ("
                                       << r.seconds << " s)";
}

}  // namespace
