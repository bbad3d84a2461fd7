// The backward rules (ch03.2 - ch03.4). Each op computes its value with chapter 2 and hands
// from_op a rule mapping the output's gradient g to its inputs' gradients.
//
// A rule captures what it needs by value: input values, or the output's value (ch02 tensors,
// which share storage, so this is cheap). It must never capture the output ch03::Tensor itself:
// the node would own a function owning the node, a reference cycle that is never freed.
#include <stdexcept>

#include "ch03/autograd.h"

namespace ch03 {

template <typename T>
ch02::Tensor<T> sum_to_shape(const ch02::Tensor<T>& grad, const Shape& shape) {
  const Shape& big = grad.shape();
  if (ch02::broadcast_shapes(shape, big) != big) {
    throw std::invalid_argument("sum_to_shape: " + ch02::shape_str(shape) +
                                " does not broadcast to " + ch02::shape_str(big));
  }
  // Broadcasting added axes on the left and stretched axes of size 1: sum over exactly those.
  const size_t lead = big.size() - shape.size();
  std::vector<int> axes;
  for (size_t a = 0; a < big.size(); ++a) {
    if (a < lead || (shape[a - lead] == 1 && big[a] != 1)) axes.push_back(static_cast<int>(a));
  }
  return ch02::sum(grad, axes, /*keepdim=*/true).reshape(shape);
}

template <typename T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  Shape sa = a.shape(), sb = b.shape();
  return Tensor<T>::from_op("add", ch02::add(a.value(), b.value()), {a, b},
                            [sa, sb](const ch02::Tensor<T>& g) {
                              return std::vector{sum_to_shape(g, sa), sum_to_shape(g, sb)};
                            });
}

template <typename T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  Shape sa = a.shape(), sb = b.shape();
  return Tensor<T>::from_op("sub", ch02::sub(a.value(), b.value()), {a, b},
                            [sa, sb](const ch02::Tensor<T>& g) {
                              return std::vector{sum_to_shape(g, sa), sum_to_shape(ch02::neg(g), sb)};
                            });
}

template <typename T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  ch02::Tensor<T> va = a.value(), vb = b.value();
  return Tensor<T>::from_op("mul", ch02::mul(va, vb), {a, b}, [va, vb](const ch02::Tensor<T>& g) {
    return std::vector{sum_to_shape(ch02::mul(g, vb), va.shape()),
                       sum_to_shape(ch02::mul(g, va), vb.shape())};
  });
}

template <typename T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  ch02::Tensor<T> va = a.value(), vb = b.value();
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
  return Tensor<T>::from_op("div", ch02::div(va, vb), {a, b}, [va, vb](const ch02::Tensor<T>& g) {
    return std::vector{sum_to_shape(ch02::div(g, vb), va.shape()),
                       sum_to_shape(ch02::neg(ch02::div(ch02::mul(g, va), ch02::mul(vb, vb))), vb.shape())};
  });
}

template <typename T>
Tensor<T> neg(const Tensor<T>& x) {
  return Tensor<T>::from_op("neg", ch02::neg(x.value()), {x},
                            [](const ch02::Tensor<T>& g) { return std::vector{ch02::neg(g)}; });
}

template <typename T>
Tensor<T> exp(const Tensor<T>& x) {
  ch02::Tensor<T> out = ch02::exp(x.value());
  return Tensor<T>::from_op("exp", out, {x},
                            [out](const ch02::Tensor<T>& g) { return std::vector{ch02::mul(g, out)}; });
}

template <typename T>
Tensor<T> log(const Tensor<T>& x) {
  ch02::Tensor<T> v = x.value();
  return Tensor<T>::from_op("log", ch02::log(v), {x},
                            [v](const ch02::Tensor<T>& g) { return std::vector{ch02::div(g, v)}; });
}

template <typename T>
Tensor<T> relu(const Tensor<T>& x) {
  ch02::Tensor<T> v = x.value();
  return Tensor<T>::from_op("relu", ch02::relu(v), {x}, [v](const ch02::Tensor<T>& g) {
    return std::vector{ch02::mul(g, ch02::greater(v, ch02::Tensor<T>::scalar(T(0))))};
  });
}

template <typename T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  const Shape in_shape = x.shape();
  ch02::Tensor<T> kept = ch02::sum(x.value(), axes, /*keepdim=*/true);
  ch02::Tensor<T> out = keepdim ? kept : ch02::sum(x.value(), axes, false);
  const Shape kept_shape = kept.shape();
  // Every input element contributed once to its sum: its gradient is the sum's, broadcast back.
  return Tensor<T>::from_op("sum", out, {x}, [in_shape, kept_shape](const ch02::Tensor<T>& g) {
    return std::vector{g.reshape(kept_shape).broadcast_to(in_shape)};  // a view: no copy
  });
}

template <typename T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  int64_t count = 1;
  for (int axis : axes) count *= x.shape()[ch02::normalize_axis(axis, x.ndim(), "mean")];
  return mul(sum(x, axes, keepdim), constant<T>(T(1) / static_cast<T>(count)));
}

template <typename T> Tensor<T> sum(const Tensor<T>& x) {
  std::vector<int> all(x.ndim());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return sum(x, all);
}

template <typename T> Tensor<T> mean(const Tensor<T>& x) {
  std::vector<int> all(x.ndim());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return mean(x, all);
}

template <typename T>
Tensor<T> reshape(const Tensor<T>& x, const Shape& shape) {
  const Shape in_shape = x.shape();
  return Tensor<T>::from_op("reshape", x.value().reshape(shape), {x},
                            [in_shape](const ch02::Tensor<T>& g) { return std::vector{g.reshape(in_shape)}; });
}

template <typename T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& order) {
  // The gradient goes back through the inverse permutation: axis order[i] of x is axis i of out.
  std::vector<int> inverse(order.size());
  ch02::Tensor<T> out = x.value().permute(order);
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int>(i);
  return Tensor<T>::from_op("permute", out, {x},
                            [inverse](const ch02::Tensor<T>& g) { return std::vector{g.permute(inverse)}; });
}

template <typename T>
Tensor<T> transpose(const Tensor<T>& x, int axis0, int axis1) {
  std::vector<int> order(x.ndim());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::swap(order[ch02::normalize_axis(axis0, x.ndim(), "transpose")],
            order[ch02::normalize_axis(axis1, x.ndim(), "transpose")]);
  return permute(x, order);
}

template <typename T>
Tensor<T> expand(const Tensor<T>& x, const Shape& shape) {
  const Shape in_shape = x.shape();
  return Tensor<T>::from_op("expand", x.value().expand(shape), {x},
                            [in_shape](const ch02::Tensor<T>& g) { return std::vector{sum_to_shape(g, in_shape)}; });
}

template <typename T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  ch02::Tensor<T> va = a.value(), vb = b.value();
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  // C = A B: dA = G B^T, dB = A^T G. The transposes are free views (ch02's matmul packs any
  // strides). A constant operand's gradient is not computed at all: for the first layer of a
  // network, d loss / d images would be a whole wasted matmul per step.
  return Tensor<T>::from_op(
      "matmul", ch02::matmul(va, vb), {a, b}, [va, vb, need_a, need_b](const ch02::Tensor<T>& g) {
        return std::vector{need_a ? ch02::matmul(g, vb.transpose(0, 1)) : ch02::Tensor<T>(),
                           need_b ? ch02::matmul(va.transpose(0, 1), g) : ch02::Tensor<T>()};
      });
}

#define CH03_GRAD_OPS(T)                                                              \
  template ch02::Tensor<T> sum_to_shape(const ch02::Tensor<T>&, const Shape&);        \
  template Tensor<T> add(const Tensor<T>&, const Tensor<T>&);                         \
  template Tensor<T> sub(const Tensor<T>&, const Tensor<T>&);                         \
  template Tensor<T> mul(const Tensor<T>&, const Tensor<T>&);                         \
  template Tensor<T> div(const Tensor<T>&, const Tensor<T>&);                         \
  template Tensor<T> neg(const Tensor<T>&);                                           \
  template Tensor<T> exp(const Tensor<T>&);                                           \
  template Tensor<T> log(const Tensor<T>&);                                           \
  template Tensor<T> relu(const Tensor<T>&);                                          \
  template Tensor<T> sum(const Tensor<T>&, const std::vector<int>&, bool);            \
  template Tensor<T> mean(const Tensor<T>&, const std::vector<int>&, bool);           \
  template Tensor<T> sum(const Tensor<T>&);                                           \
  template Tensor<T> mean(const Tensor<T>&);                                          \
  template Tensor<T> reshape(const Tensor<T>&, const Shape&);                         \
  template Tensor<T> permute(const Tensor<T>&, const std::vector<int>&);              \
  template Tensor<T> transpose(const Tensor<T>&, int, int);                           \
  template Tensor<T> expand(const Tensor<T>&, const Shape&);                          \
  template Tensor<T> matmul(const Tensor<T>&, const Tensor<T>&);
CH03_GRAD_OPS(float)
CH03_GRAD_OPS(double)

}  // namespace ch03
