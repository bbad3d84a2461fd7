// beautiful_mnist (chapter 6's model) trained by chapters 4-8 on a GPU: chapter 4's tensors and
// layers build each step, chapter 5's FusedEngine cuts it into kernels, chapter 8's CudaRunner
// runs them. What the milestone test and bench/ch08_mnist_cuda run.
//
//   MnistOnGpu run(std::make_shared<ch08::CudaRunner>(), /*seed=*/1);   // the engine installed
//   for (int i = 0; i < 70; ++i) run.step(train);                      // returns the loss
//   run.accuracy(test)                                                 // at least 0.98
//
// The workload of chapter 6's train_cnn and of tinyref's `./course mnist`: batches of 512 drawn
// with replacement, raw pixels (0..255), Adam 1e-3. A step realizes forward, backward, the
// update and BatchNorm's statistics in one schedule, and reads the loss back (the one copy from
// the GPU a step makes; the batch is the one copy to it).
//
// Header-only on purpose, as gpu_testing.h: compiled with whichever chapters its user links.
#ifndef TESTS_08_CUDA_CODEGEN_MNIST_ON_GPU_H_
#define TESTS_08_CUDA_CODEGEN_MNIST_ON_GPU_H_

#include <memory>
#include <random>
#include <vector>

#include "ch04/nn.h"
#include "ch04/realize.h"
#include "ch04/tensor.h"
#include "ch05/runner.h"
#include "ch06/mnist_cnn.h"
#include "ch08/cuda_runner.h"
#include "datasets/batches.h"
#include "datasets/mnist.h"

class MnistOnGpu {
 public:
  MnistOnGpu(std::shared_ptr<ch08::CudaRunner> runner, uint64_t seed, int batch = 512, double lr = 1e-3)
      : runner_(std::move(runner)),
        engine_(std::make_shared<ch05::FusedEngine>(runner_)),
        batch_(batch),
        model_(seeded(seed)),
        adam_(model_.parameters(), lr),
        rng_(seed) {}

  // One training step on a fresh batch; the loss.
  double step(const datasets::Mnist& train) {
    datasets::random_indices(rng_, train.labels.size(), static_cast<size_t>(batch_), &data_.indices);
    datasets::gather(train, data_.indices, kRawPixels, &data_);
    const ch04::Tensor images(data_.images, {batch_, 1, 28, 28});
    const ch04::Tensor labels = ch04::Tensor::from_vector(std::vector<double>(data_.labels.begin(), data_.labels.end()), {batch_});
    adam_.zero_grad();
    ch04::Tensor loss = model_(images).cross_entropy(labels);
    loss.backward();
    std::vector<ch04::Tensor> realized_with_the_update = model_.buffers();
    realized_with_the_update.push_back(loss);
    adam_.step(realized_with_the_update);
    return loss.item();
  }

  // The share of the first `images` test images (0: all) classified right, on the GPU.
  double accuracy(const datasets::Mnist& test, int images = 0) { return ch06::evaluate_cnn(model_, test, images); }

  ch08::CudaRunner& runner() { return *runner_; }

 private:
  static constexpr datasets::Normalization kRawPixels{0.0f, 1.0f / 255.0f};  // pixel / 255 * 255
  static ch06::BeautifulMnist seeded(uint64_t seed) {
    ch04::Tensor::manual_seed(seed);
    return ch06::BeautifulMnist();
  }

  std::shared_ptr<ch08::CudaRunner> runner_;
  ch04::ScopedEngine engine_;
  int64_t batch_;
  ch06::BeautifulMnist model_;
  ch04::nn::Adam adam_;
  std::mt19937_64 rng_;
  datasets::Batch data_;
};

#endif  // TESTS_08_CUDA_CODEGEN_MNIST_ON_GPU_H_
