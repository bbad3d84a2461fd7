// The milestone of chapter 4: the MLP 784-128-10 trained on MNIST by your lazy tensors, your
// interpreter and your autograd, one op at a time, to at least 95% test accuracy after one
// epoch (SGD, learning rate 0.1, batches of 64: the anchor PyTorch reaches 95.8% with it).
//
// Seeded with the first of the test seeds (TT_SEEDS; 1 by default): the weights come from
// Tensor::manual_seed(seed), the batch order from datasets::EpochSampler. Watch it run with
//   bazel test //tests/04_lazy_tensors:milestone_test --test_output=streamed
#include <chrono>
#include <cstdio>

#include "ch04/nn.h"
#include "ch04/tensor.h"
#include "datasets/batches.h"
#include "datasets/mnist.h"
#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace {

using ch04::Tensor;

constexpr int64_t kPixels = 784, kBatch = 64;

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
  ASSERT_TRUE(datasets::mnist_available()) << "MNIST is not in " << datasets::find_mnist_dir()
                                           << ": run ./course setup";
  const datasets::Mnist train = datasets::load_mnist("train");
  const datasets::Mnist test = datasets::load_mnist("test");
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
  const double accuracy = evaluate(test, fc1, fc2);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("MILESTONE ch04_mlp_784_128_10 test_accuracy=%.4f seconds=%.1f steps=%d\n", accuracy, seconds, steps);
  EXPECT_GE(accuracy, 0.95) << "after one epoch of " << steps << " steps (" << seconds << " s)";
}

}  // namespace
