#include "ch03/nn.h"

#include <cmath>
#include <stdexcept>

#include "chapters/course.h"

namespace ch03 {

template <typename T>
Tensor<T> log_softmax(const Tensor<T>& x, int axis) {
  // TODO(ch03.5): c = ch02::max of x's value along axis (keepdim), wrapped as a constant
  // Tensor: no gradient flows through it. Then (x - c) - log(sum(exp(x - c), axis, keepdim)),
  // all with your autograd ops, so the gradient comes for free.
  throw course::NotImplemented("ch03.5: log_softmax");
}

template <typename T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const std::vector<int>& labels) {
  // TODO(ch03.5): check the shapes and labels (std::invalid_argument); build a constant
  // one-hot mask (B, C); the loss is -sum(log_softmax(logits, 1) * mask) / B.
  throw course::NotImplemented("ch03.5: cross_entropy");
}

Linear::Linear(int64_t in_features, int64_t out_features, std::mt19937_64& rng) {
  // TODO(ch03.6): std::uniform_real_distribution<float> in [-1/sqrt(in), 1/sqrt(in)]; draw
  // the weight (out, in) row by row, then the bias (out); both leaves that require grad.
  throw course::NotImplemented("ch03.6: Linear::Linear");
}

Tensor<float> Linear::operator()(const Tensor<float>& x) const {
  // TODO(ch03.6): x @ weight^T + bias.
  throw course::NotImplemented("ch03.6: Linear::operator()");
}

Tensor<float> Mlp::operator()(const Tensor<float>& x) const {
  // TODO(ch03.6)
  throw course::NotImplemented("ch03.6: Mlp::operator()");
}

std::vector<Tensor<float>> Mlp::parameters() const {
  // TODO(ch03.6): fc1's weight and bias, then fc2's.
  throw course::NotImplemented("ch03.6: Mlp::parameters");
}

void Optimizer::zero_grad() {
  // TODO(ch03.7)
  throw course::NotImplemented("ch03.7: Optimizer::zero_grad");
}

Sgd::Sgd(std::vector<Tensor<float>> params, float lr, float momentum)
    : Optimizer(std::move(params)), lr_(lr), momentum_(momentum) {
  // TODO(ch03.7): one zero velocity per parameter.
  throw course::NotImplemented("ch03.7: Sgd::Sgd");
}

void Sgd::step() {
  // TODO(ch03.7): under a NoGradGuard (an update is not part of any graph), for every
  // parameter that has a gradient: v = momentum * v + grad; set_value(value - lr * v), with
  // chapter 2's ops on the values.
  throw course::NotImplemented("ch03.7: Sgd::step");
}

Adam::Adam(std::vector<Tensor<float>> params, float lr, float beta1, float beta2, float eps)
    : Optimizer(std::move(params)), lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {
  // TODO(ch03.7): zero first and second moments per parameter.
  throw course::NotImplemented("ch03.7: Adam::Adam");
}

void Adam::step() {
  // TODO(ch03.7): the formulas in nn.h. t counts steps from 1; the bias corrections
  // 1 - beta^t matter most in the first steps, when m and v are still near their zero start.
  throw course::NotImplemented("ch03.7: Adam::step");
}

#define CH03_NN(T)                                                                \
  template Tensor<T> log_softmax(const Tensor<T>&, int);                          \
  template Tensor<T> cross_entropy(const Tensor<T>&, const std::vector<int>&);
CH03_NN(float)
CH03_NN(double)

}  // namespace ch03
