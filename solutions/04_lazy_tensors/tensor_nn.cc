// The network ops, composed of primitives: none of them has a backward rule of its own.
#include <algorithm>
#include <numeric>

#include "ch04/tensor.h"
#include "tensor_internal.h"  // private to the chapter: not under ch04/

namespace ch04 {

// ---------------------------------------------------------------------------- ch04.8

// (..., n, k) @ (..., k, m): x as (..., n, 1, k) times w^T as (..., 1, m, k) broadcasts to
// (..., n, m, k); summing k gives (..., n, m). Its gradient is the rules of reshape, permute,
// expand, MUL and SUM: nobody writes matmul's backward.
Tensor Tensor::matmul(const Tensor& w) const {
  if (ndim() < 2 || w.ndim() < 2 || shape()[ndim() - 1] != w.shape()[w.ndim() - 2]) {
    throw ShapeError("matmul: cannot multiply " + shape_str(shape()) + " by " + shape_str(w.shape()) +
                     " (want (..., n, k) @ (..., k, m))");
  }
  Shape xs = shape(), ws = w.shape();
  xs.insert(xs.end() - 1, 1);  // (..., n, 1, k)
  std::swap(ws[ws.size() - 1], ws[ws.size() - 2]);
  ws.insert(ws.end() - 2, 1);  // (..., 1, m, k)
  return (reshape(xs) * w.transpose(-1, -2).reshape(ws)).sum({-1});
}

Tensor Tensor::linear(const Tensor& weight, const Tensor& bias) const {
  const Tensor y = matmul(weight.transpose(-1, -2));
  return bias.defined() ? y + bias : y;
}

// Subtracting the row's max changes nothing mathematically (it cancels) and keeps exp from
// overflowing. It is detached: the result does not depend on it, so no gradient goes there.
Tensor Tensor::softmax(int axis) const {
  const int a = TensorOps::axis(*this, axis, "softmax");
  const Tensor e = (*this - max({a}, true).detach()).exp();
  return e / e.sum({a}, true);
}

Tensor Tensor::log_softmax(int axis) const {
  const int a = TensorOps::axis(*this, axis, "log_softmax");
  const Tensor shifted = *this - max({a}, true).detach();
  return shifted - shifted.exp().sum({a}, true).log();
}

Tensor Tensor::cross_entropy(const Tensor& target) const {
  if (ndim() != 2 || target.ndim() != 1 || target.shape()[0] != shape()[0]) {
    throw ShapeError("cross_entropy: logits " + shape_str(shape()) + " and target " + shape_str(target.shape()) +
                     " (want (N, C) and (N,))");
  }
  const int64_t classes = shape()[1];
  // one_hot[n, c] = 1 where target[n] == c: a comparison with a row of class numbers.
  const Tensor one_hot = target.reshape({-1, 1}).eq(Tensor::arange(classes, dtype()).reshape({1, classes}));
  return -(log_softmax(1) * one_hot).sum({1}).mean();
}

// ---------------------------------------------------------------------------- ch04.9

// Windows as views, tinygrad's _pool. Two cases, for all pooled axes at once (x: (..., i)):
//  - windows apart (k <= s): cut each axis into o rows of s and keep the first k of each row;
//  - windows overlap (k > s): repeat each axis, flatten, and re-cut it into k rows of i + 1, so
//    that row a starts one element later than row a - 1; then keep every s-th column.
// Either way nothing is copied: reshape and shrink fold it all into strides and masks.
Tensor Tensor::pool(const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride) const {
  const size_t n = kernel.size(), lead = ndim() - n;
  bool ok = n <= static_cast<size_t>(ndim()) && stride.size() == n;
  for (size_t a = 0; ok && a < n; ++a) ok = kernel[a] > 0 && stride[a] > 0 && kernel[a] <= shape()[lead + a];
  if (!ok) {
    throw ShapeError("pool: kernel " + shape_str(kernel) + " with stride " + shape_str(stride) +
                     " does not fit shape " + shape_str(shape()));
  }
  const Shape prefix(shape().begin(), shape().begin() + lead), in(shape().begin() + lead, shape().end());
  Shape out(n);
  for (size_t a = 0; a < n; ++a) out[a] = (in[a] - kernel[a]) / stride[a] + 1;
  // Builds prefix + one group of sizes per pooled axis, or the matching shrink ranges.
  auto shape_of = [&](auto per_axis) {
    Shape s = prefix;
    for (size_t a = 0; a < n; ++a) for (int64_t d : per_axis(a)) s.push_back(d);
    return s;
  };
  auto keep = [&](auto per_axis) {
    Pairs p;
    for (int64_t d : prefix) p.push_back({0, d});
    for (size_t a = 0; a < n; ++a) for (auto r : per_axis(a)) p.push_back(r);
    return p;
  };
  using Ranges = std::vector<std::pair<int64_t, int64_t>>;
  const bool apart = std::equal(kernel.begin(), kernel.end(), stride.begin(), std::less_equal<>());
  Tensor x = *this;
  std::vector<int> order(lead);
  std::iota(order.begin(), order.end(), 0);
  if (apart) {
    // Pad (the last row may be short: its tail is never in a window), then rows of s.
    Pairs grow(lead, {0, 0});
    for (size_t a = 0; a < n; ++a) grow.push_back({0, std::max<int64_t>(0, out[a] * stride[a] - in[a])});
    x = x.pad(grow).shrink(keep([&](size_t a) { return Ranges{{0, out[a] * stride[a]}}; }));
    x = x.reshape(shape_of([&](size_t a) { return Shape{out[a], stride[a]}; }));
    x = x.shrink(keep([&](size_t a) { return Ranges{{0, out[a]}, {0, kernel[a]}}; }));  // (..., o, k, ...)
    for (size_t a = 0; a < n; ++a) order.push_back(static_cast<int>(lead + 2 * a));
    for (size_t a = 0; a < n; ++a) order.push_back(static_cast<int>(lead + 2 * a + 1));
    return x.permute(order);
  }
  // Repeat each axis ceil(k * (i + 1) / i) times: (..., r, i) flattened to (..., r * i).
  auto repeats = [&](size_t a) { return (kernel[a] * (in[a] + 1) + in[a] - 1) / in[a]; };
  x = x.reshape(shape_of([&](size_t a) { return Shape{1, in[a]}; }))
          .expand(shape_of([&](size_t a) { return Shape{repeats(a), in[a]}; }))
          .reshape(shape_of([&](size_t a) { return Shape{repeats(a) * in[a]}; }));
  // k rows of i + 1: row b, column t is x[(b + t) mod i], the window position b at offset t.
  x = x.shrink(keep([&](size_t a) { return Ranges{{0, kernel[a] * (in[a] + 1)}}; }))
          .reshape(shape_of([&](size_t a) { return Shape{kernel[a], in[a] + 1}; }));
  // Columns 0, s, 2s, ...: rows of s, first column of each (padded first when an axis whose
  // windows are apart needs more than i + 1 columns; the padding is never in a window).
  Pairs grow(lead, {0, 0});
  for (size_t a = 0; a < n; ++a) {
    grow.push_back({0, 0});
    grow.push_back({0, std::max<int64_t>(0, out[a] * stride[a] - in[a] - 1)});
  }
  x = x.pad(grow).shrink(keep([&](size_t a) { return Ranges{{0, kernel[a]}, {0, out[a] * stride[a]}}; }))
          .reshape(shape_of([&](size_t a) { return Shape{kernel[a], out[a], stride[a]}; }))
          .shrink(keep([&](size_t a) { return Ranges{{0, kernel[a]}, {0, out[a]}, {0, 1}}; }))
          .reshape(shape_of([&](size_t a) { return Shape{kernel[a], out[a]}; }));  // (..., k, o, ...)
  for (size_t a = 0; a < n; ++a) order.push_back(static_cast<int>(lead + 2 * a + 1));
  for (size_t a = 0; a < n; ++a) order.push_back(static_cast<int>(lead + 2 * a));
  return x.permute(order);
}

namespace {

// out[n, co, y, x] = sum over (ci, i, j) of padded_in[n, ci, y*s + i, x*s + j] * w[co, ci, i, j]:
// windows (n, ci, oh, ow, kh, kw) lined up with the weights, one MUL and one SUM.
Tensor convolve(const Tensor& in, const Tensor& weight, int64_t stride, int64_t padding) {
  const int64_t n = in.shape()[0], cin = in.shape()[1], cout = weight.shape()[0];
  const int64_t kh = weight.shape()[2], kw = weight.shape()[3];
  Tensor x = in.pad({{0, 0}, {0, 0}, {padding, padding}, {padding, padding}}).pool({kh, kw}, {stride, stride});
  const int64_t oh = x.shape()[2], ow = x.shape()[3];
  x = x.reshape({n, 1, cin, oh, ow, kh, kw}).expand({n, cout, cin, oh, ow, kh, kw}).permute({0, 1, 3, 4, 2, 5, 6});
  const Tensor w = weight.reshape({1, cout, 1, 1, cin, kh, kw});
  return (x * w).sum({4, 5, 6});  // (n, cout, oh, ow)
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

Tensor Tensor::max_pool2d(int kernel) const {
  if (ndim() < 2 || kernel <= 0) {
    throw ShapeError("max_pool2d: kernel " + std::to_string(kernel) + " for shape " + shape_str(shape()));
  }
  return pool({kernel, kernel}, {kernel, kernel}).max({-2, -1});
}

}  // namespace ch04
