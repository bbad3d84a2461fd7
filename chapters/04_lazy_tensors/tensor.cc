// The Tensor core (given): what a tensor holds, creation, reading values out, the primitive
// layer and the elementwise front end. Movement and reductions are in tensor_shape.cc, the
// composed network ops in tensor_nn.cc, backward() in backward.cc.
#include <cmath>
#include <random>
#include <stdexcept>

#include "ch04/tensor.h"
#include "tensor_internal.h"  // private to the chapter: not under ch04/

namespace ch04 {

namespace {

// The state every Tensor shares: whether ops record gradients, and the random generator.
struct Global {
  bool grad_on = true;
  std::mt19937_64 random{0};
};
Global& global() {
  static Global g;
  return g;
}

double unit_draw() { return static_cast<double>(global().random() >> 11) * 0x1.0p-53; }  // in [0, 1)

Tensor scalar_like(const Tensor& x, double v) { return Tensor::full({}, v, x.dtype()); }

// One binary primitive on two tensors broadcast to one shape; `name` names shape errors.
Tensor binary(Op op, const Tensor& x, const Tensor& y, const char* name);

}  // namespace

// ---------------------------------------------------------------------------- the primitive layer

bool TensorOps::grad_enabled() { return global().grad_on; }

Tensor TensorOps::record(LazyRef out, Op op, const OpArg& arg, const std::vector<Tensor>& srcs) {
  auto t = std::make_shared<TensorImpl>();
  t->lazy = std::move(out);
  bool needs_grad = false;
  for (const Tensor& s : srcs) needs_grad = needs_grad || s.requires_grad();
  if (global().grad_on && needs_grad && has_backward_rule(op)) {
    t->requires_grad = true;
    t->grad_fn = std::make_shared<GradFn>();
    t->grad_fn->node = {op, arg, {}, t->lazy};
    for (const Tensor& s : srcs) {
      t->grad_fn->node.inputs.push_back(s.lazy());
      t->grad_fn->parents.push_back(s.impl_);
    }
  }
  return Tensor(t);
}

Tensor TensorOps::record_custom(LazyRef out, const std::vector<Tensor>& srcs,
                                std::function<std::vector<LazyRef>(const LazyRef& grad)> backward) {
  Tensor t = record(std::move(out), Op::CONTIGUOUS, {}, srcs);  // any op with a rule will do
  if (t.impl_->grad_fn) t.impl_->grad_fn->custom = std::move(backward);
  return t;
}

Tensor TensorOps::alu(Op op, const std::vector<Tensor>& srcs) {
  std::vector<LazyRef> lazies;
  for (const Tensor& s : srcs) lazies.push_back(s.lazy());
  return record(LazyBuffer::alu(op, lazies), op, {}, srcs);
}

std::vector<Tensor> TensorOps::broadcast(const std::vector<Tensor>& xs, const char* op) {
  size_t ndim = 0;
  for (const Tensor& x : xs) ndim = std::max<size_t>(ndim, x.ndim());
  Shape out(ndim, 1);
  std::string shapes;
  for (const Tensor& x : xs) shapes += (shapes.empty() ? "" : " and ") + shape_str(x.shape());
  for (const Tensor& x : xs) {
    if (x.dtype() != xs[0].dtype()) {
      throw std::invalid_argument(std::string(op) + ": dtypes " + dtype_name(xs[0].dtype()) + " and " +
                                  dtype_name(x.dtype()) + " differ");
    }
    for (size_t i = 0; i < x.shape().size(); ++i) {  // aligned at the right
      int64_t& o = out[ndim - x.shape().size() + i];
      const int64_t d = x.shape()[i];
      if (o == 1) {
        o = d;
      } else if (d != 1 && d != o) {
        throw ShapeError(std::string(op) + ": shapes " + shapes + " do not broadcast");
      }
    }
  }
  std::vector<Tensor> result;
  for (const Tensor& x : xs) {
    Shape ones_left(ndim - x.shape().size(), 1);
    ones_left.insert(ones_left.end(), x.shape().begin(), x.shape().end());
    result.push_back(x.reshape(ones_left).expand(out));
  }
  return result;
}

int TensorOps::axis(const Tensor& x, int axis, const char* op) {
  const int n = static_cast<int>(x.ndim());
  if (axis < -n || axis >= n) {
    throw ShapeError(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for shape " +
                     shape_str(x.shape()));
  }
  return axis < 0 ? axis + n : axis;
}

std::vector<int> TensorOps::axes(const Tensor& x, const std::vector<int>& axes, const char* op) {
  std::vector<int> out;
  for (int a : axes) out.push_back(axis(x, a, op));
  if (axes.empty()) {
    for (int a = 0; a < x.ndim(); ++a) out.push_back(a);
  }
  return out;
}

namespace {
Tensor binary(Op op, const Tensor& x, const Tensor& y, const char* name) {
  return TensorOps::alu(op, TensorOps::broadcast({x, y}, name));
}
}  // namespace

// ---------------------------------------------------------------------------- creation

Tensor::Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

Tensor Tensor::from_lazy(LazyRef lazy) {
  auto t = std::make_shared<TensorImpl>();
  t->lazy = std::move(lazy);
  return Tensor(t);
}

Tensor Tensor::from_vector(const std::vector<double>& data, const Shape& shape, DType dtype) {
  for (int64_t d : shape) {
    if (d < 0) throw ShapeError("from_vector: negative size in " + shape_str(shape));
  }
  if (static_cast<int64_t>(data.size()) != prod(shape)) {
    throw ShapeError("from_vector: " + std::to_string(data.size()) + " values for shape " + shape_str(shape) + " (" +
                     std::to_string(prod(shape)) + " elements)");
  }
  auto buf = std::make_shared<Buffer>(dtype, prod(shape));
  for (size_t i = 0; i < data.size(); ++i) buf->set(static_cast<int64_t>(i), data[i]);
  return from_lazy(LazyBuffer::load(std::move(buf), shape));
}

Tensor::Tensor(const std::vector<float>& data, const Shape& shape)
    : Tensor(from_vector(std::vector<double>(data.begin(), data.end()), shape, DType::kFloat32)) {}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  for (int64_t d : shape) {
    if (d < 0) throw ShapeError("full: negative size in " + shape_str(shape));
  }
  return from_lazy(LazyBuffer::constant(value, dtype, shape));
}

Tensor Tensor::arange(int64_t n, DType dtype) {
  std::vector<double> v(std::max<int64_t>(n, 0));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return from_vector(v, {static_cast<int64_t>(v.size())}, dtype);
}

void Tensor::manual_seed(uint64_t seed) { global().random.seed(seed); }

Tensor Tensor::uniform(const Shape& shape, double lo, double hi, DType dtype) {
  std::vector<double> v(prod(shape));
  for (double& x : v) x = lo + (hi - lo) * unit_draw();
  return from_vector(v, shape, dtype);
}

Tensor Tensor::randn(const Shape& shape, DType dtype) {
  std::vector<double> v(prod(shape));
  for (double& x : v) {  // Box-Muller: two uniform draws, one normal value
    const double u1 = unit_draw() + 0x1.0p-53, u2 = unit_draw();
    x = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }
  return from_vector(v, shape, dtype);
}

// ---------------------------------------------------------------------------- what it is, read-out

const TensorImpl& Tensor::impl() const {
  if (!impl_) throw std::invalid_argument("Tensor: use of an undefined tensor (default-constructed, or a missing grad)");
  return *impl_;
}
const Shape& Tensor::shape() const { return impl().lazy->shape(); }
DType Tensor::dtype() const { return impl().lazy->dtype(); }
const LazyRef& Tensor::lazy() const { return impl().lazy; }

Tensor& Tensor::realize() {
  ch04::realize({lazy()});
  return *this;
}

void realize_all(const std::vector<Tensor>& tensors) {
  std::vector<LazyRef> outs;
  for (const Tensor& t : tensors) outs.push_back(t.lazy());
  realize(outs);
}

std::vector<double> Tensor::to_vector() const {
  realize_all({*this});
  const ShapeTracker& st = lazy()->st();
  Buffer& buf = *lazy()->buffer();
  std::vector<double> out(numel());
  Shape idx(ndim(), 0);
  for (int64_t i = 0; i < numel(); ++i) {  // row-major odometer over idx
    const int64_t pos = st.is_contiguous() ? i : st.index(idx);
    out[i] = pos < 0 ? 0.0 : buf.get(pos);
    for (int64_t d = ndim() - 1; d >= 0 && ++idx[d] == shape()[d]; --d) idx[d] = 0;
  }
  return out;
}

double Tensor::item() const {
  if (numel() != 1) throw ShapeError("item: needs exactly one element, the shape is " + shape_str(shape()));
  return to_vector()[0];
}

// ---------------------------------------------------------------------------- elementwise

Tensor Tensor::neg() const { return TensorOps::alu(Op::NEG, {*this}); }
Tensor Tensor::exp2() const { return TensorOps::alu(Op::EXP2, {*this}); }
Tensor Tensor::log2() const { return TensorOps::alu(Op::LOG2, {*this}); }
Tensor Tensor::sin() const { return TensorOps::alu(Op::SIN, {*this}); }
Tensor Tensor::sqrt() const { return TensorOps::alu(Op::SQRT, {*this}); }
Tensor Tensor::reciprocal() const { return TensorOps::alu(Op::RECIP, {*this}); }
Tensor Tensor::maximum(const Tensor& o) const { return binary(Op::MAX, *this, o, "maximum"); }
Tensor Tensor::lt(const Tensor& o) const { return binary(Op::CMPLT, *this, o, "lt"); }
Tensor Tensor::ne(const Tensor& o) const { return binary(Op::CMPNE, *this, o, "ne"); }
Tensor Tensor::where(const Tensor& a, const Tensor& b) const {
  return TensorOps::alu(Op::WHERE, TensorOps::broadcast({*this, a, b}, "where"));
}

Tensor operator+(const Tensor& x, const Tensor& y) { return binary(Op::ADD, x, y, "add"); }
Tensor operator+(const Tensor& x, double y) { return x + scalar_like(x, y); }
Tensor operator+(double x, const Tensor& y) { return scalar_like(y, x) + y; }
Tensor operator-(const Tensor& x, const Tensor& y) { return binary(Op::SUB, x, y, "sub"); }
Tensor operator-(const Tensor& x, double y) { return x - scalar_like(x, y); }
Tensor operator-(double x, const Tensor& y) { return scalar_like(y, x) - y; }
Tensor operator-(const Tensor& x) { return x.neg(); }
Tensor operator*(const Tensor& x, const Tensor& y) { return binary(Op::MUL, x, y, "mul"); }
Tensor operator*(const Tensor& x, double y) { return x * scalar_like(x, y); }
Tensor operator*(double x, const Tensor& y) { return scalar_like(y, x) * y; }
Tensor operator/(const Tensor& x, const Tensor& y) { return binary(Op::DIV, x, y, "div"); }
Tensor operator/(const Tensor& x, double y) { return x / scalar_like(x, y); }
Tensor operator/(double x, const Tensor& y) { return scalar_like(y, x) / y; }

// Composed: each is a few primitives, and so is its gradient.
Tensor Tensor::exp() const { return (*this * (1 / std::log(2.0))).exp2(); }
Tensor Tensor::log() const { return log2() * std::log(2.0); }
Tensor Tensor::square() const { return *this * *this; }
Tensor Tensor::relu() const { return maximum(scalar_like(*this, 0)); }
Tensor Tensor::sigmoid() const { return (1.0 + neg().exp()).reciprocal(); }
Tensor Tensor::tanh() const { return 2.0 * (*this * 2.0).sigmoid() - 1.0; }
Tensor Tensor::eq(const Tensor& o) const { return ne(o).ne(scalar_like(*this, 1)); }

// ---------------------------------------------------------------------------- autograd plumbing

Tensor& Tensor::requires_grad_(bool on) {
  impl();  // throws for an undefined tensor
  impl_->requires_grad = on;
  return *this;
}
bool Tensor::requires_grad() const { return impl().requires_grad; }
Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
void Tensor::zero_grad() { impl_->grad.reset(); }
Tensor Tensor::detach() const { return from_lazy(lazy()); }

Tensor& Tensor::assign(const Tensor& other) {
  if (other.shape() != shape() || other.dtype() != dtype()) {
    throw ShapeError("assign: a " + std::string(dtype_name(other.dtype())) + " " + shape_str(other.shape()) +
                     " value into a " + dtype_name(dtype()) + " " + shape_str(shape()) + " tensor");
  }
  impl_->lazy = other.lazy();
  impl_->grad_fn.reset();
  return *this;
}

NoGrad::NoGrad() : was_recording_(global().grad_on) { global().grad_on = false; }
NoGrad::~NoGrad() { global().grad_on = was_recording_; }

}  // namespace ch04
