// The training loops of `./course mnist` and of the mnist_cpu benchmark: one place that says
// what "the CNN workload" and "the MLP workload" are.
//
//   datasets::Mnist train = datasets::load_mnist("train"), test = datasets::load_mnist("test");
//   mnist_tool::TrainConfig config = mnist_tool::defaults_for("cnn");   // beautiful_mnist
//   mnist_tool::Trainer trainer(config, train, test);
//   mnist_tool::TrainResult r = trainer.run([](const mnist_tool::StepInfo& s) { ... });
//   r.test_accuracy   // on all 10,000 test images, after the last step
//
// cnn (tinygrad's beautiful_mnist): raw pixels 0..255, batches of 512 drawn with replacement,
//      Adam 1e-3, 70 steps. mlp: pixels normalized with MNIST's mean and std, SGD 0.1, batches
//      of 64 from a fresh shuffle each epoch (the last batch of an epoch may be smaller), one
//      epoch. The seed fixes the initialization (Tensor::manual_seed) and the batches.
#ifndef TOOLS_MNIST_TRAIN_H_
#define TOOLS_MNIST_TRAIN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "datasets/batches.h"
#include "datasets/mnist.h"
#include "tinyref/engine/replay.h"
#include "tinyref/nn/module.h"
#include "tinyref/nn/optim.h"
#include "tools/mnist/curve_svg.h"

namespace mnist_tool {

struct TrainConfig {
  std::string model = "cnn";  // "cnn" or "mlp"
  std::string device;         // a tinyref device name
  std::string optimizer;      // "adam" or "sgd"
  double lr = 0;
  int batch = 0;
  int steps = 0;   // > 0: exactly this many steps
  int epochs = 0;  // used when steps == 0: whole passes over the training set
  uint64_t seed = 0;
  bool sample_with_replacement = false;  // beautiful_mnist's randint batches; else shuffled epochs
  // Test accuracy every this many steps (0: only at the end), on the first eval_images test
  // images (0: all of them); the final accuracy always uses the whole test set.
  int eval_every = 0;
  int eval_images = 0;
  // Record the training step and replay its kernels (tinyref/engine/replay.h): the same
  // values, bit for bit, without the per-step host work of building and scheduling the graph.
  // A batch of another size (an epoch's last) runs eagerly.
  bool replay = true;
};

// The documented defaults of each model (see the header comment); throws for an unknown model.
TrainConfig defaults_for(const std::string& model);

// The device `./course mnist` trains on when none is named: the first of CUDA, CPU present.
std::string best_device();

struct StepInfo {
  int step = 0, total = 0;  // 1-based
  double loss = 0;
  double seconds = 0;  // this step's wall time
  int images = 0;
};

struct TrainResult {
  double test_accuracy = 0;  // 0..1, on the whole test set after the last step
  int steps = 0;
  double train_seconds = 0;  // the sum of the step times (evaluations excluded)
  double eval_seconds = 0;
  double final_loss = 0;
  std::vector<double> step_seconds;
  TrainingCurve curve;  // loss per step; accuracy at each evaluation
};

class Trainer {
 public:
  // The data sets are borrowed: they must outlive the trainer.
  Trainer(const TrainConfig& config, const datasets::Mnist& train, const datasets::Mnist& test);
  ~Trainer();

  TrainResult run(const std::function<void(const StepInfo&)>& on_step = {});
  // Accuracy (0..1) on the first `images` test images (0: all), in evaluation mode.
  double evaluate(size_t images = 0);
  int total_steps() const;

  tinyref::nn::Module& model() { return *model_; }
  const TrainConfig& config() const { return config_; }

 private:
  tinyref::Tensor images_tensor(const datasets::Batch& batch) const;
  // Draws the next batch's indices and gathers its images into batch_ (on the host).
  void next_batch(std::vector<uint32_t>* indices);
  // Uploads batch_ and starts a training step on it; returns the loss, which may be in flight.
  tinyref::Tensor start_step();
  // One step's graph: the loss, and every tensor the step assigns.
  tinyref::StepResult build_step(const tinyref::Tensor& x, const tinyref::Tensor& y);

  TrainConfig config_;
  const datasets::Mnist& train_;
  const datasets::Mnist& test_;
  datasets::Normalization norm_;
  std::unique_ptr<tinyref::nn::Module> model_;
  std::unique_ptr<tinyref::nn::Optimizer> opt_;
  std::mt19937_64 rng_;
  std::unique_ptr<datasets::EpochSampler> sampler_;
  datasets::Batch batch_;
  std::unique_ptr<tinyref::Replay> replay_;  // null with config.replay off
};

}  // namespace mnist_tool

#endif  // TOOLS_MNIST_TRAIN_H_
