// Reverse-mode autograd on chapter 2's tensors: every op records its inputs and a backward
// rule; backward() replays the rules from the loss to the leaves.
//
//   using ch03::Tensor;
//   Tensor<float> w(ch02::FloatTensor::from_vector({2, 2}, {1, 2, 3, 4}), /*requires_grad=*/true);
//   Tensor<float> x(ch02::FloatTensor::from_vector({3, 2}, {1, 0, 0, 1, 1, 1}));  // a constant
//   Tensor<float> loss = sum(relu(matmul(x, w)));    // records matmul, relu, sum
//   loss.backward();                                  // d loss / d every leaf that requires grad
//   w.grad().to_vector()                              // {2, 2, 2, 2}
//   x.has_grad()                                      // false: x does not require grad
//   { ch03::NoGradGuard no_grad;  /* ops in here record nothing (evaluation, optimizer steps) */ }
//
// A Tensor is a handle to a Node (shared_ptr): copies share the node, so a parameter held by a
// layer and by an optimizer is one parameter. Gradients accumulate across backward() calls, as
// in PyTorch; zero_grad() clears them. Only leaves keep their gradient.
//
// Like ch02, everything is a template over the element type: float32 trains, float64 checks
// gradients against finite differences.
#ifndef CH03_AUTOGRAD_H_
#define CH03_AUTOGRAD_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ch02/ops.h"
#include "ch02/tensor.h"

namespace ch03 {

using ch02::Shape;

template <typename T>
struct Node;

// Given d loss / d output, returns d loss / d input for every input, in the order of the inputs
// and each with its input's shape. Entries for inputs that do not require grad are dropped
// unread, so they may be anything (a rule may skip work for them: see matmul).
template <typename T>
using BackwardFn = std::function<std::vector<ch02::Tensor<T>>(const ch02::Tensor<T>& grad_output)>;

template <typename T>
struct Node {
  ch02::Tensor<T> value;
  bool requires_grad = false;
  std::optional<ch02::Tensor<T>> grad;  // leaves only, once backward() reached them
  std::string op = "leaf";               // for messages: "mul", "matmul", ...
  std::vector<std::shared_ptr<Node>> inputs;
  BackwardFn<T> backward;                // empty for leaves
};

template <typename T>
class Tensor {
 public:
  // A scalar 0 constant.
  Tensor() : Tensor(ch02::Tensor<T>()) {}
  // ch03.1: a leaf: a parameter (requires_grad) or a constant (inputs, labels).
  explicit Tensor(ch02::Tensor<T> value, bool requires_grad = false);

  // ch03.1: the result of an op. It records `inputs` and `backward` only when gradients are
  // enabled (no NoGradGuard alive) and some input requires grad; otherwise it is a constant.
  static Tensor from_op(std::string op, ch02::Tensor<T> value, const std::vector<Tensor>& inputs,
                        BackwardFn<T> backward);

  const ch02::Tensor<T>& value() const { return node_->value; }
  const Shape& shape() const { return node_->value.shape(); }
  size_t ndim() const { return node_->value.ndim(); }
  bool requires_grad() const { return node_->requires_grad; }
  bool is_leaf() const { return !node_->backward; }
  const std::shared_ptr<Node<T>>& node() const { return node_; }

  // ch03.1: the accumulated gradient of a leaf; std::logic_error if there is none yet.
  bool has_grad() const { return node_->grad.has_value(); }
  const ch02::Tensor<T>& grad() const;
  void zero_grad() { node_->grad.reset(); }

  // ch03.1: d this / d every leaf that requires grad, added into the leaves' grad. backward()
  // needs a tensor with one element (the loss) and seeds with 1; backward(seed) seeds with a
  // tensor of this tensor's shape, which computes d sum(this * seed) / d leaf. Throws
  // std::invalid_argument for a non-scalar without seed or a seed of the wrong shape, and
  // std::logic_error when an op's backward returns a gradient of the wrong shape or count.
  void backward() const;
  void backward(const ch02::Tensor<T>& seed) const;

  // The same value, cut off from the graph (a constant that shares storage).
  Tensor detach() const { return Tensor(node_->value); }
  // Replaces a leaf's value (what an optimizer step does); shape must stay the same.
  void set_value(ch02::Tensor<T> value);

 private:
  std::shared_ptr<Node<T>> node_;
};

// While one of these lives (on this thread), ops record no graph.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
bool grad_enabled();

// ch03.2: sums grad over the axes along which `shape` was broadcast up to grad's shape, so
// that the result has `shape` (the backward rule of broadcasting). grad.shape() must be
// broadcast_shapes(shape, grad.shape()).
template <typename T> ch02::Tensor<T> sum_to_shape(const ch02::Tensor<T>& grad, const Shape& shape);

// ch03.2: elementwise, with chapter 2's broadcasting.
template <typename T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> neg(const Tensor<T>& x);
template <typename T> Tensor<T> exp(const Tensor<T>& x);
template <typename T> Tensor<T> log(const Tensor<T>& x);
template <typename T> Tensor<T> relu(const Tensor<T>& x);

// ch03.3: reductions (axes as in ch02: negative allowed, empty reduces nothing) and movement.
template <typename T> Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> sum(const Tensor<T>& x);   // every axis, to a scalar
template <typename T> Tensor<T> mean(const Tensor<T>& x);
template <typename T> Tensor<T> reshape(const Tensor<T>& x, const Shape& shape);
template <typename T> Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& order);
template <typename T> Tensor<T> transpose(const Tensor<T>& x, int axis0, int axis1);
template <typename T> Tensor<T> expand(const Tensor<T>& x, const Shape& shape);

// ch03.4: (M, K) @ (K, N), with ch02's blocked matmul.
template <typename T> Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b);

// A constant (requires no grad) holding one value, for the operators below.
template <typename T> Tensor<T> constant(T value) { return Tensor<T>(ch02::Tensor<T>::scalar(value)); }

template <typename T> Tensor<T> operator-(const Tensor<T>& x) { return neg(x); }
template <typename T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <typename T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <typename T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <typename T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <typename T> Tensor<T> operator+(const Tensor<T>& a, std::type_identity_t<T> s) { return add(a, constant<T>(s)); }
template <typename T> Tensor<T> operator-(const Tensor<T>& a, std::type_identity_t<T> s) { return sub(a, constant<T>(s)); }
template <typename T> Tensor<T> operator*(const Tensor<T>& a, std::type_identity_t<T> s) { return mul(a, constant<T>(s)); }
template <typename T> Tensor<T> operator/(const Tensor<T>& a, std::type_identity_t<T> s) { return div(a, constant<T>(s)); }
template <typename T> Tensor<T> operator*(std::type_identity_t<T> s, const Tensor<T>& a) { return mul(constant<T>(s), a); }

extern template class Tensor<float>;
extern template class Tensor<double>;

}  // namespace ch03

#endif  // CH03_AUTOGRAD_H_
