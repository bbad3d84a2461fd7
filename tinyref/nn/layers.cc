#include "tinyref/nn/layers.h"

#include <cmath>

namespace tinyref::nn {

namespace {

// kaiming_uniform(a = sqrt(5)) and PyTorch's bias init are both uniform in +-1/sqrt(fan_in).
Tensor fan_in_uniform(const Shape& shape, int64_t fan_in, DType dtype, const std::string& device) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return Tensor::uniform(shape, -bound, bound, dtype, device).requires_grad_();
}

void add(NamedTensors* out, const std::string& prefix, const char* name, const Tensor& t) {
  if (t.defined()) out->push_back({prefix + name, t});
}

}  // namespace

// ---------------------------------------------------------------- Linear

Linear::Linear(int64_t in_features, int64_t out_features, const LinearOptions& o) {
  TT_CHECK(in_features > 0 && out_features > 0,
           "Linear: features must be positive, got " << in_features << " -> " << out_features);
  weight = fan_in_uniform({out_features, in_features}, in_features, o.dtype, o.device);
  if (o.bias) bias = fan_in_uniform({out_features}, in_features, o.dtype, o.device);
}

Tensor Linear::forward(const Tensor& x) {
  TT_CHECK(x.ndim() >= 1 && x.shape().back() == weight.shape()[1],
           "Linear: input " << shape_str(x.shape()) << " for weight " << shape_str(weight.shape())
                            << " (the last axis must be " << weight.shape()[1] << ")");
  return x.linear(weight, bias);
}

void Linear::collect(const std::string& prefix, bool params, bool, NamedTensors* out) const {
  if (!params) return;
  add(out, prefix, "weight", weight);
  add(out, prefix, "bias", bias);
}

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int kernel_size, const Conv2dOptions& o)
    : stride(o.stride), padding(o.padding), dilation(o.dilation), groups(o.groups) {
  TT_CHECK(in_channels > 0 && out_channels > 0 && kernel_size > 0 && groups > 0 && in_channels % groups == 0 &&
               out_channels % groups == 0,
           "Conv2d: bad configuration " << in_channels << " -> " << out_channels << " channels, kernel "
                                        << kernel_size << ", " << groups << " group(s)");
  const int64_t fan_in = in_channels / groups * kernel_size * kernel_size;
  weight = fan_in_uniform({out_channels, in_channels / groups, kernel_size, kernel_size}, fan_in, o.dtype, o.device);
  if (o.bias) bias = fan_in_uniform({out_channels}, fan_in, o.dtype, o.device);
}

Tensor Conv2d::forward(const Tensor& x) {
  return x.conv2d(weight, bias, stride, padding, dilation, groups);
}

void Conv2d::collect(const std::string& prefix, bool params, bool, NamedTensors* out) const {
  if (!params) return;
  add(out, prefix, "weight", weight);
  add(out, prefix, "bias", bias);
}

// ---------------------------------------------------------------- BatchNorm2d

BatchNorm2d::BatchNorm2d(int64_t num_features_, const BatchNorm2dOptions& o)
    : num_features(num_features_), eps(o.eps), momentum(o.momentum) {
  const DType dtype = o.dtype;
  const std::string& device = o.device;
  TT_CHECK(num_features > 0, "BatchNorm2d: num_features must be positive, got " << num_features);
  if (o.affine) {
    weight = Tensor::ones({num_features}, dtype, device).contiguous().realize().requires_grad_();
    bias = Tensor::zeros({num_features}, dtype, device).contiguous().realize().requires_grad_();
  }
  running_mean = Tensor::zeros({num_features}, dtype, device).contiguous().realize();
  running_var = Tensor::ones({num_features}, dtype, device).contiguous().realize();
  num_batches_tracked = Tensor::zeros({}, DType::kInt32, device).contiguous().realize();
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  TT_CHECK(x.ndim() == 4 && x.shape()[1] == num_features,
           "BatchNorm2d: input " << shape_str(x.shape()) << " for " << num_features << " channels (want NCHW)");
  const Shape per_channel = {1, num_features, 1, 1};
  Tensor mean, invstd;
  if (training_) {
    const int64_t n = x.numel() / num_features;
    TT_CHECK(n > 1, "BatchNorm2d: training needs more than one value per channel, input " << shape_str(x.shape()));
    mean = x.mean({0, 2, 3});
    // The variance's gradient with respect to the mean is zero (the deviations sum to zero),
    // so the mean is detached here: one less path for backward to build.
    Tensor y = x - mean.detach().reshape(per_channel);
    Tensor var = (y * y).mean({0, 2, 3});
    invstd = (var + eps).rsqrt();
    NoGradGuard no_grad;
    const double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
    running_mean.assign((1 - momentum) * running_mean + momentum * mean.detach());
    running_var.assign((1 - momentum) * running_var + (momentum * unbias) * var.detach());
    num_batches_tracked.assign(num_batches_tracked + 1);
  } else {
    mean = running_mean;
    invstd = (running_var + eps).rsqrt();
  }
  Tensor scale = weight.defined() ? weight * invstd : invstd;
  Tensor out = (x - mean.reshape(per_channel)) * scale.reshape(per_channel);
  return bias.defined() ? out + bias.reshape(per_channel) : out;
}

void BatchNorm2d::collect(const std::string& prefix, bool params, bool buffers, NamedTensors* out) const {
  if (params) {
    add(out, prefix, "weight", weight);
    add(out, prefix, "bias", bias);
  }
  if (buffers) {
    add(out, prefix, "running_mean", running_mean);
    add(out, prefix, "running_var", running_var);
    add(out, prefix, "num_batches_tracked", num_batches_tracked);
  }
}

// ---------------------------------------------------------------- Dropout and functions

Dropout::Dropout(double p_) : p(p_) {
  TT_CHECK(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got " << p);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, training_); }

Tensor dropout(const Tensor& x, double p, bool training) {
  TT_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got " << p);
  if (!training || p == 0) return x;
  Tensor keep = Tensor::rand(x.shape(), DType::kFloat32, x.device()).ge(Tensor::scalar(p, DType::kFloat32, x.device()));
  return keep.where(x * (1.0 / (1.0 - p)), Tensor::zeros({}, x.dtype(), x.device()));
}

Tensor max_pool2d(const Tensor& x, int kernel, std::optional<int> stride) { return x.max_pool2d(kernel, stride); }

Tensor flatten(const Tensor& x, int start) { return x.flatten(start); }

Tensor cross_entropy(const Tensor& logits, const Tensor& target) { return logits.cross_entropy(target); }

}  // namespace tinyref::nn
