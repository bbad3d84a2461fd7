#include "ch06/mnist_cnn.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>

#include "ch04/realize.h"
#include "ch05/runner.h"
#include "ch06/cpu_runner.h"
#include "datasets/batches.h"

namespace ch06 {

using ch04::Tensor;

namespace {

// beautiful_mnist feeds the grey levels as they are: (pixel / 255 - 0) / (1 / 255).
constexpr datasets::Normalization kRawPixels{0.0f, 1.0f / 255.0f};
constexpr int kEvalBatch = 1000;

Tensor images_of(const datasets::Batch& b) {
  return Tensor(b.images, {static_cast<int64_t>(b.indices.size()), 1, 28, 28});
}

}  // namespace

BeautifulMnist::BeautifulMnist()
    : conv1(1, 32, 5), conv2(32, 32, 5), bn1(32), conv3(32, 64, 3), conv4(64, 64, 3), bn2(64), fc(576, 10) {}

Tensor BeautifulMnist::operator()(const Tensor& images) {
  Tensor x = conv2(conv1(images).relu()).relu();
  x = bn1(x).max_pool2d(2);
  x = conv4(conv3(x).relu()).relu();
  x = bn2(x).max_pool2d(2);
  return fc(x.flatten(1));
}

std::vector<Tensor> BeautifulMnist::parameters() const {
  return ch04::nn::concat({conv1.parameters(), conv2.parameters(), bn1.parameters(), conv3.parameters(),
                           conv4.parameters(), bn2.parameters(), fc.parameters()});
}

std::vector<Tensor> BeautifulMnist::buffers() const { return ch04::nn::concat({bn1.buffers(), bn2.buffers()}); }

void BeautifulMnist::train(bool on) { bn1.training = bn2.training = on; }

double evaluate_cnn(BeautifulMnist& model, const datasets::Mnist& test, int images) {
  const size_t n = images <= 0 ? test.labels.size() : std::min<size_t>(static_cast<size_t>(images), test.labels.size());
  ch04::NoGrad no_grad;
  model.train(false);
  size_t right = 0;
  datasets::Batch batch;
  for (size_t start = 0; start < n; start += kEvalBatch) {
    std::vector<uint32_t> indices;
    for (size_t i = start; i < std::min(n, start + kEvalBatch); ++i) indices.push_back(static_cast<uint32_t>(i));
    datasets::gather(test, indices, kRawPixels, &batch);
    const std::vector<double> logits = model(images_of(batch)).to_vector();
    for (size_t i = 0; i < indices.size(); ++i) {
      const auto row = logits.begin() + static_cast<long>(10 * i);
      right += std::max_element(row, row + 10) - row == batch.labels[i];
    }
  }
  model.train(true);
  return static_cast<double>(right) / static_cast<double>(n);
}

CnnResult train_cnn(const datasets::Mnist& train, const datasets::Mnist& test, const CnnConfig& config,
                    const std::function<void(const CnnStep&)>& on_step) {
  auto runner = std::make_shared<CpuRunner>(config.options);
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(runner));
  Tensor::manual_seed(config.seed);
  BeautifulMnist model;
  ch04::nn::Adam opt(model.parameters(), config.lr);
  std::mt19937_64 rng(config.seed);
  std::vector<uint32_t> indices;
  datasets::Batch batch;
  CnnResult r;
  for (int step = 1; step <= config.steps; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    datasets::random_indices(rng, train.labels.size(), static_cast<size_t>(config.batch), &indices);
    datasets::gather(train, indices, kRawPixels, &batch);
    const std::vector<double> labels(batch.labels.begin(), batch.labels.end());
    opt.zero_grad();
    Tensor loss = model(images_of(batch)).cross_entropy(Tensor::from_vector(labels, {config.batch}));
    loss.backward();
    std::vector<Tensor> also = model.buffers();
    also.push_back(loss);
    opt.step(also);  // one schedule: forward, backward, the update, BatchNorm's statistics
    r.final_loss = loss.item();
    r.step_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (on_step) on_step({step, r.final_loss, r.step_seconds.back()});
  }
  const auto e0 = std::chrono::steady_clock::now();
  r.test_accuracy = evaluate_cnn(model, test, config.eval_images);
  r.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
  r.kernels_compiled = runner->kernels_compiled();
  return r;
}

}  // namespace ch06
