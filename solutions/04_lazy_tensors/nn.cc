// Layers and optimizers (given): chapter 3's, on lazy tensors.
#include "ch04/nn.h"

#include <cmath>
#include <stdexcept>

namespace ch04::nn {

namespace {

// PyTorch's default for weights (kaiming_uniform with a = sqrt(5)) and biases: U(+-1/sqrt(fan_in)).
Tensor fan_in_uniform(const Shape& shape, int64_t fan_in) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return Tensor::uniform(shape, -bound, bound).requires_grad_();
}

// A realized buffer of zeros: optimizer state is data from the first step on, so the first
// step's graph is the same as every later one's.
Tensor zeros_like(const Tensor& p) { return Tensor::zeros(p.shape(), p.dtype()).contiguous().realize(); }

void add_if_defined(std::vector<Tensor>* out, const Tensor& t) {
  if (t.defined()) out->push_back(t);
}

}  // namespace

std::vector<Tensor> concat(const std::vector<std::vector<Tensor>>& lists) {
  std::vector<Tensor> out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

// ---------------------------------------------------------------------------- layers

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias) {
  if (in_features <= 0 || out_features <= 0) {
    throw std::invalid_argument("Linear: features must be positive, got " + std::to_string(in_features) + " -> " +
                                std::to_string(out_features));
  }
  weight = fan_in_uniform({out_features, in_features}, in_features);
  if (with_bias) bias = fan_in_uniform({out_features}, in_features);
}

Tensor Linear::operator()(const Tensor& x) const {
  if (x.ndim() < 1 || x.shape().back() != weight.shape()[1]) {
    throw ShapeError("Linear: input " + shape_str(x.shape()) + " for weight " + shape_str(weight.shape()) +
                     " (the last axis must be " + std::to_string(weight.shape()[1]) + ")");
  }
  return x.linear(weight, bias);
}

std::vector<Tensor> Linear::parameters() const {
  std::vector<Tensor> p = {weight};
  add_if_defined(&p, bias);
  return p;
}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int kernel_size, int stride_, int padding_)
    : stride(stride_), padding(padding_) {
  if (in_channels <= 0 || out_channels <= 0 || kernel_size <= 0) {
    throw std::invalid_argument("Conv2d: " + std::to_string(in_channels) + " -> " + std::to_string(out_channels) +
                                " channels, kernel " + std::to_string(kernel_size) + ": all must be positive");
  }
  const int64_t fan_in = in_channels * kernel_size * kernel_size;
  weight = fan_in_uniform({out_channels, in_channels, kernel_size, kernel_size}, fan_in);
  bias = fan_in_uniform({out_channels}, fan_in);
}

Tensor Conv2d::operator()(const Tensor& x) const { return x.conv2d(weight, bias, stride, padding); }

std::vector<Tensor> Conv2d::parameters() const { return {weight, bias}; }

BatchNorm2d::BatchNorm2d(int64_t num_features, double eps_, double momentum_) : eps(eps_), momentum(momentum_) {
  if (num_features <= 0) throw std::invalid_argument("BatchNorm2d: num_features must be positive");
  weight = Tensor::ones({num_features}).contiguous().realize().requires_grad_();
  bias = Tensor::zeros({num_features}).contiguous().realize().requires_grad_();
  running_mean = Tensor::zeros({num_features}).contiguous().realize();
  running_var = Tensor::ones({num_features}).contiguous().realize();
}

Tensor BatchNorm2d::operator()(const Tensor& x) {
  const int64_t c = weight.shape()[0];
  if (x.ndim() != 4 || x.shape()[1] != c) {
    throw ShapeError("BatchNorm2d: input " + shape_str(x.shape()) + " for " + std::to_string(c) +
                     " channels (want NCHW)");
  }
  const Shape per_channel = {1, c, 1, 1};
  Tensor mean, invstd;
  if (training) {
    const int64_t n = x.numel() / c;
    if (n < 2) throw ShapeError("BatchNorm2d: training needs two values per channel, got " + shape_str(x.shape()));
    mean = x.mean({0, 2, 3});
    // The variance's gradient with respect to the mean is zero (deviations sum to zero), so the
    // mean is detached in it: one path less for backward to build.
    const Tensor centered = x - mean.detach().reshape(per_channel);
    const Tensor var = (centered * centered).mean({0, 2, 3});
    invstd = (var + eps).sqrt().reciprocal();
    NoGrad no_grad;
    const double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
    running_mean.assign((1 - momentum) * running_mean + momentum * mean.detach());
    running_var.assign((1 - momentum) * running_var + (momentum * unbias) * var.detach());
  } else {
    mean = running_mean;
    invstd = (running_var + eps).sqrt().reciprocal();
  }
  return (x - mean.reshape(per_channel)) * (weight * invstd).reshape(per_channel) + bias.reshape(per_channel);
}

std::vector<Tensor> BatchNorm2d::parameters() const { return {weight, bias}; }
std::vector<Tensor> BatchNorm2d::buffers() const { return {running_mean, running_var}; }

// ---------------------------------------------------------------------------- optimizers

Optimizer::Optimizer(std::vector<Tensor> params) : params_(std::move(params)) {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].defined() || !params_[i].requires_grad()) {
      throw std::invalid_argument("Optimizer: parameter " + std::to_string(i) +
                                  " is undefined or does not require grad (call requires_grad_())");
    }
  }
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

void Optimizer::step(const std::vector<Tensor>& also) {
  std::vector<Tensor> to_realize = also;
  {
    NoGrad no_grad;  // the update is not part of anybody's gradient
    to_realize = concat({to_realize, begin_step()});
    for (size_t i = 0; i < params_.size(); ++i) {
      if (!params_[i].grad().defined()) continue;
      to_realize = concat({to_realize, update(i, params_[i].grad().detach()), {params_[i]}});
    }
  }
  realize_all(to_realize);
}

SGD::SGD(std::vector<Tensor> params, double lr_, double momentum_) : Optimizer(std::move(params)), momentum(momentum_) {
  if (lr_ < 0 || momentum < 0) throw std::invalid_argument("SGD: lr and momentum must be >= 0");
  lr = lr_;
  velocity_.resize(params_.size());
}

std::vector<Tensor> SGD::update(size_t i, const Tensor& grad) {
  if (momentum == 0) {
    params_[i].assign(params_[i] - lr * grad);
    return {};
  }
  if (velocity_[i].defined()) {
    velocity_[i].assign(momentum * velocity_[i] + grad);
  } else {
    velocity_[i] = grad;  // torch.optim.SGD starts the velocity at the first gradient
  }
  params_[i].assign(params_[i] - lr * velocity_[i]);
  return {velocity_[i]};
}

Adam::Adam(std::vector<Tensor> params, double lr_, double beta1_, double beta2_, double eps_)
    : Optimizer(std::move(params)), beta1(beta1_), beta2(beta2_), eps(eps_) {
  if (lr_ < 0 || beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || eps < 0) {
    throw std::invalid_argument("Adam: needs lr >= 0, betas in [0, 1), eps >= 0");
  }
  lr = lr_;
  const DType dtype = params_.empty() ? DType::kFloat32 : params_[0].dtype();
  for (const Tensor& p : params_) {
    if (p.dtype() != dtype) throw std::invalid_argument("Adam: parameters of two dtypes");
    m_.push_back(zeros_like(p));
    v_.push_back(zeros_like(p));
  }
  beta1_power_ = Tensor::ones({}, dtype).contiguous().realize();
  beta2_power_ = Tensor::ones({}, dtype).contiguous().realize();
}

std::vector<Tensor> Adam::begin_step() {
  beta1_power_.assign(beta1_power_ * beta1);
  beta2_power_.assign(beta2_power_ * beta2);
  inv_bias1_ = (1.0 - beta1_power_).reciprocal();
  inv_sqrt_bias2_ = (1.0 - beta2_power_).sqrt().reciprocal();
  return {beta1_power_, beta2_power_};
}

std::vector<Tensor> Adam::update(size_t i, const Tensor& grad) {
  m_[i].assign(beta1 * m_[i] + (1 - beta1) * grad);
  v_[i].assign(beta2 * v_[i] + (1 - beta2) * (grad * grad));
  params_[i].assign(params_[i] - lr * (m_[i] * inv_bias1_) / (v_[i].sqrt() * inv_sqrt_bias2_ + eps));
  return {m_[i], v_[i]};
}

}  // namespace ch04::nn
