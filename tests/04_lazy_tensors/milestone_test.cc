// The milestone of chapter 4: the MLP 784-128-10 trained on MNIST by your lazy tensors, your
// interpreter and your autograd, one op at a time, to at least 95% test accuracy after one
// epoch (SGD, learning rate 0.1, batches of 64: the anchor PyTorch reaches 95.8% with it).
//
// Seeded with the first of the test seeds (TT_SEEDS; 1 by default): the weights come from
// Tensor::manual_seed(seed), the batch order from datasets::EpochSampler. Watch it run with
//   bazel test //tests/04_lazy_tensors:milestone_test --test_output=streamed
//
// With TT_DATASET=fashion it trains on Fashion-MNIST instead, the hidden data set an instructor
// grades with (tests/testing/milestone.h), and the bar is kBars.fashion below.
#include <chrono>
#include <cstdio>

#include "ch04/nn.h"
#include "ch04/tensor.h"
#include "datasets/batches.h"
#include "datasets/mnist.h"
#include "gtest/gtest.h"
#include "tests/testing/milestone.h"
#include "tests/testing/testing.h"

namespace {

using ch04::Tensor;

constexpr int64_t kPixels = 784, kBatch = 64;

// Fashion-MNIST is harder, and one epoch of SGD leaves more to chance there. The solution reaches
// 81.92%, 83.31%, 83.93%, 81.60%, 81.80% (seeds 1 to 5), and tinyref the same with the same
// workload (./course mnist --dataset fashion --model mlp --seed N: 81.92%, 83.31%, 83.93% for
// seeds 1 to 3). 78% allows 1.2 times the error rate of the worst seed (18.4% -> 22%), as 95%
// does on MNIST (seeds 1 to 3: 96.10%, 95.71%, 95.79%; 4.3% -> 5%): a grader's seed can be any.
constexpr testing_util::AccuracyBars kBars{.mnist = 0.95, .fashion = 0.78};

// Test accuracy: logits for 64 images at a time (the interpreter materializes matmul's
// (64, 128, 784) product: 26 MB; 1000 images at once would be 400 MB), the arg max on the host.
double evaluate(const datasets::Mnist& test, const ch04::nn::Linear& fc1, const ch04::nn::Linear& fc2) {
  ch04::NoGrad no_grad;
  const size_t n = test.labels.size(), chunk = kBatch;
  size_t correct = 0;
  datasets::Batch batch;
  for (size_t start = 0; start < n; start += chunk) {
    std::vector<uint32_t> idx;
    for (size_t i = start; i < std::min(n, start + chunk); ++i) idx.push_back(static_cast<uint32_t>(i));
    datasets::gather(test, idx, datasets::kMnistNormalization, &batch);
    const int64_t b = static_cast<int64_t>(idx.size());
    const std::vector<double> logits = fc2(fc1(Tensor(batch.images, {b, kPixels})).relu()).to_vector();
    for (int64_t r = 0; r < b; ++r) {
      const double* row = logits.data() + r * 10;
      correct += (std::max_element(row, row + 10) - row) == batch.labels[r] ? 1 : 0;
    }
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

TEST(Task8Milestone, MlpReaches95PercentOnMnistInOneEpoch) {
  const testing_util::MilestoneData data = testing_util::milestone_data(kBars);  // names what is missing
  const datasets::Mnist& train = data.train;
  const uint64_t seed = testing_util::seeds().front();
  SCOPED_TRACE(testing_util::seed_note(seed));

  const auto start = std::chrono::steady_clock::now();
  Tensor::manual_seed(seed);
  ch04::nn::Linear fc1(kPixels, 128), fc2(128, 10);
  ch04::nn::SGD opt(ch04::nn::concat({fc1.parameters(), fc2.parameters()}), /*lr=*/0.1);
  datasets::EpochSampler sampler(train.labels.size(), kBatch, seed);
  datasets::Batch batch;
  double loss_sum = 0;
  int steps = 0;
  while (sampler.next(&batch.indices)) {
    datasets::gather(train, batch.indices, datasets::kMnistNormalization, &batch);
    const int64_t b = static_cast<int64_t>(batch.indices.size());
    const Tensor x(batch.images, {b, kPixels});
    const Tensor y = Tensor::from_vector({batch.labels.begin(), batch.labels.end()}, {b});
    Tensor loss = fc2(fc1(x).relu()).cross_entropy(y);
    opt.zero_grad();
    loss.backward();
    opt.step({loss});
    loss_sum += loss.item();
    if (++steps % 200 == 0) {
      std::printf("step %d: mean training loss %.4f\n", steps, loss_sum / 200);
      std::fflush(stdout);
      loss_sum = 0;
    }
  }
  const double accuracy = evaluate(data.test, fc1, fc2);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("MILESTONE ch04_mlp_784_128_10 dataset=%s test_accuracy=%.4f seconds=%.1f steps=%d\n", data.name,
              accuracy, seconds, steps);
  EXPECT_GE(accuracy, data.bar) << "on " << data.name << " after one epoch of " << steps << " steps (" << seconds
                                << " s)";
}

}  // namespace
