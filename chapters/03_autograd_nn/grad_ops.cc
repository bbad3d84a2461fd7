// The backward rules (ch03.2 - ch03.4). Each op computes its value with chapter 2 and hands
// from_op a rule mapping the output's gradient g to its inputs' gradients.
//
// A rule captures what it needs by value: input values, or the output's value (ch02 tensors,
// which share storage, so this is cheap). It must never capture the output ch03::Tensor itself:
// the node would own a function owning the node, a reference cycle that is never freed.
#include <stdexcept>

#include "ch03/autograd.h"
#include "chapters/course.h"

namespace ch03 {

template <typename T>
ch02::Tensor<T> sum_to_shape(const ch02::Tensor<T>& grad, const Shape& shape) {
  // TODO(ch03.2): broadcasting added axes on the left of `shape` and stretched its axes of
  // size 1. Sum grad over exactly those axes (keepdim), then reshape to `shape`.
  // std::invalid_argument if shape does not broadcast to grad's shape.
  throw course::NotImplemented("ch03.2: sum_to_shape");
}

// Given, as the example: the value with ch02, the rule as a lambda.
template <typename T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  Shape sa = a.shape(), sb = b.shape();
  return Tensor<T>::from_op("add", ch02::add(a.value(), b.value()), {a, b},
                            [sa, sb](const ch02::Tensor<T>& g) {
                              return std::vector{sum_to_shape(g, sa), sum_to_shape(g, sb)};
                            });
}

// TODO(ch03.2): the other elementwise rules.
template <typename T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) { throw course::NotImplemented("ch03.2: sub"); }
template <typename T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) { throw course::NotImplemented("ch03.2: mul"); }
template <typename T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) { throw course::NotImplemented("ch03.2: div"); }
template <typename T>
Tensor<T> neg(const Tensor<T>& x) { throw course::NotImplemented("ch03.2: neg"); }
template <typename T>
Tensor<T> exp(const Tensor<T>& x) { throw course::NotImplemented("ch03.2: exp"); }
template <typename T>
Tensor<T> log(const Tensor<T>& x) { throw course::NotImplemented("ch03.2: log"); }
template <typename T>
Tensor<T> relu(const Tensor<T>& x) { throw course::NotImplemented("ch03.2: relu"); }

// TODO(ch03.3): reductions. A summed element's gradient is the sum's gradient, broadcast back:
// reshape g to the keepdim shape, then broadcast_to the input's shape (a view, no copy).
template <typename T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  throw course::NotImplemented("ch03.3: sum");
}
template <typename T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  throw course::NotImplemented("ch03.3: mean");
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

// Given, as the example of a movement op: the gradient moves back the other way.
template <typename T>
Tensor<T> reshape(const Tensor<T>& x, const Shape& shape) {
  const Shape in_shape = x.shape();
  return Tensor<T>::from_op("reshape", x.value().reshape(shape), {x},
                            [in_shape](const ch02::Tensor<T>& g) { return std::vector{g.reshape(in_shape)}; });
}

// TODO(ch03.3): permute (the gradient goes through the inverse permutation), transpose,
// expand (the gradient of a broadcast is a sum: sum_to_shape).
template <typename T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& order) {
  throw course::NotImplemented("ch03.3: permute");
}
template <typename T>
Tensor<T> transpose(const Tensor<T>& x, int axis0, int axis1) {
  throw course::NotImplemented("ch03.3: transpose");
}
template <typename T>
Tensor<T> expand(const Tensor<T>& x, const Shape& shape) {
  throw course::NotImplemented("ch03.3: expand");
}

template <typename T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  // TODO(ch03.4): C = A B gives dA = G B^T and dB = A^T G; the transposes are views. Skip
  // the product for an operand that does not require grad (return any tensor: it is dropped):
  // for a network's first layer that saves a whole matmul per step.
  throw course::NotImplemented("ch03.4: matmul");
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
