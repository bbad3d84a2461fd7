// Layers and optimizers on lazy tensors: chapter 3's nn again (given, complete), now building
// graph instead of computing. A training step is one graph: forward, backward and the update,
// realized together by Optimizer::step.
//
//   Tensor::manual_seed(0);
//   nn::Linear fc1(784, 128), fc2(128, 10);
//   nn::SGD opt(nn::concat({fc1.parameters(), fc2.parameters()}), /*lr=*/0.1);
//   Tensor loss = fc2(fc1(x).relu()).cross_entropy(y);   // x (64, 784), y (64,) labels
//   opt.zero_grad();
//   loss.backward();
//   opt.step({loss});              // realizes the new parameters (and the loss) in one call
//   double l = loss.item();        // already computed: nothing runs
//
// Initialization is PyTorch's (and tinygrad's, and tinyref's): weights and biases uniform in
// +-1/sqrt(fan_in), drawn from Tensor's global generator, weight first. BatchNorm2d starts at
// weight 1, bias 0, running mean 0, running variance 1.
#ifndef CH04_NN_H_
#define CH04_NN_H_

#include <cstdint>
#include <vector>

#include "ch04/tensor.h"

namespace ch04::nn {

// x @ weight^T + bias: weight (out, in), bias (out).
class Linear {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor operator()(const Tensor& x) const;
  std::vector<Tensor> parameters() const;
  Tensor weight, bias;
};

// NCHW convolution: weight (out, in, k, k), bias (out).
class Conv2d {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int kernel_size, int stride = 1, int padding = 0);
  Tensor operator()(const Tensor& x) const;
  std::vector<Tensor> parameters() const;
  Tensor weight, bias;
  int stride, padding;
};

// Per-channel normalization of an NCHW batch. In training mode it uses the batch's mean and
// biased variance and moves the running statistics toward them (running = (1 - momentum) *
// running + momentum * batch, the variance unbiased, as PyTorch); in evaluation mode it uses
// the running statistics. The running statistics are lazy until realized: pass buffers() to
// Optimizer::step.
class BatchNorm2d {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1);
  Tensor operator()(const Tensor& x);
  std::vector<Tensor> parameters() const;  // weight, bias
  std::vector<Tensor> buffers() const;     // running_mean, running_var
  Tensor weight, bias, running_mean, running_var;  // each (C,)
  double eps, momentum;
  bool training = true;
};

// The tensors of several lists, in order: nn::concat({fc1.parameters(), fc2.parameters()}).
std::vector<Tensor> concat(const std::vector<std::vector<Tensor>>& lists);

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params);  // each must require grad
  virtual ~Optimizer() = default;
  void zero_grad();  // gradients accumulate across backward() calls until this
  // Assigns every parameter that has a gradient its new value (no gradient history), then
  // realizes the parameters, the optimizer's state and `also` in one realize_all.
  void step(const std::vector<Tensor>& also = {});
  double lr = 0;

 protected:
  // Each returns the optimizer state it assigned (realized with the parameters). Once per step:
  virtual std::vector<Tensor> begin_step() { return {}; }
  // For parameter i, which has a gradient: assigns params_[i] its new value.
  virtual std::vector<Tensor> update(size_t i, const Tensor& grad) = 0;
  std::vector<Tensor> params_;
};

// p -= lr * b, with b = momentum * b + grad (b = grad on the first step; momentum 0: b = grad).
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, double lr, double momentum = 0);
  double momentum;

 private:
  std::vector<Tensor> update(size_t i, const Tensor& grad) override;
  std::vector<Tensor> velocity_;  // b, per parameter; undefined before its first step
};

// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= lr * (m / (1 - b1^t)) /
// (sqrt(v / (1 - b2^t)) + eps). b1^t and b2^t are one-element tensors updated by the step
// itself, not numbers baked into the graph, so every step builds the same graph (chapter 6
// compiles its kernels once).
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-8);
  double beta1, beta2, eps;

 private:
  std::vector<Tensor> begin_step() override;
  std::vector<Tensor> update(size_t i, const Tensor& grad) override;
  std::vector<Tensor> m_, v_;
  Tensor beta1_power_, beta2_power_;        // b1^t, b2^t (shape (), the parameters' dtype)
  Tensor inv_bias1_, inv_sqrt_bias2_;       // this step's 1/(1 - b1^t), 1/sqrt(1 - b2^t)
};

}  // namespace ch04::nn

#endif  // CH04_NN_H_
