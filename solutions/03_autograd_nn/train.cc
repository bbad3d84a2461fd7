#include "ch03/train.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "ch03/data.h"

namespace ch03 {

double accuracy(const ch02::FloatTensor& logits, const std::vector<int>& labels) {
  if (logits.ndim() != 2 || static_cast<int64_t>(labels.size()) != logits.shape()[0]) {
    throw std::invalid_argument("accuracy: logits of shape " + ch02::shape_str(logits.shape()) +
                                " and " + std::to_string(labels.size()) + " labels");
  }
  const int64_t batch = logits.shape()[0], classes = logits.shape()[1];
  const std::vector<float> v = logits.to_vector();
  int64_t correct = 0;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) {
      if (v[b * classes + c] > v[b * classes + best]) best = c;
    }
    correct += best == labels[b];
  }
  return batch == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(batch);
}

double evaluate(const Mlp& model, const datasets::Mnist& data, int64_t batch_size) {
  NoGradGuard no_grad;
  MnistLoader loader(data, batch_size, /*shuffle=*/false, 0);
  loader.new_epoch();
  double correct = 0;
  for (int64_t i = 0; i < loader.num_batches(); ++i) {
    const Batch b = loader.batch(i);
    const Tensor<float> logits = model(Tensor<float>(b.images));
    correct += accuracy(logits.value(), b.labels) * static_cast<double>(b.labels.size());
  }
  return correct / static_cast<double>(loader.size());
}

TrainResult train_mlp(const datasets::Mnist& train, const datasets::Mnist& test,
                      const TrainConfig& config,
                      const std::function<void(int, double, double)>& on_epoch) {
  const auto start = std::chrono::steady_clock::now();
  std::mt19937_64 rng(config.seed);
  Mlp model(rng);
  Adam opt(model.parameters(), config.lr);
  MnistLoader loader(train, config.batch_size, /*shuffle=*/true, config.seed);
  TrainResult result;
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    loader.new_epoch();
    double loss_sum = 0;
    for (int64_t i = 0; i < loader.num_batches(); ++i) {
      const Batch b = loader.batch(i);
      const Tensor<float> loss = cross_entropy(model(Tensor<float>(b.images)), b.labels);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.value().item();
    }
    result.epoch_loss.push_back(loss_sum / static_cast<double>(loader.num_batches()));
    result.epoch_accuracy.push_back(evaluate(model, test));
    if (on_epoch) on_epoch(epoch, result.epoch_loss.back(), result.epoch_accuracy.back());
    opt.set_lr(opt.lr() * config.lr_decay);
  }
  result.test_accuracy = result.epoch_accuracy.empty() ? evaluate(model, test) : result.epoch_accuracy.back();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace ch03
