// The network ops, composed of primitives: none of them has a backward rule of its own.
#include <algorithm>
#include <numeric>

#include "ch04/tensor.h"
#include "chapters/course.h"
#include "tensor_internal.h"  // private to the chapter: not under ch04/

namespace ch04 {

// ---------------------------------------------------------------------------- ch04.8

// TODO(ch04.8): matmul, softmax, log_softmax and cross_entropy, from Tensor's own methods
// only (reshape, transpose, *, sum, max, detach, exp, log, eq, arange, mean): no backward code
// anywhere. The README shows matmul as a broadcast product and a sum.

Tensor Tensor::matmul(const Tensor& w) const { throw course::NotImplemented("ch04.8: Tensor::matmul"); }

Tensor Tensor::linear(const Tensor& weight, const Tensor& bias) const {
  const Tensor y = matmul(weight.transpose(-1, -2));
  return bias.defined() ? y + bias : y;
}

Tensor Tensor::softmax(int axis) const { throw course::NotImplemented("ch04.8: Tensor::softmax"); }

Tensor Tensor::log_softmax(int axis) const { throw course::NotImplemented("ch04.8: Tensor::log_softmax"); }

Tensor Tensor::cross_entropy(const Tensor& target) const {
  throw course::NotImplemented("ch04.8: Tensor::cross_entropy");
}

// ---------------------------------------------------------------------------- ch04.9

// TODO(ch04.9): pool (windows as views only: pad, shrink, reshape, expand, permute; the
// README draws both cases), convolve (below) and max_pool2d (at the end of the file).

Tensor Tensor::pool(const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride) const {
  throw course::NotImplemented("ch04.9: Tensor::pool");
}

namespace {

// TODO(ch04.9): out[n, co, y, x] = sum over (ci, i, j) of padded_in[n, ci, y*s + i, x*s + j] * w[co, ci, i, j]:
// windows (n, ci, oh, ow, kh, kw) lined up with the weights, one MUL and one SUM.
Tensor convolve(const Tensor& in, const Tensor& weight, int64_t stride, int64_t padding) {
  throw course::NotImplemented("ch04.9: convolve (conv2d's forward)");
}

// The input's gradient as one more convolution (given): the gradient spread out by the stride,
// padded by k - 1, convolved with the weights flipped in space and with in- and out-channels
// swapped. The composed gradient (through pool's views) is just as correct, but it writes a
// gradient for every window position (n * cin * oh * ow * kh * kw numbers: 655 MB for
// beautiful_mnist's second convolution) before folding them back together.
Tensor input_gradient(const Tensor& grad, const Tensor& weight, const Shape& in_shape, int64_t stride,
                      int64_t padding) {
  const int64_t n = grad.shape()[0], cout = grad.shape()[1], oh = grad.shape()[2], ow = grad.shape()[3];
  const int64_t kh = weight.shape()[2], kw = weight.shape()[3];
  const int64_t hp = in_shape[2] + 2 * padding, wp = in_shape[3] + 2 * padding;
  Tensor g = grad;
  if (stride > 1) {  // stride - 1 zeros after every value, then drop the trailing ones
    g = g.reshape({n, cout, oh, 1, ow, 1})
            .pad({{0, 0}, {0, 0}, {0, 0}, {0, stride - 1}, {0, 0}, {0, stride - 1}})
            .reshape({n, cout, oh * stride, ow * stride})
            .shrink({{0, n}, {0, cout}, {0, (oh - 1) * stride + 1}, {0, (ow - 1) * stride + 1}});
  }
  // kh - 1 zeros before (windows that start before the first value) and enough after that the
  // result has the padded input's size. Copied once, so that the convolution below reads a
  // plain buffer instead of testing bounds on every read.
  g = g.pad({{0, 0}, {0, 0}, {kh - 1, hp - g.shape()[2]}, {kw - 1, wp - g.shape()[3]}}).contiguous();
  const Tensor flipped = weight.permute({1, 0, 2, 3}).flip({2, 3});  // (cin, cout, kh, kw)
  return convolve(g, flipped, 1, 0).shrink(
      {{0, n}, {0, in_shape[1]}, {padding, padding + in_shape[2]}, {padding, padding + in_shape[3]}});
}

}  // namespace

Tensor Tensor::conv2d(const Tensor& weight, const Tensor& bias, int stride, int padding) const {
  if (ndim() != 4 || weight.ndim() != 4 || weight.shape()[1] != shape()[1] || stride <= 0 || padding < 0 ||
      (bias.defined() && bias.shape() != Shape{weight.shape()[0]})) {
    throw ShapeError("conv2d: input " + shape_str(shape()) + ", weight " + shape_str(weight.shape()) +
                     (bias.defined() ? ", bias " + shape_str(bias.shape()) : "") + ", stride " +
                     std::to_string(stride) + ", padding " + std::to_string(padding) +
                     " (want NCHW, (Cout, C, KH, KW), (Cout,), stride > 0, padding >= 0)");
  }
  Tensor out;
  if (!requires_grad()) {
    out = convolve(*this, weight, stride, padding);
  } else {
    // The weight's gradient comes through the composition; the input's from input_gradient.
    const Tensor by_weight = convolve(detach(), weight, stride, padding);
    const LazyRef w = weight.lazy();  // this forward pass's weights, whatever an optimizer does later
    const Shape in_shape = shape();
    out = TensorOps::record_custom(by_weight.lazy(), {by_weight, *this}, [=](const LazyRef& g) {
      const Tensor dx = input_gradient(Tensor::from_lazy(g), Tensor::from_lazy(w), in_shape, stride, padding);
      return std::vector<LazyRef>{g, dx.lazy()};
    });
  }
  return bias.defined() ? out + bias.reshape({1, weight.shape()[0], 1, 1}) : out;
}

Tensor Tensor::max_pool2d(int kernel) const { throw course::NotImplemented("ch04.9: Tensor::max_pool2d"); }

}  // namespace ch04
