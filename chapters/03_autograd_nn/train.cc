#include "ch03/train.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "ch03/data.h"
#include "chapters/course.h"

namespace ch03 {

double accuracy(const ch02::FloatTensor& logits, const std::vector<int>& labels) {
  // TODO(ch03.9): the logits may be any view: read them through it (to_vector).
  throw course::NotImplemented("ch03.9: accuracy");
}

double evaluate(const Mlp& model, const datasets::Mnist& data, int64_t batch_size) {
  // TODO(ch03.9): NoGradGuard, an unshuffled MnistLoader, and accuracy weighted by batch size
  // (the last batch may be smaller).
  throw course::NotImplemented("ch03.9: evaluate");
}

TrainResult train_mlp(const datasets::Mnist& train, const datasets::Mnist& test,
                      const TrainConfig& config,
                      const std::function<void(int, double, double)>& on_epoch) {
  // TODO(ch03.9): rng seeded with config.seed -> Mlp; Adam over its parameters; a shuffled
  // loader seeded with config.seed. Per epoch: new_epoch; per batch: loss = cross_entropy,
  // zero_grad, backward, step; then the mean loss, evaluate on test, on_epoch, and the
  // learning rate times lr_decay. Fill in TrainResult (seconds: std::chrono::steady_clock).
  throw course::NotImplemented("ch03.9: train_mlp");
}

}  // namespace ch03
