// The data a chapter milestone trains and measures on, and the accuracy it must reach there.
//
//   const testing_util::MilestoneData data = testing_util::milestone_data({.mnist = 0.97, .fashion = 0.85});
//   ... train on data.train, measure the accuracy on data.test ...
//   EXPECT_GE(accuracy, data.bar) << "on " << data.name;
//
// MNIST by default. With TT_DATASET=fashion (datasets/mnist.h) it is Fashion-MNIST, the hidden
// data set an instructor grades on: no student tuned for it, so passing there shows the code
// was not fitted to MNIST. Fashion-MNIST is harder, so each milestone sets its own bar there
// and says next to it what tinyref and the solution reach with the same workload.
#ifndef TESTS_TESTING_MILESTONE_H_
#define TESTS_TESTING_MILESTONE_H_

#include "datasets/mnist.h"

namespace testing_util {

struct AccuracyBars {
  double mnist = 0;
  double fashion = 0;
};

struct MilestoneData {
  datasets::Dataset dataset = datasets::Dataset::kMnist;
  const char* name = "";  // "mnist" or "fashion", for messages
  double bar = 0;         // the test accuracy to reach on this data set
  datasets::Mnist train, test;
};

// Both splits of the data set $TT_DATASET chooses, checksums verified, with its bar. Throws
// tinyref::Error when TT_DATASET names no data set (the message lists them) or the files are
// missing (the message says how to get them: ./course setup, or Debian's package).
MilestoneData milestone_data(const AccuracyBars& bars);

}  // namespace testing_util

#endif  // TESTS_TESTING_MILESTONE_H_
