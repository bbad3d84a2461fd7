// ch04::Tensor: the user's handle on a lazy value, with autograd. Operations only build graph;
// realize(), to_vector() and item() run it.
//
//   Tensor::manual_seed(0);
//   Tensor x({1, 2, 3, 4, 5, 6}, {2, 3});            // float32, row-major
//   Tensor w = Tensor::randn({3, 4}).requires_grad_();
//   Tensor y = (x.matmul(w) + 1.0).relu();           // reshape, expand, MUL, SUM, ADD, MAX: lazy
//   Tensor loss = y.sum();
//   loss.backward();                                 // w.grad() is a lazy (3, 4) tensor
//   std::vector<double> g = w.grad().to_vector();    // the Interpreter runs now
//
// Three layers, each written with the one below:
//   primitives   one lazy op each, recording how to differentiate it (GradNode): neg, exp2,
//                log2, sin, sqrt, reciprocal, + - * /, maximum, lt, ne, where, sum, max,
//                reshape, permute, expand, pad, shrink, flip, contiguous
//   composed     exp = exp2(x / ln 2), relu = maximum(x, 0), mean, var, transpose, ...
//                (given) and matmul, softmax, cross_entropy, pool, conv2d (ch04.8, ch04.9):
//                no backward code at all, their gradients come from the primitives'
//   autograd     backward() (ch04.6) walks the recorded GradNodes from the loss back
// Binary ops broadcast numpy-style by an explicit reshape and expand, so the gradient of a
// broadcast is the expand rule (a sum). Both operands must have one dtype (std::invalid_argument
// otherwise); shape mistakes throw ShapeError naming the op and the shapes. Negative axes count
// from the end. Copies of a Tensor share the value and the gradient, as in PyTorch.
#ifndef CH04_TENSOR_H_
#define CH04_TENSOR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ch04/autograd.h"
#include "ch04/lazy.h"
#include "ch04/realize.h"
#include "ch04/shapetracker.h"

namespace ch04 {

struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined (defined() is false), like a missing gradient
  Tensor(const std::vector<float>& data, const Shape& shape);  // float32, data.size() == prod(shape)
  static Tensor from_vector(const std::vector<double>& data, const Shape& shape,
                            DType dtype = DType::kFloat32);
  static Tensor from_lazy(LazyRef lazy);  // no gradient history

  // --- creation. Constants are free (a CONST view); arange and the random ones are loads.
  static Tensor full(const Shape& shape, double value, DType dtype = DType::kFloat32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::kFloat32) { return full(shape, 0, dtype); }
  static Tensor ones(const Shape& shape, DType dtype = DType::kFloat32) { return full(shape, 1, dtype); }
  static Tensor arange(int64_t n, DType dtype = DType::kFloat32);  // 0, 1, ..., n-1
  // From one global std::mt19937_64 (seed it with manual_seed): uniform draws are
  // lo + (hi - lo) * (rng() >> 11) * 2^-53, as tinyref's, so equal seeds give equal tensors.
  static Tensor uniform(const Shape& shape, double lo, double hi, DType dtype = DType::kFloat32);
  static Tensor rand(const Shape& shape, DType dtype = DType::kFloat32) { return uniform(shape, 0, 1, dtype); }
  static Tensor randn(const Shape& shape, DType dtype = DType::kFloat32);  // Box-Muller, as tinyref
  static void manual_seed(uint64_t seed);

  // --- what it is
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t ndim() const { return static_cast<int64_t>(shape().size()); }
  int64_t numel() const { return prod(shape()); }
  DType dtype() const;
  const LazyRef& lazy() const;

  // --- running it
  Tensor& realize();                   // ch04::realize on this tensor's node
  std::vector<double> to_vector() const;  // realizes, then reads every element in row-major order
  double item() const;                 // the one element of a tensor with numel() == 1

  // --- elementwise primitives (one op each)
  Tensor neg() const;
  Tensor exp2() const;
  Tensor log2() const;
  Tensor sin() const;
  Tensor sqrt() const;
  Tensor reciprocal() const;
  Tensor maximum(const Tensor& other) const;
  Tensor lt(const Tensor& other) const;  // 1 where this < other, else 0
  Tensor ne(const Tensor& other) const;  // 1 where this != other, else 0
  // this != 0 ? a : b, broadcasting all three.
  Tensor where(const Tensor& a, const Tensor& b) const;

  // --- arithmetic, broadcasting numpy-style; a double is a constant of the tensor's dtype
  friend Tensor operator+(const Tensor& x, const Tensor& y);
  friend Tensor operator+(const Tensor& x, double y);
  friend Tensor operator+(double x, const Tensor& y);
  friend Tensor operator-(const Tensor& x, const Tensor& y);
  friend Tensor operator-(const Tensor& x, double y);
  friend Tensor operator-(double x, const Tensor& y);
  friend Tensor operator-(const Tensor& x);
  friend Tensor operator*(const Tensor& x, const Tensor& y);
  friend Tensor operator*(const Tensor& x, double y);
  friend Tensor operator*(double x, const Tensor& y);
  friend Tensor operator/(const Tensor& x, const Tensor& y);
  friend Tensor operator/(const Tensor& x, double y);
  friend Tensor operator/(double x, const Tensor& y);

  // --- elementwise, composed (given)
  Tensor exp() const;       // exp2(x / ln 2)
  Tensor log() const;       // log2(x) * ln 2
  Tensor square() const;    // x * x
  Tensor relu() const;      // maximum(x, 0)
  Tensor sigmoid() const;   // 1 / (1 + exp(-x))
  Tensor tanh() const;      // 2 * sigmoid(2x) - 1
  Tensor gt(const Tensor& other) const { return other.lt(*this); }
  Tensor eq(const Tensor& other) const;  // ne(ne(x, y), 1)

  // --- reductions (axes empty: all of them; keepdim keeps them with size 1)
  Tensor sum(const std::vector<int>& axes = {}, bool keepdim = false) const;  // SUM
  Tensor max(const std::vector<int>& axes = {}, bool keepdim = false) const;  // RMAX
  Tensor mean(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor var(const std::vector<int>& axes = {}, bool keepdim = false, int correction = 1) const;

  // --- movement: views, no copy
  Tensor reshape(const Shape& shape) const;  // one entry may be -1
  Tensor permute(const std::vector<int>& order) const;
  Tensor transpose(int a = -2, int b = -1) const;
  Tensor expand(const Shape& shape) const;   // numpy rules: new axes on the left; -1 keeps one
  Tensor pad(const Pairs& before_after, double value = 0) const;
  Tensor shrink(const Pairs& lo_hi) const;
  Tensor flip(const std::vector<int>& axes) const;
  Tensor flatten(int start = 0) const;       // axes start.. merged into one
  Tensor unsqueeze(int axis) const;
  Tensor squeeze(int axis) const;
  Tensor contiguous() const;                 // a CONTIGUOUS node (a copy, when realized)
  Tensor detach() const;                     // the same value, no gradient history

  // --- neural-network ops, composed of the above (ch04.8, ch04.9)
  Tensor matmul(const Tensor& w) const;      // (..., n, k) @ (..., k, m) -> (..., n, m)
  Tensor linear(const Tensor& weight, const Tensor& bias = Tensor()) const;  // x @ weight^T + bias
  Tensor softmax(int axis = -1) const;
  Tensor log_softmax(int axis = -1) const;
  // Mean over the batch of -log_softmax(logits)[n, target[n]]: logits (N, C), target (N,)
  // holding class indices 0..C-1 as whole numbers in the logits' dtype.
  Tensor cross_entropy(const Tensor& target) const;
  // Sliding windows over the last kernel.size() axes, views only: (..., h, w) ->
  // (..., oh, ow, kh, kw) with out[..., i, j, a, b] = x[..., i*stride[0] + a, j*stride[1] + b]
  // and oh = (h - kh) / stride[0] + 1 (windows that do not fit are left out).
  Tensor pool(const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride) const;
  // NCHW input, (Cout, Cin, KH, KW) weight, optional (Cout,) bias.
  Tensor conv2d(const Tensor& weight, const Tensor& bias = Tensor(), int stride = 1, int padding = 0) const;
  Tensor max_pool2d(int kernel = 2) const;   // stride = kernel, over the last two axes

  // --- autograd
  Tensor& requires_grad_(bool on = true);
  bool requires_grad() const;
  Tensor grad() const;   // undefined until backward() reaches this tensor
  void zero_grad();
  // ch04.6: d this / d x for every x that requires grad, added into x.grad(); this must have
  // one element. Afterwards the recorded graph is released (a second backward() needs a new
  // forward pass).
  void backward() const;

  // Makes this tensor's value other's (same shape and dtype), dropping its history: the
  // optimizers' p.assign(p - lr * g). Every copy of this Tensor sees the new value.
  Tensor& assign(const Tensor& other);

 private:
  friend struct TensorOps;  // the primitive layer, tensor_internal.h
  explicit Tensor(std::shared_ptr<TensorImpl> impl);

  // Throws for an undefined tensor.
  const TensorImpl& impl() const;
  // Shared by every copy: the value, the gradient and the history.
  std::shared_ptr<TensorImpl> impl_;
};

// Realizes several tensors in one call of the engine (shared work runs once).
void realize_all(const std::vector<Tensor>& tensors);

// While one is alive, new ops record no gradient history (optimizer steps, evaluation).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;  // and no assignment: the member is const

 private:
  const bool was_recording_;  // what the destructor restores
};

}  // namespace ch04

#endif  // CH04_TENSOR_H_
