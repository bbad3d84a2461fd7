// Chapter 5's milestone workload, shared by the milestone test and its benchmark
// (bench/ch05_mlp.cc): chapter 4's MLP 784-128-10 on MNIST, SGD with learning rate 0.1,
// batches of 64, realized by whatever ch04 engine is installed: chapter 4's Interpreter (one
// op at a time) or chapter 5's FusedEngine.
//
//   ch04::ScopedEngine fused(std::make_shared<ch05::FusedEngine>());
//   MlpTraining t(train, /*seed=*/1);
//   while (t.step()) { ... t.loss() ... t.kernels() ... }   // one epoch, step by step
//   double accuracy = t.accuracy(test);
//   tinyref_step_kernels(64)    // the same step in tinyref: how many kernels its scheduler makes
//
// Header-only: compiled with the ch04 of the program that includes it.
#ifndef TESTS_05_SCHEDULING_FUSION_MLP_TRAINING_H_
#define TESTS_05_SCHEDULING_FUSION_MLP_TRAINING_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ch04/nn.h"
#include "ch04/tensor.h"
#include "datasets/batches.h"
#include "datasets/mnist.h"
#include "tinyref/tensor.h"

namespace mlp_training {

inline constexpr int64_t kPixels = 784, kHidden = 128, kClasses = 10, kBatch = 64;

class MlpTraining {
 public:
  MlpTraining(const datasets::Mnist& train, uint64_t seed)
      : train_(train), seed_(seeded(seed)), fc1_(kPixels, kHidden), fc2_(kHidden, kClasses),
        sgd_(ch04::nn::concat({fc1_.parameters(), fc2_.parameters()}), /*lr=*/0.1),
        sampler_(train.labels.size(), kBatch, seed) {}

  // One SGD step on the next batch: forward, backward and update realized in one call. False
  // (and nothing done) once the epoch is over.
  bool step() {
    if (!sampler_.next(&batch_.indices)) return false;
    datasets::gather(train_, batch_.indices, datasets::kMnistNormalization, &batch_);
    const int64_t n = static_cast<int64_t>(batch_.indices.size());
    const ch04::Tensor x(batch_.images, {n, kPixels});
    const ch04::Tensor y = ch04::Tensor::from_vector({batch_.labels.begin(), batch_.labels.end()}, {n});
    ch04::Tensor loss = fc2_(fc1_(x).relu()).cross_entropy(y);
    const int64_t before = ch04::stats().kernels;
    sgd_.zero_grad();
    loss.backward();
    sgd_.step({loss});
    kernels_ = ch04::stats().kernels - before;
    loss_ = loss.item();
    return true;
  }
  double loss() const { return loss_; }
  int64_t kernels() const { return kernels_; }  // kernels the last step ran

  // Share of the test images whose largest logit is their label (1000 images a batch).
  double accuracy(const datasets::Mnist& test) const {
    ch04::NoGrad no_grad;
    datasets::Batch batch;
    size_t right = 0;
    for (size_t start = 0; start < test.labels.size(); start += 1000) {
      batch.indices.clear();
      for (size_t i = start; i < std::min(test.labels.size(), start + 1000); ++i) batch.indices.push_back(i);
      datasets::gather(test, batch.indices, datasets::kMnistNormalization, &batch);
      const int64_t n = static_cast<int64_t>(batch.indices.size());
      const std::vector<double> logits = fc2_(fc1_(ch04::Tensor(batch.images, {n, kPixels})).relu()).to_vector();
      for (int64_t r = 0; r < n; ++r) {
        const auto row = logits.begin() + r * kClasses;
        right += std::max_element(row, row + kClasses) - row == batch.labels[r];
      }
    }
    return static_cast<double>(right) / static_cast<double>(test.labels.size());
  }

 private:
  // Seeds ch04's generator: as a member initializer it runs before fc1_ and fc2_ draw weights.
  static uint64_t seeded(uint64_t seed) {
    ch04::Tensor::manual_seed(seed);
    return seed;
  }

  const datasets::Mnist& train_;
  const uint64_t seed_;
  ch04::nn::Linear fc1_, fc2_;
  ch04::nn::SGD sgd_;
  datasets::EpochSampler sampler_;
  datasets::Batch batch_;
  double loss_ = 0;
  int64_t kernels_ = 0;
};

// The same step written with tinyref's own front end (Linear's x @ W^T + b, relu,
// cross_entropy, p - 0.1 * grad): the kernels tinyref's scheduler makes of it.
inline int tinyref_step_kernels(int64_t batch) {
  using tinyref::Tensor;
  const char* dev = "INTERP";
  Tensor x = Tensor::randn({batch, kPixels}, tinyref::DType::kFloat32, dev);
  Tensor y = Tensor::randint({batch}, 0, kClasses, dev);
  std::vector<Tensor> params = {Tensor::randn({kHidden, kPixels}, tinyref::DType::kFloat32, dev),
                                Tensor::randn({kHidden}, tinyref::DType::kFloat32, dev),
                                Tensor::randn({kClasses, kHidden}, tinyref::DType::kFloat32, dev),
                                Tensor::randn({kClasses}, tinyref::DType::kFloat32, dev)};
  for (Tensor& p : params) p.requires_grad_();
  Tensor loss = x.linear(params[0], params[1]).relu().linear(params[2], params[3]).cross_entropy(y);
  loss.backward();
  std::vector<Tensor> outs = {loss};
  for (Tensor& p : params) outs.push_back(p.detach() - p.grad() * 0.1);
  return tinyref::count_kernels(outs);
}

}  // namespace mlp_training

#endif  // TESTS_05_SCHEDULING_FUSION_MLP_TRAINING_H_
