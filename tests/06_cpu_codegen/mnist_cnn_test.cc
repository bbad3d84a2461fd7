// Task 12 (fast part): the beautiful_mnist model and one training step, against tinyref's model
// (tools/mnist) given the same weights and the same batch. The full training run is
// milestone_test.cc.
#include "ch06/mnist_cnn.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ch04/realize.h"
#include "ch05/runner.h"
#include "ch06/cpu_runner.h"
#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/nn/layers.h"
#include "tinyref/nn/optim.h"
#include "tools/mnist/models.h"

namespace {

// Pixels 0..255 of `n` made-up images, and labels 0..9.
void batch(std::mt19937_64& rng, int64_t n, std::vector<float>* images, std::vector<double>* labels) {
  images->resize(static_cast<size_t>(n * 784));
  for (float& p : *images) p = static_cast<float>(rng() % 256);
  labels->resize(static_cast<size_t>(n));
  for (double& l : *labels) l = static_cast<double>(rng() % 10);
}

TEST(Task12MnistCnn, TheModelsTensors) {
  ch04::Tensor::manual_seed(1);
  ch06::BeautifulMnist model;
  const std::vector<ch04::Tensor> p = model.parameters();
  ASSERT_EQ(p.size(), 14u) << "weight and bias of 4 convolutions, 2 BatchNorms and the linear layer";
  int64_t count = 0;
  for (const ch04::Tensor& t : p) count += t.numel();
  EXPECT_EQ(count, 87850) << "beautiful_mnist has 87,850 parameters";
  EXPECT_EQ(model.buffers().size(), 4u) << "two BatchNorms' running mean and variance";
  const ch04::Tensor logits = model(ch04::Tensor::zeros({2, 1, 28, 28}));  // lazy: nothing runs
  EXPECT_EQ(logits.shape(), (ch04::Shape{2, 10})) << "logits of 2 images";
}

// tinyref's model with its own initialization; ours gets the same numbers, then both take one
// training step (forward in training mode, backward, BatchNorm's running statistics) on the same
// batch. float32 sums of up to 12,800 terms added in other orders than tinyref's: the loss
// agrees to 1e-5, each gradient to 1e-3 of its largest element. (The updated weights are not
// compared: Adam's first step is lr * g / (|g| + eps), which turns a gradient's rounding
// noise into a difference of lr where g is near 0.)
TEST(Task12MnistCnn, OneStepLikeTinyref) {
  const uint64_t seed = testing_util::seeds().front();
  SCOPED_TRACE(testing_util::seed_note(seed));
  tinyref::Tensor::manual_seed(seed);
  auto ref = mnist_tool::make_model("cnn", "CPU");
  ch04::Tensor::manual_seed(seed);
  ch06::BeautifulMnist model;
  std::vector<ch04::Tensor> params = model.parameters();
  const tinyref::nn::NamedTensors ref_params = ref->parameters();
  ASSERT_EQ(params.size(), ref_params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].assign(ch04::Tensor::from_vector(ref_params[i].second.to_doubles(), params[i].shape()));
    params[i].requires_grad_();
  }

  std::mt19937_64 rng(seed);
  std::vector<float> images;
  std::vector<double> labels;
  batch(rng, 4, &images, &labels);
  std::vector<int32_t> ref_labels(labels.begin(), labels.end());

  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(std::make_shared<ch06::CpuRunner>()));
  ch04::Tensor loss = model(ch04::Tensor(images, {4, 1, 28, 28})).cross_entropy(ch04::Tensor::from_vector(labels, {4}));
  loss.backward();
  std::vector<ch04::Tensor> grads;
  for (const ch04::Tensor& p : params) grads.push_back(p.grad());
  std::vector<ch04::Tensor> all = model.buffers();
  all.push_back(loss);
  all.insert(all.end(), grads.begin(), grads.end());
  ch04::realize_all(all);
  tinyref::Tensor ref_loss = tinyref::nn::cross_entropy((*ref)(tinyref::Tensor(images, {4, 1, 28, 28}, "CPU")),
                                                        tinyref::Tensor::from_vector(ref_labels, {4}, "CPU"));
  ref_loss.backward();
  EXPECT_TRUE(testing_util::close(ref_loss.item(), loss.item(), 1e-5, 1e-5, "the loss"));
  for (size_t i = 0; i < params.size(); ++i) {
    const std::vector<double> want = ref_params[i].second.grad().to_doubles();
    double largest = 0;
    for (double g : want) largest = std::max(largest, std::abs(g));
    EXPECT_TRUE(testing_util::all_close(want, grads[i].to_vector(), 0, 1e-3 * largest,
                                        "the gradient of " + ref_params[i].first));
  }
  // BatchNorm's running statistics, which the training step moves toward the batch's.
  std::vector<tinyref::Tensor> ref_stats;
  for (const auto& [name, t] : ref->buffers()) {
    if (name.find("running_") != std::string::npos) ref_stats.push_back(t);
  }
  tinyref::realize_all(ref_stats);
  const std::vector<ch04::Tensor> stats = model.buffers();
  ASSERT_EQ(stats.size(), ref_stats.size());
  for (size_t i = 0; i < stats.size(); ++i) {
    EXPECT_TRUE(testing_util::all_close(ref_stats[i].to_doubles(), stats[i].to_vector(), 1e-4, 1e-5,
                                        "BatchNorm running statistic " + std::to_string(i)));
  }
}

TEST(Task12MnistCnn, EvaluationUsesRunningStatistics) {
  // A model whose BatchNorms have seen nothing: running mean 0, variance 1. In evaluation mode
  // a batch's own statistics must not matter: the logits of an image do not depend on its batch.
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(std::make_shared<ch06::CpuRunner>()));
  ch04::Tensor::manual_seed(2);
  ch06::BeautifulMnist model;
  model.train(false);
  std::mt19937_64 rng(2);
  std::vector<float> images;
  std::vector<double> labels;
  batch(rng, 3, &images, &labels);
  ch04::NoGrad no_grad;
  const std::vector<double> three = model(ch04::Tensor(images, {3, 1, 28, 28})).to_vector();
  const std::vector<float> first(images.begin(), images.begin() + 784);
  const std::vector<double> one = model(ch04::Tensor(first, {1, 1, 28, 28})).to_vector();
  EXPECT_TRUE(testing_util::all_close(std::vector<double>(three.begin(), three.begin() + 10), one, 1e-5, 1e-4,
                                      "image 0's logits alone and in a batch of 3, in evaluation mode"));
}

}  // namespace
