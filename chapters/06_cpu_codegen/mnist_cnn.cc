#include "ch06/mnist_cnn.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>

#include "ch04/realize.h"
#include "ch05/runner.h"
#include "ch06/cpu_runner.h"
#include "chapters/course.h"
#include "datasets/batches.h"

namespace ch06 {

using ch04::Tensor;

namespace {

// beautiful_mnist feeds the grey levels as they are: (pixel / 255 - 0) / (1 / 255).
[[maybe_unused]] constexpr datasets::Normalization kRawPixels{0.0f, 1.0f / 255.0f};
[[maybe_unused]] constexpr int kEvalBatch = 1000;

[[maybe_unused]] Tensor images_of(const datasets::Batch& b) {
  return Tensor(b.images, {static_cast<int64_t>(b.indices.size()), 1, 28, 28});
}

}  // namespace

BeautifulMnist::BeautifulMnist()
    : conv1(1, 32, 5), conv2(32, 32, 5), bn1(32), conv3(32, 64, 3), conv4(64, 64, 3), bn2(64), fc(576, 10) {}

Tensor BeautifulMnist::operator()(const Tensor& images) {
  // TODO(ch06.12): the layers of mnist_cnn.h's picture, in order. max_pool2d, flatten and relu
  // are Tensor methods; the layers are called like functions.
  throw course::NotImplemented("ch06.12: BeautifulMnist");
}

std::vector<Tensor> BeautifulMnist::parameters() const {
  return ch04::nn::concat({conv1.parameters(), conv2.parameters(), bn1.parameters(), conv3.parameters(),
                           conv4.parameters(), bn2.parameters(), fc.parameters()});
}

std::vector<Tensor> BeautifulMnist::buffers() const { return ch04::nn::concat({bn1.buffers(), bn2.buffers()}); }

void BeautifulMnist::train(bool on) { bn1.training = bn2.training = on; }

double evaluate_cnn(BeautifulMnist& model, const datasets::Mnist& test, int images) {
  // TODO(ch06.12): NoGrad, model.train(false); batches of kEvalBatch test images (gather them
  // with datasets::gather and kRawPixels, images_of makes the tensor); the predicted class is
  // the largest of each row of 10 logits. Back to training mode before returning.
  throw course::NotImplemented("ch06.12: evaluate_cnn");
}

CnnResult train_cnn(const datasets::Mnist& train, const datasets::Mnist& test, const CnnConfig& config,
                    const std::function<void(const CnnStep&)>& on_step) {
  // TODO(ch06.12):
  //  - a CpuRunner(config.options) inside a ch05::FusedEngine, installed with ch04::ScopedEngine;
  //  - Tensor::manual_seed(config.seed), then the model and ch04::nn::Adam(parameters, lr);
  //  - each step: config.batch indices drawn with replacement (datasets::random_indices with a
  //    std::mt19937_64 seeded with config.seed), gathered with kRawPixels; labels as floats;
  //    zero_grad, the loss (cross_entropy), backward, then opt.step with the BatchNorms'
  //    buffers and the loss, so one schedule computes everything; the loss's value, the step's
  //    time, on_step;
  //  - evaluate_cnn on config.eval_images, and the runner's kernels_compiled().
  throw course::NotImplemented("ch06.12: train_cnn");
}

}  // namespace ch06
