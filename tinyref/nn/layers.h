// The layers of tinygrad's nn (v0.9) and PyTorch's, with the same initialization and the same
// names for their tensors, so a checkpoint maps one to one onto torch.nn's modules.
//
//   nn::Conv2d conv(1, 32, 5);                  // weight (32, 1, 5, 5), bias (32)
//   nn::Conv2d on_gpu(32, 64, 3, {.padding = 1, .device = "CUDA"});   // the rest by name
//   nn::BatchNorm2d bn(32);                     // weight, bias; running_mean, running_var
//   Tensor y = nn::max_pool2d(bn(conv(x).relu()), 2);
//   Tensor logits = nn::Linear(32 * 12 * 12, 10)(nn::flatten(y));
//   Tensor loss = nn::cross_entropy(logits, labels);   // labels: int32 (N,)
//
// Initialization (PyTorch's and tinygrad's default): weights and biases uniform in
// +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)), drawn from tinyref's global generator
// (Tensor::manual_seed). BatchNorm starts at weight 1, bias 0, running mean 0, variance 1.
#ifndef TINYREF_NN_LAYERS_H_
#define TINYREF_NN_LAYERS_H_

#include <optional>
#include <string>

#include "tinyref/nn/module.h"
#include "tinyref/tensor.h"

namespace tinyref::nn {

// x @ weight.T + bias; weight (out, in).
struct LinearOptions {
  bool bias = true;
  DType dtype = DType::kFloat32;
  std::string device;  // "": the default device
};
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, const LinearOptions& options = {});
  Tensor forward(const Tensor& x) override;
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors* out) const override;
  Tensor weight, bias;  // bias undefined without one
};

// NCHW convolution; weight (out, in/groups, k, k).
struct Conv2dOptions {
  int stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
  DType dtype = DType::kFloat32;
  std::string device;  // "": the default device
};
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int kernel_size, const Conv2dOptions& options = {});
  Tensor forward(const Tensor& x) override;
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors* out) const override;
  Tensor weight, bias;
  int stride, padding, dilation, groups;
};

// Per-channel normalization of an NCHW batch. Training mode normalizes with the batch's mean
// and biased variance and moves the running statistics toward them (running = (1 - momentum)
// * running + momentum * batch, with the unbiased variance, as PyTorch); evaluation mode
// normalizes with the running statistics. The running statistics are lazy until realized:
// a training step realizes model.buffers() together with the parameters.
struct BatchNorm2dOptions {
  double eps = 1e-5, momentum = 0.1;
  bool affine = true;
  DType dtype = DType::kFloat32;
  std::string device;  // "": the default device
};
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, const BatchNorm2dOptions& options = {});
  Tensor forward(const Tensor& x) override;
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors* out) const override;
  Tensor weight, bias;                  // undefined unless affine
  Tensor running_mean, running_var;     // (C)
  Tensor num_batches_tracked;           // int32 scalar, counted for PyTorch's sake
  int64_t num_features;
  double eps, momentum;
};

// Zeroes each element with probability p and scales the rest by 1/(1-p) in training mode;
// the identity in evaluation mode.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  void collect(const std::string&, bool, bool, NamedTensors*) const override {}
  double p;
};

// Functional forms.
Tensor max_pool2d(const Tensor& x, int kernel = 2, std::optional<int> stride = std::nullopt);  // no stride: kernel
Tensor flatten(const Tensor& x, int start = 1);                      // (N, ...) -> (N, rest)
Tensor dropout(const Tensor& x, double p, bool training);
// Mean over the batch of -log softmax(logits)[target]; logits (N, C), target int32 (N,).
Tensor cross_entropy(const Tensor& logits, const Tensor& target);

}  // namespace tinyref::nn

#endif  // TINYREF_NN_LAYERS_H_
