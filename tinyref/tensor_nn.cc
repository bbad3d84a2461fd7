// Linear algebra and neural-network ops, each composed of movement ops, elementwise ops and
// one reduce, so the scheduler fuses them and autograd differentiates them for free.
#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>

#include "tinyref/tensor.h"
#include "tinyref/tensor_internal.h"

namespace tinyref {

// (..., n, k) @ (..., k, m): broadcast-multiply to (..., n, m, k) and sum the last axis. The
// product is never materialized: it fuses into the reduce.
Tensor Tensor::matmul(const Tensor& w) const {
  TT_CHECK(ndim() >= 1 && w.ndim() >= 1, "matmul: needs at least 1-d tensors, got " << shape_str(shape()) << " @ "
                                                                                     << shape_str(w.shape()));
  if (ndim() == 1) return unsqueeze(0).matmul(w).squeeze(-2);
  if (w.ndim() == 1) return matmul(w.unsqueeze(-1)).squeeze(-1);
  const int64_t n = shape()[ndim() - 2], k = shape()[ndim() - 1];
  const int64_t k2 = w.shape()[w.ndim() - 2], m = w.shape()[w.ndim() - 1];
  TT_CHECK(k == k2, "matmul: " << shape_str(shape()) << " @ " << shape_str(w.shape()) << ": inner dimensions "
                               << k << " and " << k2 << " differ");
  Shape xs(shape().begin(), shape().end() - 2), ws(w.shape().begin(), w.shape().end() - 2);
  xs.insert(xs.end(), {n, 1, k});
  ws.insert(ws.end(), {1, m, k});
  return (reshape(xs) * w.transpose(-1, -2).reshape(ws)).sum({-1});
}

Tensor Tensor::linear(const Tensor& weight, const Tensor& bias) const {
  Tensor y = matmul(weight.transpose(-1, -2));
  return bias.defined() ? y + bias : y;
}

namespace {

// One axis of Tensor::pool: `ax` (extent h) becomes the window count o, and a new last axis of
// extent k holds each window: out[..., i, ..., j] = x[..., i*s + j*d, ...].
Tensor pool_axis(const Tensor& x, int ax, int64_t k, int64_t s, int64_t d) {
  const int64_t h = x.shape()[ax];
  const int64_t o = (h - d * (k - 1) - 1) / s + 1;
  TT_CHECK(h - d * (k - 1) - 1 >= 0, "pool: window " << k << " (dilation " << d << ") is larger than axis " << ax
                                                     << " of shape " << shape_str(x.shape()));
  std::vector<int> to_end(x.ndim());
  std::iota(to_end.begin(), to_end.end(), 0);
  to_end.erase(to_end.begin() + ax);
  to_end.push_back(ax);
  Tensor t = x.permute(to_end);  // (..., h)
  Shape lead(t.shape().begin(), t.shape().end() - 1);
  auto with = [&](std::initializer_list<int64_t> tail) {
    Shape s = lead;
    s.insert(s.end(), tail);
    return s;
  };
  auto cut = [&](const Tensor& v, std::initializer_list<std::pair<int64_t, int64_t>> tail) {
    Pairs p;
    for (int64_t e : lead) p.push_back({0, e});
    p.insert(p.end(), tail);
    return v.shrink(p);
  };
  auto grow = [&](const Tensor& v, int64_t extra) {
    Pairs p(v.ndim(), {0, 0});
    p.back() = {0, extra};
    return v.pad(p);
  };
  if (d == 1 && k <= s) {
    // Windows do not overlap: cut the axis into rows of s and keep the first k of each.
    Tensor r = o * s > h ? grow(t, o * s - h) : cut(t, {{0, o * s}});
    t = cut(r.reshape(with({o, s})), {{0, o}, {0, k}});
  } else {
    // Repeat the axis, flatten, and re-cut it into k rows of h+d: row j starts j*d later in x.
    // View merging turns the whole chain into one strided view (strides s and d).
    const int64_t reps = (k * (h + d) + h - 1) / h;
    Tensor flat = t.unsqueeze(-2).expand(with({reps, h})).reshape(with({reps * h}));
    Tensor rows = cut(flat, {{0, k * (h + d)}}).reshape(with({k, h + d}));
    if (o * s > h + d) rows = grow(rows, o * s - (h + d));
    rows = cut(rows, {{0, k}, {0, o * s}}).reshape(with({k, o, s}));
    t = cut(rows, {{0, k}, {0, o}, {0, 1}}).reshape(with({k, o}));
    std::vector<int> swap(t.ndim());
    std::iota(swap.begin(), swap.end(), 0);
    std::swap(swap[swap.size() - 1], swap[swap.size() - 2]);
    t = t.permute(swap);  // (..., o, k)
  }
  // Put o back at ax; k stays last.
  std::vector<int> back(t.ndim());
  const int nd = static_cast<int>(t.ndim());
  std::iota(back.begin(), back.end(), 0);
  back.erase(back.begin() + nd - 2);
  back.insert(back.begin() + ax, nd - 2);
  return t.permute(back);
}

}  // namespace

Tensor Tensor::pool(const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
                    const std::vector<int64_t>& dilation) const {
  const size_t nk = kernel.size();
  TT_CHECK(nk <= static_cast<size_t>(ndim()) && stride.size() == nk && dilation.size() == nk,
           "pool: " << nk << "-d window for shape " << shape_str(shape()));
  Tensor x = *this;
  for (size_t i = 0; i < nk; ++i) {
    TT_CHECK(kernel[i] > 0 && stride[i] > 0 && dilation[i] > 0, "pool: window, stride and dilation must be positive");
    x = pool_axis(x, static_cast<int>(ndim() - nk + i), kernel[i], stride[i], dilation[i]);
  }
  return x;
}

namespace {

// out[n, g*rc + r, oh, ow] = sum over (c, i, j) of xp[n, g*cg + c, oh*s + i*d, ow*s + j*d] *
// w[g*rc + r, c, i, j], with xp = x padded by p: a broadcast multiply and one reduce over
// sliding windows (pool), which the scheduler fuses into one kernel.
Tensor conv2d_composed(const Tensor& in, const Tensor& weight, int64_t groups, int64_t stride, int64_t padding,
                       int64_t dilation) {
  const int64_t n = in.shape()[0], cin = in.shape()[1], cout = weight.shape()[0], kh = weight.shape()[2],
                kw = weight.shape()[3];
  const int64_t g = groups, cg = cin / g, rc = cout / g;
  Tensor x = in.pad({{0, 0}, {0, 0}, {padding, padding}, {padding, padding}});
  x = x.pool({kh, kw}, {stride, stride}, {dilation, dilation});  // (n, cin, oh, ow, kh, kw)
  const int64_t oh = x.shape()[2], ow = x.shape()[3];
  // (n, g, rc, oh, ow, cg, kh, kw) * weight, summed over (cg, kh, kw).
  x = x.reshape({n, g, cg, 1, oh, ow, kh, kw}).expand({n, g, cg, rc, oh, ow, kh, kw}).permute({0, 1, 3, 4, 5, 2, 6, 7});
  Tensor w = weight.reshape({1, g, rc, 1, 1, cg, kh, kw});
  return (x * w).sum({5, 6, 7}).reshape({n, cout, oh, ow});
}

// The gradient of conv2d_composed with respect to its input, as one more convolution: grad
// dilated by the stride and padded by d*(k-1) on each side, correlated with the weights
// flipped in space and with in- and out-channels swapped per group:
//   dxp[n, ci, h, w] = sum over (co, i, j) of gd[n, co, h - i*d, w - j*d] * w[co, ci, i, j].
// Differentiating through the sliding windows instead would write the gradient of every
// window (n*cin*kh*kw*oh*ow values: 655 MB for beautiful_mnist's second conv) and fold it
// back with a second reduce; this is one reduce, shaped like the forward kernel.
Tensor conv2d_input_grad(const Tensor& grad, const Tensor& weight, const Shape& in_shape, int64_t groups,
                         int64_t stride, int64_t padding, int64_t dilation) {
  const int64_t n = grad.shape()[0], cout = grad.shape()[1], oh = grad.shape()[2], ow = grad.shape()[3];
  const int64_t cin = in_shape[1], kh = weight.shape()[2], kw = weight.shape()[3];
  const int64_t g = groups, cg = cin / g, rc = cout / g;
  const int64_t hp = in_shape[2] + 2 * padding, wp = in_shape[3] + 2 * padding;
  Tensor gd = grad;
  if (stride > 1) {  // a zero after every value but the last, stride - 1 of them
    gd = gd.reshape({n, cout, oh, 1, ow, 1})
             .pad({{0, 0}, {0, 0}, {0, 0}, {0, stride - 1}, {0, 0}, {0, stride - 1}})
             .reshape({n, cout, oh * stride, ow * stride})
             .shrink({{0, n}, {0, cout}, {0, (oh - 1) * stride + 1}, {0, (ow - 1) * stride + 1}});
  }
  const int64_t lh = gd.shape()[2], lw = gd.shape()[3];
  // Left d*(k-1) so that windows start before the first value; right hp - lh (>= d*(k-1) by
  // the forward's output size), so that the result has the padded input's size hp x wp.
  // Materialized once (a cheap copy: the size of the input), so that the convolution below reads
  // a plain buffer; read through the padded view, every load of its inner loop would carry a
  // bounds test.
  gd = gd.pad({{0, 0}, {0, 0}, {dilation * (kh - 1), hp - lh}, {dilation * (kw - 1), wp - lw}}).contiguous();
  Tensor wt = weight.reshape({g, rc, cg, kh, kw}).permute({0, 2, 1, 3, 4}).reshape({cin, rc, kh, kw}).flip({2, 3});
  Tensor dxp = conv2d_composed(gd, wt, groups, 1, 0, dilation);  // (n, cin, hp, wp)
  return dxp.shrink({{0, n}, {0, cin}, {padding, padding + in_shape[2]}, {padding, padding + in_shape[3]}});
}

}  // namespace

Tensor Tensor::conv2d(const Tensor& weight, const Tensor& bias, int stride, int padding, int dilation, int groups) const {
  TT_CHECK(ndim() == 4 && weight.ndim() == 4, "conv2d: needs an NCHW input and a 4-d weight, got "
                                                  << shape_str(shape()) << " and " << shape_str(weight.shape()));
  const int64_t cin = shape()[1], cout = weight.shape()[0], kh = weight.shape()[2], kw = weight.shape()[3];
  TT_CHECK(groups > 0 && cin % groups == 0 && cout % groups == 0 && weight.shape()[1] * groups == cin,
           "conv2d: input " << shape_str(shape()) << " and weight " << shape_str(weight.shape()) << " do not match with "
                            << groups << " group(s) (weight must be (Cout, Cin/groups, KH, KW))");
  TT_CHECK(stride > 0 && dilation > 0 && padding >= 0, "conv2d: stride and dilation must be positive, padding >= 0");
  if (bias.defined()) {
    TT_CHECK(bias.ndim() == 1 && bias.shape()[0] == cout,
             "conv2d: bias " << shape_str(bias.shape()) << " for " << cout << " output channels");
  }
  TT_CHECK(shape()[2] + 2 * padding >= dilation * (kh - 1) + 1 && shape()[3] + 2 * padding >= dilation * (kw - 1) + 1,
           "conv2d: window " << kh << "x" << kw << " (dilation " << dilation << ") is larger than the input "
                             << shape_str(shape()) << " padded by " << padding);
  Tensor out;
  if (!requires_grad()) {
    out = conv2d_composed(*this, weight, groups, stride, padding, dilation);
  } else {
    // The weight's gradient through the composition is one reduce already; the input's gets
    // its own rule (see conv2d_input_grad).
    Tensor by_weight = conv2d_composed(detach(), weight, groups, stride, padding, dilation);
    const LazyRef w = weight.lazy();  // the weights of this forward pass, whatever happens to `weight` later
    const Shape in_shape = shape();
    out = TensorOps::record_custom(by_weight.lazy(), {by_weight, *this}, [=](const LazyRef& g) {
      Tensor dx = conv2d_input_grad(Tensor::from_lazy(g), Tensor::from_lazy(w), in_shape, groups, stride, padding,
                                    dilation);
      return std::vector<LazyRef>{g, dx.lazy()};
    });
  }
  return bias.defined() ? out + bias.reshape({1, cout, 1, 1}) : out;
}

namespace {

// The (kernel, stride, padding) of a 2-d pooling, checked as PyTorch checks them: a window and
// stride of at least 1, and padding from 0 to half the (dilated) window, so that no window lies
// wholly in the padding. Returns the stride (absent: the kernel).
int64_t pool2d_stride(const Tensor& x, const char* op, int kernel, std::optional<int> stride, int dilation, int padding) {
  TT_CHECK(x.ndim() >= 2, op << ": needs at least 2 dimensions, got " << shape_str(x.shape()));
  TT_CHECK(kernel > 0, op << ": kernel " << kernel << " must be positive");
  TT_CHECK(!stride || *stride > 0, op << ": stride " << *stride << " must be positive (leave it out for the kernel size)");
  TT_CHECK(dilation > 0, op << ": dilation " << dilation << " must be positive");
  const int window = dilation * (kernel - 1) + 1;
  TT_CHECK(padding >= 0 && 2 * padding <= window,
           op << ": padding " << padding << " must be between 0 and half the window (" << window << ")");
  return stride ? *stride : kernel;
}

Tensor pad_last_two(const Tensor& x, int padding, double value) {
  if (padding == 0) return x;
  Pairs p(x.ndim(), {0, 0});
  p[x.ndim() - 2] = p[x.ndim() - 1] = {padding, padding};
  return x.pad(p, value);
}

}  // namespace

Tensor Tensor::max_pool2d(int kernel, std::optional<int> stride, int dilation, int padding) const {
  const int64_t s = pool2d_stride(*this, "max_pool2d", kernel, stride, dilation, padding);
  const Tensor x = pad_last_two(*this, padding, -std::numeric_limits<double>::infinity());
  return x.pool({kernel, kernel}, {s, s}, {dilation, dilation}).max({-1, -2});
}

Tensor Tensor::avg_pool2d(int kernel, std::optional<int> stride, int padding) const {
  const int64_t s = pool2d_stride(*this, "avg_pool2d", kernel, stride, 1, padding);
  return pad_last_two(*this, padding, 0).pool({kernel, kernel}, {s, s}, {1, 1}).mean({-1, -2});
}

namespace {

// A label outside [0, classes) matches no class: its one-hot row is all zeros and it would add
// nothing to the loss, silently. Labels that sit realized in host memory (data from the host,
// on the CPU or INTERP: what a training loop passes) are checked here, element by element
// through their view. Labels that are still lazy, or live on a GPU, are not: reading them would
// run kernels early or wait for the device (PyTorch checks those with a device-side assert).
void check_labels(const Tensor& target, int64_t classes) {
  const LazyRef& lazy = target.lazy();
  const std::shared_ptr<Buffer> buf = lazy->realized_buffer();
  if (buf == nullptr || !buf->device().host_memory() || target.numel() == 0) return;
  const auto* labels = static_cast<const int32_t*>(buf->ptr());
  for (int64_t i = 0; i < target.numel(); ++i) {
    const int64_t at = lazy->st().index_of({i});
    const int32_t label = at < 0 ? 0 : labels[at];
    TT_CHECK(0 <= label && label < classes, "cross_entropy: target[" << i << "] is " << label << ", not a class in [0, "
                                                                     << classes << ")");
  }
}

}  // namespace

Tensor Tensor::cross_entropy(const Tensor& target) const {
  TT_CHECK(ndim() == 2 && target.ndim() == 1 && target.shape()[0] == shape()[0],
           "cross_entropy: logits " << shape_str(shape()) << " and target " << shape_str(target.shape())
                                    << " (want (N, C) and (N,))");
  TT_CHECK(target.dtype() == DType::kInt32, "cross_entropy: target must be int32 class indices, got "
                                                << dtype_name(target.dtype()));
  const int64_t c = shape()[1];
  check_labels(target, c);
  Tensor classes = Tensor::arange(0, static_cast<double>(c), 1, DType::kInt32, device()).reshape({1, c});
  Tensor one_hot = target.reshape({-1, 1}).eq(classes).cast(dtype());
  return -(log_softmax(1) * one_hot).sum({1}).mean();
}

}  // namespace tinyref
