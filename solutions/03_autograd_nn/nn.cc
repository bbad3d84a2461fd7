#include "ch03/nn.h"

#include <cmath>
#include <stdexcept>

namespace ch03 {

template <typename T>
Tensor<T> log_softmax(const Tensor<T>& x, int axis) {
  // The shift is a constant (a detached value): log_softmax(x - c) = log_softmax(x) for any c.
  const Tensor<T> c(ch02::max(x.value(), {axis}, /*keepdim=*/true));
  const Tensor<T> shifted = x - c;
  return shifted - log(sum(exp(shifted), {axis}, /*keepdim=*/true));
}

template <typename T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const std::vector<int>& labels) {
  if (logits.ndim() != 2 || static_cast<int64_t>(labels.size()) != logits.shape()[0]) {
    throw std::invalid_argument("cross_entropy: logits of shape " + ch02::shape_str(logits.shape()) +
                                " need shape (B, C) and B labels; got " +
                                std::to_string(labels.size()) + " labels");
  }
  const int64_t batch = logits.shape()[0], classes = logits.shape()[1];
  // Picking log p[b, label] is a product with a one-hot mask, a constant.
  std::vector<T> one_hot(batch * classes, T(0));
  for (int64_t b = 0; b < batch; ++b) {
    if (labels[b] < 0 || labels[b] >= classes) {
      throw std::invalid_argument("cross_entropy: label " + std::to_string(labels[b]) +
                                  " is not a class of " + std::to_string(classes));
    }
    one_hot[b * classes + labels[b]] = T(1);
  }
  const Tensor<T> mask(ch02::Tensor<T>::from_vector({batch, classes}, std::move(one_hot)));
  return -sum(log_softmax(logits, 1) * mask) / static_cast<T>(batch);
}

Linear::Linear(int64_t in_features, int64_t out_features, std::mt19937_64& rng) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in_features));
  std::uniform_real_distribution<float> u(-bound, bound);
  std::vector<float> w(out_features * in_features), b(out_features);
  for (float& v : w) v = u(rng);
  for (float& v : b) v = u(rng);
  weight = Tensor<float>(ch02::FloatTensor::from_vector({out_features, in_features}, std::move(w)), true);
  bias = Tensor<float>(ch02::FloatTensor::from_vector({out_features}, std::move(b)), true);
}

Tensor<float> Linear::operator()(const Tensor<float>& x) const {
  return matmul(x, transpose(weight, 0, 1)) + bias;  // bias (out) broadcasts over the batch
}

Tensor<float> Mlp::operator()(const Tensor<float>& x) const { return fc2(relu(fc1(x))); }

std::vector<Tensor<float>> Mlp::parameters() const {
  return {fc1.weight, fc1.bias, fc2.weight, fc2.bias};
}

void Optimizer::zero_grad() {
  for (Tensor<float>& p : params_) p.zero_grad();
}

Sgd::Sgd(std::vector<Tensor<float>> params, float lr, float momentum)
    : Optimizer(std::move(params)), lr_(lr), momentum_(momentum) {
  for (const Tensor<float>& p : params_) velocity_.push_back(ch02::FloatTensor::zeros(p.shape()));
}

void Sgd::step() {
  NoGradGuard no_grad;  // updates are not part of any graph
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].has_grad()) continue;
    velocity_[i] = velocity_[i] * momentum_ + params_[i].grad();
    params_[i].set_value(params_[i].value() - velocity_[i] * lr_);
  }
}

Adam::Adam(std::vector<Tensor<float>> params, float lr, float beta1, float beta2, float eps)
    : Optimizer(std::move(params)), lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const Tensor<float>& p : params_) {
    m_.push_back(ch02::FloatTensor::zeros(p.shape()));
    v_.push_back(ch02::FloatTensor::zeros(p.shape()));
  }
}

void Adam::step() {
  NoGradGuard no_grad;
  ++t_;
  const float c1 = 1.0f - std::pow(beta1_, static_cast<float>(t_));
  const float c2 = 1.0f - std::pow(beta2_, static_cast<float>(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].has_grad()) continue;
    const ch02::FloatTensor& g = params_[i].grad();
    m_[i] = m_[i] * beta1_ + g * (1.0f - beta1_);
    v_[i] = v_[i] * beta2_ + g * g * (1.0f - beta2_);
    const ch02::FloatTensor step = (m_[i] / c1) / (ch02::sqrt(v_[i] / c2) + eps_);
    params_[i].set_value(params_[i].value() - step * lr_);
  }
}

#define CH03_NN(T)                                                                \
  template Tensor<T> log_softmax(const Tensor<T>&, int);                          \
  template Tensor<T> cross_entropy(const Tensor<T>&, const std::vector<int>&);
CH03_NN(float)
CH03_NN(double)

}  // namespace ch03
