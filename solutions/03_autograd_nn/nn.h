// Layers, the loss and the optimizers: what a training loop is made of.
//
//   std::mt19937_64 rng(1);
//   ch03::Mlp model(rng);                               // 784 -> 128 -> ReLU -> 10
//   ch03::Adam opt(model.parameters(), /*lr=*/1e-3f);
//   ch03::Tensor<float> logits = model(images);         // images: (B, 784) constant
//   ch03::Tensor<float> loss = ch03::cross_entropy(logits, labels);   // labels: B class ids
//   opt.zero_grad();
//   loss.backward();
//   opt.step();                                         // updates the parameters in place
//
// log_softmax and cross_entropy are templates (gradient checks run them in float64); the
// layers and optimizers are float32 only, which is what training uses.
#ifndef CH03_NN_H_
#define CH03_NN_H_

#include <cstdint>
#include <random>
#include <vector>

#include "ch03/autograd.h"

namespace ch03 {

// ch03.5: log(softmax(x)) along `axis`, computed as x - c - log(sum(exp(x - c))) with c the
// max along the axis (the log-sum-exp trick): exp never sees a positive number, so large logits
// cannot overflow. No gradient flows through c: the result does not depend on it.
template <typename T> Tensor<T> log_softmax(const Tensor<T>& x, int axis = -1);

// ch03.5: the mean over the batch of -log_softmax(logits)[b, labels[b]]. logits: (B, C).
// Throws std::invalid_argument unless labels has B entries, each in [0, C).
template <typename T> Tensor<T> cross_entropy(const Tensor<T>& logits, const std::vector<int>& labels);

// ch03.6: y = x @ weight^T + bias, PyTorch's layout. weight (out, in) and bias (out) start
// uniform in [-1/sqrt(in), 1/sqrt(in)] (PyTorch's default), drawn from rng: weight first, row
// by row, then bias. Both require grad.
class Linear {
 public:
  Linear(int64_t in_features, int64_t out_features, std::mt19937_64& rng);
  Tensor<float> operator()(const Tensor<float>& x) const;  // (B, in) -> (B, out)
  std::vector<Tensor<float>> parameters() const { return {weight, bias}; }

  Tensor<float> weight;
  Tensor<float> bias;
};

// ch03.6: the milestone's network: Linear(784, 128), ReLU, Linear(128, 10); logits out.
class Mlp {
 public:
  explicit Mlp(std::mt19937_64& rng) : fc1(784, 128, rng), fc2(128, 10, rng) {}
  Tensor<float> operator()(const Tensor<float>& x) const;
  std::vector<Tensor<float>> parameters() const;

  Linear fc1;
  Linear fc2;
};

// ch03.7: an optimizer holds the parameters (handles: the same nodes as the model's) and
// updates their values from their gradients. Parameters without a gradient are skipped.
class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor<float>> params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();

 protected:
  std::vector<Tensor<float>> params_;
};

// p -= lr * v, with v = momentum * v + grad (v starts at 0; momentum 0 is plain SGD).
class Sgd : public Optimizer {
 public:
  Sgd(std::vector<Tensor<float>> params, float lr, float momentum = 0);
  void step() override;

 private:
  float lr_, momentum_;
  std::vector<ch02::FloatTensor> velocity_;
};

// Kingma and Ba (2015), Algorithm 1, as PyTorch implements it: at step t = 1, 2, ...
//   m = b1 m + (1 - b1) g            v = b2 v + (1 - b2) g^2
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor<float>> params, float lr = 1e-3f, float beta1 = 0.9f,
       float beta2 = 0.999f, float eps = 1e-8f);
  void step() override;
  void set_lr(float lr) { lr_ = lr; }
  float lr() const { return lr_; }

 private:
  float lr_, beta1_, beta2_, eps_;
  int64_t t_ = 0;
  std::vector<ch02::FloatTensor> m_, v_;
};

}  // namespace ch03

#endif  // CH03_NN_H_
