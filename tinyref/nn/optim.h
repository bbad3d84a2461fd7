// Optimizers: SGD (momentum, Nesterov, weight decay) and Adam, with PyTorch's update rules.
// A step builds every parameter's update as lazy ops and realizes them all in one schedule,
// together with whatever else the step computed (the loss, BatchNorm's running statistics),
// so shared work runs once and the whole update fuses into a few kernels per parameter.
//
//   nn::Adam opt(model.parameters(), /*lr=*/1e-3);
//   opt.zero_grad();
//   Tensor loss = nn::cross_entropy(model(x), y);
//   loss.backward();
//   opt.step({loss}, model.buffers());   // realizes parameters, moments, loss and buffers
//   float l = loss.item<float>();        // already computed: no kernel runs
//
// Values that change from step to step (Adam's bias corrections) enter the kernels as
// one-element buffers, not as constants, so every step reuses the same compiled kernels; they
// are computed on the device from optimizer state, so a recorded step (engine/replay.h) can be
// replayed without running this code.
#ifndef TINYREF_NN_OPTIM_H_
#define TINYREF_NN_OPTIM_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tinyref/nn/module.h"
#include "tinyref/tensor.h"

namespace tinyref::nn {

class Optimizer {
 public:
  explicit Optimizer(const NamedTensors& params);
  virtual ~Optimizer() = default;

  // Forgets every parameter's gradient (tinyref accumulates them across backward() calls).
  void zero_grad();
  // Updates every parameter that has a gradient and realizes the new values with `also`
  // (and the tensors of `also_named`) in one schedule. Parameters without a gradient stay.
  void step(const std::vector<Tensor>& also = {}, const NamedTensors& also_named = {});
  // The same without running anything: assigns the lazy updates and returns every tensor the
  // caller must realize (parameters and optimizer state).
  std::vector<Tensor> schedule_step();

  const std::vector<Tensor>& params() const { return params_; }
  int64_t steps() const { return steps_; }
  double lr;

 protected:
  // Assigns the new value of params_[i] (and of its state); returns the state tensors touched.
  virtual void update(size_t i, const Tensor& grad, std::vector<Tensor>* touched) = 0;
  // Called once per step before the updates; returns the state tensors it assigned.
  virtual void begin_step(std::vector<Tensor>* touched) {}
  std::vector<Tensor> params_;
  int64_t steps_ = 0;
};

// p -= lr * d with g = grad + weight_decay * p, b = momentum * b + (1 - dampening) * g
// (b = g on the first step), d = g + momentum * b if nesterov else b (d = g without momentum).
class SGD : public Optimizer {
 public:
  SGD(const NamedTensors& params, double lr, double momentum = 0, double weight_decay = 0, bool nesterov = false,
      double dampening = 0);
  double momentum, weight_decay, dampening;
  bool nesterov;

 private:
  void update(size_t i, const Tensor& grad, std::vector<Tensor>* touched) override;
  std::vector<Tensor> buf_;
};

// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, with g = grad + weight_decay * p (L2, as
// torch.optim.Adam); p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
class Adam : public Optimizer {
 public:
  Adam(const NamedTensors& params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0);
  double beta1, beta2, eps, weight_decay;

 private:
  void begin_step(std::vector<Tensor>* touched) override;
  void update(size_t i, const Tensor& grad, std::vector<Tensor>* touched) override;
  std::vector<Tensor> m_, v_;
  // b1^t and b2^t, float64 one-element state per device of the parameters.
  std::map<std::string, std::pair<Tensor, Tensor>> powers_;
  // This step's 1 / (1 - b1^t) and 1 / sqrt(1 - b2^t), per (dtype, device) of the parameters.
  std::map<std::pair<DType, std::string>, std::pair<Tensor, Tensor>> corrections_;
};

}  // namespace tinyref::nn

#endif  // TINYREF_NN_OPTIM_H_
