// Task 9: accuracy, evaluation and a short training run on part of MNIST. The full milestone
// is milestone_test.cc.
#include <random>

#include "ch03/train.h"
#include "datasets/mnist.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch02::FloatTensor;
using dense::Dense;

int argmax_row(const Dense& logits, int64_t row) {
  const int64_t classes = logits.shape[1];
  int best = 0;
  for (int c = 1; c < classes; ++c) {
    if (logits.values[row * classes + c] > logits.values[row * classes + best]) best = c;
  }
  return best;
}

TEST(Task9Training, AccuracyIsTheShareOfArgmaxHits) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t batch = 1 + rng() % 20, classes = 2 + rng() % 9;
    // Values on a coarse grid, so that ties happen: the first maximum counts.
    Dense logits = dense::map(dense::random(rng, {batch, classes}), [](double v) { return std::round(v * 2); });
    const auto x = strided_testing::random_strided<float>(rng, {batch, classes});
    for (float& v : x.tensor.storage()->data) v = std::round(v * 2);
    logits = strided_testing::read(x.tensor);
    std::vector<int> labels(batch);
    int64_t hits = 0;
    for (int64_t b = 0; b < batch; ++b) {
      labels[b] = static_cast<int>(rng() % classes);
      if (rng() % 2) labels[b] = argmax_row(logits, b);
      hits += labels[b] == argmax_row(logits, b);
    }
    EXPECT_DOUBLE_EQ(ch03::accuracy(x.tensor, labels), double(hits) / double(batch)) << "logits " << x.layout;
  }
  EXPECT_THROW(ch03::accuracy(FloatTensor::zeros({3, 4}), {1, 2}), std::invalid_argument);
}

// A subset of MNIST: the first n examples.
datasets::Mnist first(const datasets::Mnist& all, size_t n) {
  datasets::Mnist out;
  out.images.count = n;
  out.images.rows = all.images.rows;
  out.images.cols = all.images.cols;
  out.images.pixels.assign(all.images.pixels.begin(), all.images.pixels.begin() + n * 784);
  out.labels.assign(all.labels.begin(), all.labels.begin() + n);
  return out;
}

TEST(Task9Training, EvaluateIsAccuracyOverTheWholeSet) {
  ASSERT_TRUE(datasets::mnist_available()) << "MNIST is missing: run ./course setup";
  const datasets::Mnist test = first(datasets::load_mnist("test"), 250);
  std::mt19937_64 rng(testing_util::seeds().front());
  const ch03::Mlp model(rng);
  // The same forward pass in plain loops, on the normalized pixels.
  auto read = [](const ch03::Tensor<float>& t) { return strided_testing::read(t.value()); };
  const Dense w1 = read(model.fc1.weight), b1 = read(model.fc1.bias);
  const Dense w2 = read(model.fc2.weight), b2 = read(model.fc2.bias);
  Dense x{{250, 784}, {}};
  for (uint8_t p : test.images.pixels) x.values.push_back((p / 255.0 - 0.1307) / 0.3081);
  const Dense h = dense::map(dense::zip(dense::matmul(x, dense::permute(w1, {1, 0})), b1, std::plus<>()),
                             [](double v) { return v > 0 ? v : 0.0; });
  const Dense logits = dense::zip(dense::matmul(h, dense::permute(w2, {1, 0})), b2, std::plus<>());
  int64_t hits = 0;
  for (int64_t i = 0; i < 250; ++i) hits += argmax_row(logits, i) == test.labels[i];
  // Batches of 100 over 250 images: the last batch is a partial one. An untrained network's
  // logits are close together, so one float rounding could flip one argmax: allow one image.
  EXPECT_NEAR(ch03::evaluate(model, test, 100), double(hits) / 250, 1.0 / 250 + 1e-12);
}

TEST(Task9Training, LearnsASliceOfMnist) {
  ASSERT_TRUE(datasets::mnist_available()) << "MNIST is missing: run ./course setup";
  const datasets::Mnist train = first(datasets::load_mnist("train"), 3000);
  const datasets::Mnist test = first(datasets::load_mnist("test"), 1000);
  ch03::TrainConfig config;
  config.epochs = 2;
  config.seed = testing_util::seeds().front();
  int calls = 0;
  const ch03::TrainResult r = ch03::train_mlp(train, test, config, [&](int, double, double) { ++calls; });
  EXPECT_EQ(calls, 2) << "on_epoch is called once per epoch";
  ASSERT_EQ(r.epoch_loss.size(), 2u);
  EXPECT_LT(r.epoch_loss[1], r.epoch_loss[0]) << "the training loss must fall";
  // 3000 images, 2 epochs: the solution reaches about 90%; chance is 10%.
  EXPECT_GT(r.test_accuracy, 0.85) << "after 2 epochs on 3000 images";
  EXPECT_EQ(r.test_accuracy, r.epoch_accuracy.back());
}

}  // namespace
