#include "tools/mnist/train.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "tinyref/nn/layers.h"
#include "tools/mnist/models.h"

namespace mnist_tool {

using tinyref::Tensor;
namespace nn = tinyref::nn;

namespace {

// (pixel / 255 - 0) / (1 / 255): the raw grey level, as beautiful_mnist feeds it. batches.cc
// computes it as pixel * (1 / (255 * (1/255.f))) + 0, and 255 * (1/255.f) rounds to exactly
// 1.0f, so the values are the integers 0..255 exactly.
constexpr datasets::Normalization kRawPixels{0.0f, 1.0f / 255.0f};

// Evaluation batches: large enough to amortize each kernel launch, small enough that the
// CNN's activations (about 0.3 MB an image) stay around 300 MB.
constexpr size_t kEvalBatch = 1000;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TrainConfig defaults_for(const std::string& model) {
  TrainConfig c;
  c.model = model;
  if (model == "cnn") {
    c.optimizer = "adam";
    c.lr = 1e-3;
    c.batch = 512;
    c.steps = 70;
    c.sample_with_replacement = true;
    c.eval_every = 10;
    c.eval_images = 2000;
  } else {
    TT_CHECK(model == "mlp", "mnist: unknown model '" << model << "' (cnn or mlp)");
    c.optimizer = "sgd";
    c.lr = 0.1;
    c.batch = 64;
    c.epochs = 1;
    c.eval_every = 100;
    c.eval_images = 2000;
  }
  return c;
}

std::string best_device() {
  if (const char* env = std::getenv("TT_DEVICE"); env != nullptr && *env != '\0') return env;
  try {
    Tensor::zeros({1}, tinyref::DType::kFloat32, "CUDA").contiguous().realize();
    return "CUDA";
  } catch (const std::exception&) {
    return "CPU";  // no CUDA backend in this build, or no GPU on this machine
  }
}

Trainer::Trainer(const TrainConfig& config, const datasets::Mnist& train, const datasets::Mnist& test)
    : config_(config), train_(train), test_(test), rng_(config.seed) {
  TT_CHECK(config_.batch > 0, "mnist: the batch size must be positive, got " << config_.batch);
  TT_CHECK(config_.steps > 0 || config_.epochs > 0, "mnist: needs steps > 0 or epochs > 0");
  TT_CHECK(static_cast<size_t>(config_.batch) <= train_.labels.size(),
           "mnist: batch " << config_.batch << " is larger than the training set (" << train_.labels.size() << ")");
  if (config_.device.empty()) config_.device = best_device();
  norm_ = config_.model == "cnn" ? kRawPixels : datasets::kMnistNormalization;
  tinyref::Tensor::manual_seed(config_.seed);
  model_ = make_model(config_.model, config_.device);
  if (config_.optimizer == "adam") {
    opt_ = std::make_unique<nn::Adam>(model_->parameters(), config_.lr);
  } else {
    TT_CHECK(config_.optimizer == "sgd", "mnist: unknown optimizer '" << config_.optimizer << "' (adam or sgd)");
    opt_ = std::make_unique<nn::SGD>(model_->parameters(), config_.lr);
  }
  if (!config_.sample_with_replacement) {
    sampler_ = std::make_unique<datasets::EpochSampler>(train_.labels.size(), config_.batch, config_.seed);
  }
  if (config_.replay) {
    replay_ = std::make_unique<tinyref::Replay>(
        [this](const std::vector<Tensor>& in) { return build_step(in[0], in[1]); });
  }
}

Trainer::~Trainer() = default;

int Trainer::total_steps() const {
  if (config_.steps > 0) return config_.steps;
  const size_t n = train_.labels.size(), b = static_cast<size_t>(config_.batch);
  return static_cast<int>((n + b - 1) / b) * config_.epochs;
}

Tensor Trainer::images_tensor(const datasets::Batch& batch) const {
  const int64_t n = static_cast<int64_t>(batch.indices.size());
  const tinyref::Shape shape = config_.model == "cnn" ? tinyref::Shape{n, 1, 28, 28} : tinyref::Shape{n, 784};
  return Tensor::from_vector(batch.images, shape, config_.device);
}

void Trainer::next_batch(std::vector<uint32_t>* indices) {
  if (sampler_) {
    if (!sampler_->next(indices)) sampler_->next(indices);  // an epoch ended: start the next
  } else {
    datasets::random_indices(rng_, train_.labels.size(), config_.batch, indices);
  }
  datasets::gather(train_, *indices, norm_, &batch_);
}

Tensor Trainer::start_step() {
  Tensor x = images_tensor(batch_);
  Tensor y = Tensor::from_vector(batch_.labels, {static_cast<int64_t>(batch_.labels.size())}, config_.device);
  if (replay_ && batch_.labels.size() == static_cast<size_t>(config_.batch)) return replay_->run({x, y})[0];
  // The loss, the new parameters, the optimizer's moments and BatchNorm's running statistics:
  // one schedule, so the forward pass runs once.
  tinyref::StepResult r = build_step(x, y);
  std::vector<Tensor> all = r.outputs;
  all.insert(all.end(), r.state.begin(), r.state.end());
  tinyref::realize_all(all);
  return r.outputs[0];
}

tinyref::StepResult Trainer::build_step(const Tensor& x, const Tensor& y) {
  opt_->zero_grad();
  Tensor loss = nn::cross_entropy((*model_)(x), y);
  loss.backward();
  std::vector<Tensor> state = opt_->schedule_step();
  for (const auto& [name, t] : model_->buffers()) state.push_back(t);
  return {{loss}, state};
}

TrainResult Trainer::run(const std::function<void(const StepInfo&)>& on_step) {
  TrainResult r;
  const int total = total_steps();
  std::vector<uint32_t> indices;
  model_->train(true);
  next_batch(&indices);
  for (int step = 1; step <= total; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    Tensor loss_tensor = start_step();
    const int images = static_cast<int>(indices.size());
    // The next batch is gathered on the host while a GPU runs this step (reading the loss waits
    // for it); each timed step gathers one batch, the next one, as the first was before the loop.
    if (step < total) next_batch(&indices);
    const double loss = loss_tensor.item();
    const double dt = seconds_since(t0);
    r.step_seconds.push_back(dt);
    r.train_seconds += dt;
    r.final_loss = loss;
    r.curve.losses.push_back({step, loss});
    if (on_step) on_step({step, total, loss, dt, images});
    if (config_.eval_every > 0 && step % config_.eval_every == 0 && step != total) {
      const auto e0 = std::chrono::steady_clock::now();
      r.curve.accuracies.push_back({step, evaluate(static_cast<size_t>(config_.eval_images))});
      r.eval_seconds += seconds_since(e0);
    }
  }
  r.steps = total;
  const auto e0 = std::chrono::steady_clock::now();
  r.test_accuracy = evaluate(0);
  r.eval_seconds += seconds_since(e0);
  r.curve.accuracies.push_back({total, r.test_accuracy});
  return r;
}

double Trainer::evaluate(size_t images) {
  const size_t n = images == 0 ? test_.labels.size() : std::min(images, test_.labels.size());
  model_->train(false);
  tinyref::NoGradGuard no_grad;
  size_t correct = 0;
  datasets::Batch batch;
  std::vector<uint32_t> indices;
  for (size_t begin = 0; begin < n; begin += kEvalBatch) {
    const size_t end = std::min(n, begin + kEvalBatch);
    indices.resize(end - begin);
    for (size_t i = begin; i < end; ++i) indices[i - begin] = static_cast<uint32_t>(i);
    datasets::gather(test_, indices, norm_, &batch);
    std::vector<int32_t> predicted = (*model_)(images_tensor(batch)).argmax(1).to_vector<int32_t>();
    for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == batch.labels[i];
  }
  model_->train(true);
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace mnist_tool
