// tinyref::Tensor: the user's handle on a lazy value. Operations build graph; to_vector(),
// item() and realize() run it. Gradients come from backward() on a scalar.
//
//   using namespace tinyref;
//   Tensor x({1, 2, 3, 4, 5, 6}, {2, 3});                // float32 from host data, row-major
//   Tensor w = Tensor::randn({3, 4}).requires_grad_();   // seeded: Tensor::manual_seed(0)
//   Tensor y = (x.matmul(w) + 1.0).relu();               // nothing has run yet
//   Tensor loss = y.sum();
//   loss.backward();                                     // w.grad() is now a lazy (3, 4) tensor
//   std::vector<float> g = w.grad().to_vector<float>();  // runs the kernels
//   float total = loss.item<float>();
//
// Conventions: shapes are row-major, the last axis innermost; negative axes count from the
// end; binary ops broadcast numpy-style and promote dtypes (bool < uint8 < int32 < float32 <
// float64); reductions drop the reduced axes unless keepdim. Every user mistake throws
// tinyref::Error naming the op and the shapes involved. Copies of a Tensor share the value
// (and its gradient), as in PyTorch.
#ifndef TINYREF_TENSOR_H_
#define TINYREF_TENSOR_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinyref/dtype.h"
#include "tinyref/error.h"
#include "tinyref/lazy/lazybuffer.h"
#include "tinyref/shape/view.h"

namespace tinyref {

struct TensorImpl;

// One axis of Tensor::slice: [start, stop) with step; negative start/stop count from the end.
struct Slice {
  Slice() = default;
  Slice(std::optional<int64_t> start_, std::optional<int64_t> stop_ = std::nullopt, int64_t step_ = 1)  // NOLINT
      : start(start_), stop(stop_), step(step_) {}
  std::optional<int64_t> start;  // absent: the first element (the last for a negative step)
  std::optional<int64_t> stop;   // absent: past the last element (before the first, step < 0)
  int64_t step = 1;
};

class Tensor {
 public:
  Tensor() = default;
  // float32 data of the given shape (data.size() must equal its element count).
  Tensor(const std::vector<float>& data, const Shape& shape, const std::string& device = "");
  template <typename T>
  static Tensor from_vector(const std::vector<T>& data, const Shape& shape, const std::string& device = "");
  static Tensor from_buffer(const void* data, DType dtype, const Shape& shape, const std::string& device = "");
  static Tensor from_lazy(LazyRef lazy);

  // --- creation
  static Tensor full(const Shape& shape, double value, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor zeros(const Shape& shape, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor ones(const Shape& shape, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor scalar(double value, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor arange(double start, double stop, double step = 1, DType dtype = DType::kFloat32,
                       const std::string& device = "");
  static Tensor arange(int64_t stop, DType dtype = DType::kFloat32) { return arange(0, static_cast<double>(stop), 1, dtype); }
  static Tensor eye(int64_t n, DType dtype = DType::kFloat32, const std::string& device = "");
  // Random values from the global generator (seed it with manual_seed).
  static Tensor rand(const Shape& shape, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor randn(const Shape& shape, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor uniform(const Shape& shape, double low, double high, DType dtype = DType::kFloat32,
                        const std::string& device = "");
  static Tensor randint(const Shape& shape, int64_t low, int64_t high, const std::string& device = "");
  static void manual_seed(uint64_t seed);

  // --- what it is
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t ndim() const { return static_cast<int64_t>(shape().size()); }
  int64_t numel() const;
  int64_t size(int axis) const;
  DType dtype() const;
  const std::string& device() const;
  const LazyRef& lazy() const;

  // --- running it
  Tensor& realize();
  template <typename T>
  std::vector<T> to_vector() const;  // T must be the tensor's dtype (float for float32, ...)
  std::vector<double> to_doubles() const;  // any dtype, converted
  double item() const;                     // one element, any dtype
  template <typename T>
  T item() const { return static_cast<T>(item()); }

  // --- elementwise
  Tensor neg() const;
  Tensor exp() const;
  Tensor exp2() const;
  Tensor log() const;
  Tensor log2() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tan() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor reciprocal() const;
  Tensor square() const;
  Tensor abs() const;
  Tensor sign() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor gelu() const;  // tanh approximation, as tinygrad
  Tensor silu() const;
  Tensor leaky_relu(double slope = 0.01) const;
  Tensor pow(double exponent) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  Tensor clip(double lo, double hi) const;
  Tensor where(const Tensor& if_true, const Tensor& if_false) const;  // this is the condition
  Tensor lt(const Tensor& o) const;
  Tensor gt(const Tensor& o) const;
  Tensor le(const Tensor& o) const;
  Tensor ge(const Tensor& o) const;
  Tensor eq(const Tensor& o) const;
  Tensor ne(const Tensor& o) const;
  Tensor logical_not() const;
  Tensor logical_and(const Tensor& o) const;  // bool tensors
  Tensor idiv(const Tensor& o) const;  // integer division (C truncation), integer dtypes only
  Tensor mod(const Tensor& o) const;   // integer remainder (C sign rules), integer dtypes only
  Tensor fma(const Tensor& b, const Tensor& c) const;  // this*b+c in one op (MULACC)
  Tensor cast(DType dtype) const;
  Tensor float32() const { return cast(DType::kFloat32); }

  // --- reductions (axes empty: all of them)
  Tensor sum(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor max(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor min(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor mean(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor var(const std::vector<int>& axes = {}, bool keepdim = false, int correction = 1) const;
  Tensor std(const std::vector<int>& axes = {}, bool keepdim = false, int correction = 1) const;
  Tensor argmax(int axis = -1, bool keepdim = false) const;  // int32; the first maximum
  Tensor argmin(int axis = -1, bool keepdim = false) const;
  Tensor logsumexp(int axis, bool keepdim = false) const;
  Tensor softmax(int axis = -1) const;
  Tensor log_softmax(int axis = -1) const;

  // --- movement (zero-copy views)
  Tensor reshape(const Shape& shape) const;  // one entry may be -1
  Tensor permute(const std::vector<int>& order) const;
  Tensor transpose(int a = -2, int b = -1) const;
  Tensor expand(const Shape& shape) const;    // -1 keeps a dimension
  Tensor pad(const Pairs& before_after, double value = 0) const;
  Tensor shrink(const Pairs& lo_hi) const;
  Tensor flip(const std::vector<int>& axes) const;
  Tensor flatten(int start = 0, int end = -1) const;
  Tensor unsqueeze(int axis) const;
  Tensor squeeze(int axis) const;
  Tensor slice(const std::vector<Slice>& slices) const;  // one per leading axis
  Tensor operator[](int64_t index) const;                // select along axis 0
  Tensor repeat(const std::vector<int64_t>& repeats) const;
  static Tensor cat(const std::vector<Tensor>& tensors, int axis = 0);
  static Tensor stack(const std::vector<Tensor>& tensors, int axis = 0);
  Tensor contiguous() const;
  Tensor detach() const;
  Tensor to(const std::string& device) const;

  // --- linear algebra and neural-network ops (composed of the above)
  Tensor matmul(const Tensor& w) const;
  Tensor linear(const Tensor& weight, const Tensor& bias = Tensor()) const;  // x @ weight.T + bias
  Tensor conv2d(const Tensor& weight, const Tensor& bias = Tensor(), int stride = 1, int padding = 0,
                int dilation = 1, int groups = 1) const;  // NCHW input, (Cout, Cin/groups, KH, KW) weight
  // No stride: the kernel. Padding at most half the window (PyTorch's rule); max pads with -inf.
  Tensor max_pool2d(int kernel = 2, std::optional<int> stride = std::nullopt, int dilation = 1, int padding = 0) const;
  Tensor avg_pool2d(int kernel = 2, std::optional<int> stride = std::nullopt, int padding = 0) const;
  // Mean over the batch of -log softmax(logits)[target]; target is int32 class indices (N,).
  Tensor cross_entropy(const Tensor& target) const;
  // Sliding windows over the last len(kernel) axes: (..., o1, o2, k1, k2) with stride/dilation.
  Tensor pool(const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
              const std::vector<int64_t>& dilation) const;

  // --- autograd
  Tensor& requires_grad_(bool on = true);
  bool requires_grad() const;
  Tensor grad() const;  // undefined Tensor until backward() reaches this leaf
  void zero_grad();
  void backward();      // this must have one element

  // The current value, replaced by other's (used by optimizers: p.assign(p - lr * g)).
  Tensor& assign(const Tensor& other);

 private:
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  TensorImpl& impl() const;  // throws on an undefined Tensor; copies share the one impl
  friend class TensorOps;
  std::shared_ptr<TensorImpl> impl_;
};

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);

// While alive, new ops record no gradients (optimizer steps, evaluation).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Realizes several tensors in one schedule (shared work runs once).
void realize_all(const std::vector<Tensor>& tensors);
// How many kernels realizing these tensors would run now (nothing runs).
int count_kernels(const std::vector<Tensor>& tensors);

}  // namespace tinyref

#endif  // TINYREF_TENSOR_H_
