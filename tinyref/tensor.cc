// The Tensor core: construction, read-out, the primitive layer, elementwise math and autograd.
// Movement and reductions are in tensor_shape.cc; matmul, conv and losses in tensor_nn.cc.
#include <cmath>
#include <cstring>
#include <functional>
#include <new>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "tinyref/backends/registry.h"
#include "tinyref/engine/realize.h"
#include "tinyref/schedule/schedule.h"
#include "tinyref/tensor.h"
#include "tinyref/tensor_internal.h"

namespace tinyref {

namespace {

bool grad_enabled = true;
std::mt19937_64& rng() {
  static std::mt19937_64 r(0);
  return r;
}


// Room for the values of a new `op` tensor made on the host, one double each (then converted
// by to_bytes). A negative dimension, an element count past int64, or more bytes than the
// machine has are the caller's mistakes, named with the shape; never a bad_alloc.
std::vector<double> host_values(const char* op, const Shape& shape, DType dt) {
  for (int64_t d : shape) TT_CHECK(d >= 0, op << ": negative dimension in " << shape_str(shape));
  int64_t n = 0;
  try {
    n = prod(shape);
  } catch (const Error& e) {
    TT_CHECK(false, op << ": " << e.what());
  }
  const uint64_t have = host_memory_bytes(), per_value = sizeof(double) + itemsize(dt);
  TT_CHECK(static_cast<uint64_t>(n) <= have / per_value,
           op << ": shape " << shape_str(shape) << " " << dtype_name(dt) << " needs " << static_cast<uint64_t>(n) * itemsize(dt)
              << " bytes (and as many doubles while it is made), more than this machine's " << have << " bytes of memory");
  try {
    return std::vector<double>(static_cast<size_t>(n));
  } catch (const std::bad_alloc&) {
    TT_CHECK(false, op << ": out of host memory for shape " << shape_str(shape) << " " << dtype_name(dt) << " ("
                       << static_cast<uint64_t>(n) * itemsize(dt) << " bytes)");
  }
  return {};
}

// A host vector of doubles in any dtype, as bytes.
std::vector<unsigned char> to_bytes(const std::vector<double>& v, DType dt) {
  std::vector<unsigned char> out(v.size() * itemsize(dt));
  for (size_t i = 0; i < v.size(); ++i) {
    unsigned char* p = out.data() + i * itemsize(dt);
    switch (dt) {
      case DType::kBool: *reinterpret_cast<bool*>(p) = v[i] != 0; break;
      case DType::kUInt8: *p = static_cast<uint8_t>(v[i]); break;
      case DType::kInt32: *reinterpret_cast<int32_t*>(p) = static_cast<int32_t>(v[i]); break;
      case DType::kFloat32: *reinterpret_cast<float*>(p) = static_cast<float>(v[i]); break;
      case DType::kFloat64: *reinterpret_cast<double*>(p) = v[i]; break;
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- primitives

std::string TensorOps::resolve_device(const std::string& device) {
  std::string d = device.empty() ? default_device_name() : device;
  get_device(d);  // throws on unknown names
  return d;
}

Tensor TensorOps::record(LazyRef out, Op op, const LazyArg& arg, const std::vector<Tensor>& srcs) {
  auto impl = std::make_shared<TensorImpl>();
  impl->lazy = std::move(out);
  bool needs = false;
  for (const Tensor& s : srcs) needs = needs || s.impl().requires_grad;
  if (grad_enabled && needs && has_backward_rule(op)) {
    impl->requires_grad = true;
    impl->ctx = std::make_shared<AutogradCtx>();
    impl->ctx->node.op = op;
    impl->ctx->node.arg = arg;
    impl->ctx->node.output = impl->lazy;
    for (const Tensor& s : srcs) {
      impl->ctx->node.inputs.push_back(s.impl().lazy);
      impl->ctx->parents.push_back(s.impl_);
    }
  }
  return Tensor(impl);
}

Tensor TensorOps::record_custom(LazyRef out, const std::vector<Tensor>& srcs,
                               std::function<std::vector<LazyRef>(const LazyRef& grad)> backward) {
  Tensor t = record(std::move(out), Op::CONTIGUOUS, {}, srcs);  // CONTIGUOUS: any op with a rule
  if (t.impl_->ctx) t.impl_->ctx->custom = std::move(backward);
  return t;
}

Tensor TensorOps::alu(Op op, const std::vector<Tensor>& srcs, DType cast_to) {
  std::vector<LazyRef> lz;
  for (const Tensor& s : srcs) lz.push_back(s.impl().lazy);
  return record(LazyBuffer::alu(op, lz, cast_to), op, {}, srcs);
}

Tensor TensorOps::reduce(const Tensor& x, Op op, const std::vector<int>& axes) {
  LazyArg arg;
  arg.ints.assign(axes.begin(), axes.end());
  LazyRef out = x.impl().lazy->reduce(op, axes);
  if (out == x.impl().lazy) return x;
  return record(out, op, arg, {x});
}

Tensor TensorOps::movement(const Tensor& x, Op op, const LazyArg& arg) {
  const LazyRef& l = x.impl().lazy;
  LazyRef out;
  switch (op) {
    case Op::RESHAPE: out = l->reshape(arg.ints); break;
    case Op::PERMUTE: out = l->permute({arg.ints.begin(), arg.ints.end()}); break;
    case Op::EXPAND: out = l->expand(arg.ints); break;
    case Op::PAD: out = l->pad(arg.pairs); break;
    case Op::SHRINK: out = l->shrink(arg.pairs); break;
    case Op::FLIP: out = l->flip({arg.ints.begin(), arg.ints.end()}); break;
    default: TT_ASSERT(false);
  }
  if (out == l) return x;
  return record(out, op, arg, {x});
}

Tensor TensorOps::const_like(const Tensor& x, double value, std::optional<DType> dtype) {
  return wrap(LazyBuffer::constant(value, dtype ? *dtype : x.dtype(), x.device(), x.shape()));
}

std::vector<Tensor> TensorOps::broadcast(std::vector<Tensor> xs, const char* op, bool keep_dtypes) {
  size_t nd = 0;
  DType dt = xs[0].dtype();
  for (const Tensor& x : xs) {
    nd = std::max(nd, x.shape().size());
    dt = promote(dt, x.dtype());
  }
  Shape out(nd, 1);
  for (const Tensor& x : xs) {
    const Shape& s = x.shape();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[nd - s.size() + i];
      if (o == 1) {
        o = s[i];
      } else if (s[i] != 1 && s[i] != o) {
        std::string shapes;
        for (const Tensor& y : xs) shapes += (shapes.empty() ? "" : " and ") + shape_str(y.shape());
        TT_CHECK(false, op << ": shapes " << shapes << " do not broadcast");
      }
    }
  }
  for (Tensor& x : xs) {
    TT_CHECK(x.device() == xs[0].device(),
             op << ": tensors on devices " << xs[0].device() << " and " << x.device() << " (use to())");
    if (!keep_dtypes) x = x.cast(dt);
    Shape padded(nd - x.shape().size(), 1);
    padded.insert(padded.end(), x.shape().begin(), x.shape().end());
    x = x.reshape(padded).expand(out);
  }
  return xs;
}

int TensorOps::axis(const Tensor& x, int axis, const char* op) {
  const int nd = static_cast<int>(x.ndim());
  TT_CHECK(axis >= -nd && axis < std::max(nd, 1),
           op << ": axis " << axis << " is out of range for shape " << shape_str(x.shape()));
  return axis < 0 ? axis + nd : axis;
}

std::vector<int> TensorOps::axes(const Tensor& x, const std::vector<int>& axes, const char* op) {
  std::vector<int> out;
  if (axes.empty()) {
    for (int i = 0; i < x.ndim(); ++i) out.push_back(i);
  }
  for (int a : axes) out.push_back(axis(x, a, op));
  return out;
}

// ---------------------------------------------------------------- construction

Tensor Tensor::from_lazy(LazyRef lazy) {
  auto impl = std::make_shared<TensorImpl>();
  impl->lazy = std::move(lazy);
  return Tensor(impl);
}

Tensor Tensor::from_buffer(const void* data, DType dtype, const Shape& shape, const std::string& device) {
  for (int64_t d : shape) TT_CHECK(d >= 0, "from_buffer: negative dimension in " << shape_str(shape));
  const std::string dev = TensorOps::resolve_device(device);
  auto buf = std::make_shared<Buffer>(get_device(dev), dtype, static_cast<size_t>(prod(shape)));
  buf->copy_in(data);
  return from_lazy(LazyBuffer::buffer(buf, shape, dev));
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& data, const Shape& shape, const std::string& device) {
  TT_CHECK(static_cast<int64_t>(data.size()) == prod(shape),
           "from_vector: " << data.size() << " values for shape " << shape_str(shape) << " (" << prod(shape)
                           << " elements)");
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> bytes(data.begin(), data.end());
    return from_buffer(bytes.data(), DType::kBool, shape, device);
  } else {
    return from_buffer(data.data(), dtype_of<T>(), shape, device);
  }
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, const std::string&);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&, const std::string&);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&, const std::string&);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&, const std::string&);
template Tensor Tensor::from_vector(const std::vector<bool>&, const Shape&, const std::string&);

Tensor::Tensor(const std::vector<float>& data, const Shape& shape, const std::string& device)
    : Tensor(from_vector(data, shape, device)) {}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, const std::string& device) {
  for (int64_t d : shape) TT_CHECK(d >= 0, "full: negative dimension in " << shape_str(shape));
  return from_lazy(LazyBuffer::constant(value, dtype, TensorOps::resolve_device(device), shape));
}
Tensor Tensor::zeros(const Shape& shape, DType dtype, const std::string& device) { return full(shape, 0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, const std::string& device) { return full(shape, 1, dtype, device); }
Tensor Tensor::scalar(double value, DType dtype, const std::string& device) { return full({}, value, dtype, device); }

Tensor Tensor::arange(double start, double stop, double step, DType dtype, const std::string& device) {
  TT_CHECK(step != 0, "arange: step is 0");
  const double count = std::ceil((stop - start) / step);
  TT_CHECK(std::isfinite(count) && count < 0x1p62, "arange: [" << start << ", " << stop << ") in steps of " << step
                                                                << " has too many elements");
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
  std::vector<double> v = host_values("arange", {n}, dtype);
  for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<double>(i) * step;
  return from_buffer(to_bytes(v, dtype).data(), dtype, {n}, device);
}

Tensor Tensor::eye(int64_t n, DType dtype, const std::string& device) {
  std::vector<double> v = host_values("eye", {n, n}, dtype);
  for (int64_t i = 0; i < n; ++i) v[i * n + i] = 1;
  return from_buffer(to_bytes(v, dtype).data(), dtype, {n, n}, device);
}

void Tensor::manual_seed(uint64_t seed) { rng().seed(seed); }

Tensor Tensor::uniform(const Shape& shape, double low, double high, DType dtype, const std::string& device) {
  std::vector<double> v = host_values("uniform", shape, dtype);
  for (double& x : v) x = low + (high - low) * (static_cast<double>(rng()() >> 11) * 0x1.0p-53);
  return from_buffer(to_bytes(v, dtype).data(), dtype, shape, device);
}
Tensor Tensor::rand(const Shape& shape, DType dtype, const std::string& device) { return uniform(shape, 0, 1, dtype, device); }

Tensor Tensor::randn(const Shape& shape, DType dtype, const std::string& device) {
  std::vector<double> v = host_values("randn", shape, dtype);
  for (double& x : v) {  // Box-Muller
    const double u1 = (static_cast<double>(rng()() >> 11) + 1) * 0x1.0p-53;
    const double u2 = static_cast<double>(rng()() >> 11) * 0x1.0p-53;
    x = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }
  return from_buffer(to_bytes(v, dtype).data(), dtype, shape, device);
}

Tensor Tensor::randint(const Shape& shape, int64_t low, int64_t high, const std::string& device) {
  TT_CHECK(low < high, "randint: empty range [" << low << ", " << high << ")");
  std::vector<double> v = host_values("randint", shape, DType::kInt32);
  for (double& x : v) x = static_cast<double>(low + static_cast<int64_t>(rng()() % static_cast<uint64_t>(high - low)));
  return from_buffer(to_bytes(v, DType::kInt32).data(), DType::kInt32, shape, device);
}

// ---------------------------------------------------------------- what it is, read-out

TensorImpl& Tensor::impl() const {
  TT_CHECK(impl_ != nullptr, "tensor: use of an undefined Tensor (default-constructed, or a missing grad)");
  return *impl_;
}
const Shape& Tensor::shape() const { return impl().lazy->shape(); }
int64_t Tensor::numel() const { return prod(shape()); }
int64_t Tensor::size(int axis) const { return shape()[TensorOps::axis(*this, axis, "size")]; }
DType Tensor::dtype() const { return impl().lazy->dtype(); }
const std::string& Tensor::device() const { return impl().lazy->device(); }
const LazyRef& Tensor::lazy() const { return impl().lazy; }

Tensor& Tensor::realize() {
  tinyref::realize({impl().lazy});
  return *this;
}

void realize_all(const std::vector<Tensor>& tensors) {
  std::vector<LazyRef> outs;
  for (const Tensor& t : tensors) outs.push_back(t.lazy());
  realize(outs);
}

int count_kernels(const std::vector<Tensor>& tensors) {
  std::vector<LazyRef> outs;
  for (const Tensor& t : tensors) outs.push_back(t.lazy());
  return static_cast<int>(create_schedule(outs).size());
}

namespace {
std::vector<unsigned char> read_bytes(const Tensor& t) {
  LazyRef c = t.lazy()->contiguous();
  realize({c});
  std::vector<unsigned char> bytes(c->realized_buffer()->nbytes());
  c->realized_buffer()->copy_out(bytes.data());
  return bytes;
}
}  // namespace

template <typename T>
std::vector<T> Tensor::to_vector() const {
  TT_CHECK(dtype_of<T>() == dtype(), "to_vector: the tensor is " << dtype_name(dtype()) << ", asked for "
                                                                 << dtype_name(dtype_of<T>()) << " (cast first)");
  std::vector<unsigned char> bytes = read_bytes(*this);
  std::vector<T> out(numel());
  for (size_t i = 0; i < out.size(); ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      out[i] = bytes[i] != 0;
    } else {
      std::memcpy(&out[i], bytes.data() + i * sizeof(T), sizeof(T));
    }
  }
  return out;
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;
template std::vector<bool> Tensor::to_vector() const;

std::vector<double> Tensor::to_doubles() const {
  switch (dtype()) {
    case DType::kBool: { auto v = to_vector<bool>(); return {v.begin(), v.end()}; }
    case DType::kUInt8: { auto v = to_vector<uint8_t>(); return {v.begin(), v.end()}; }
    case DType::kInt32: { auto v = to_vector<int32_t>(); return {v.begin(), v.end()}; }
    case DType::kFloat32: { auto v = to_vector<float>(); return {v.begin(), v.end()}; }
    case DType::kFloat64: return to_vector<double>();
  }
  return {};
}

double Tensor::item() const {
  TT_CHECK(numel() == 1, "item: needs exactly one element, the shape is " << shape_str(shape()));
  return to_doubles()[0];
}

// ---------------------------------------------------------------- elementwise

namespace {
Tensor scalar_like(const Tensor& t, double v) {
  // An integer tensor meeting a fractional scalar becomes float32, as in numpy.
  DType dt = t.dtype();
  if (!is_float(dt) && v != std::floor(v)) dt = DType::kFloat32;
  if (dt == DType::kBool && v != 0 && v != 1) dt = DType::kInt32;
  return Tensor::full({}, v, dt, t.device());
}
Tensor as_float(const Tensor& t) { return is_float(t.dtype()) ? t : t.cast(DType::kFloat32); }
Tensor binary(Op op, const Tensor& a, const Tensor& b, const char* name) {
  std::vector<Tensor> ab = TensorOps::broadcast({a, b}, name);
  return TensorOps::alu(op, ab);
}
}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return binary(Op::ADD, a, b, "add"); }
Tensor operator-(const Tensor& a, const Tensor& b) { return binary(Op::SUB, a, b, "sub"); }
Tensor operator*(const Tensor& a, const Tensor& b) { return binary(Op::MUL, a, b, "mul"); }
Tensor operator/(const Tensor& a, const Tensor& b) {
  std::vector<Tensor> ab = TensorOps::broadcast({a, b}, "div");
  return TensorOps::alu(Op::DIV, {as_float(ab[0]), as_float(ab[1])});
}
Tensor operator-(const Tensor& a) { return a.neg(); }
Tensor operator+(const Tensor& a, double b) { return a + scalar_like(a, b); }
Tensor operator-(const Tensor& a, double b) { return a - scalar_like(a, b); }
Tensor operator*(const Tensor& a, double b) { return a * scalar_like(a, b); }
Tensor operator/(const Tensor& a, double b) { return a / scalar_like(a, b); }
Tensor operator+(double a, const Tensor& b) { return scalar_like(b, a) + b; }
Tensor operator-(double a, const Tensor& b) { return scalar_like(b, a) - b; }
Tensor operator*(double a, const Tensor& b) { return scalar_like(b, a) * b; }
Tensor operator/(double a, const Tensor& b) { return scalar_like(b, a) / b; }

Tensor Tensor::neg() const {
  TT_CHECK(dtype() != DType::kBool, "neg: not defined for bool (use logical_not)");
  return TensorOps::alu(Op::NEG, {*this});
}
Tensor Tensor::exp2() const { return TensorOps::alu(Op::EXP2, {as_float(*this)}); }
Tensor Tensor::exp() const { return (as_float(*this) * (1 / std::log(2.0))).exp2(); }
Tensor Tensor::log2() const { return TensorOps::alu(Op::LOG2, {as_float(*this)}); }
Tensor Tensor::log() const { return log2() * std::log(2.0); }
Tensor Tensor::sin() const { return TensorOps::alu(Op::SIN, {as_float(*this)}); }
Tensor Tensor::cos() const { return (M_PI / 2 - as_float(*this)).sin(); }
Tensor Tensor::tan() const { return sin() / cos(); }
Tensor Tensor::sqrt() const { return TensorOps::alu(Op::SQRT, {as_float(*this)}); }
Tensor Tensor::reciprocal() const { return TensorOps::alu(Op::RECIP, {as_float(*this)}); }
Tensor Tensor::rsqrt() const { return sqrt().reciprocal(); }
Tensor Tensor::square() const { return *this * *this; }
Tensor Tensor::relu() const { return maximum(scalar_like(*this, 0)); }
Tensor Tensor::abs() const { return relu() + neg().relu(); }
Tensor Tensor::sign() const { return gt(scalar_like(*this, 0)).cast(dtype()) - lt(scalar_like(*this, 0)).cast(dtype()); }
Tensor Tensor::sigmoid() const { return (1.0 + neg().exp()).reciprocal(); }
Tensor Tensor::tanh() const { return 2.0 * (*this * 2.0).sigmoid() - 1.0; }
Tensor Tensor::gelu() const {
  return 0.5 * *this * (1.0 + (*this * 0.7978845608 * (1.0 + 0.044715 * square())).tanh());
}
Tensor Tensor::silu() const { return *this * sigmoid(); }
Tensor Tensor::leaky_relu(double slope) const { return lt(scalar_like(*this, 0)).where(*this * slope, *this); }

Tensor Tensor::pow(double e) const {
  if (e == 0) return TensorOps::const_like(*this, 1);
  if (e == 1) return *this;
  if (e == 2) return square();
  if (e == 0.5) return sqrt();
  if (e == -1) return reciprocal();
  if (e == std::floor(e) && e > 0 && e <= 8) return *this * pow(e - 1);
  return (log() * e).exp();
}

Tensor Tensor::maximum(const Tensor& o) const { return binary(Op::MAX, *this, o, "maximum"); }
Tensor Tensor::minimum(const Tensor& o) const { return neg().maximum(o.neg()).neg(); }
Tensor Tensor::clip(double lo, double hi) const {
  TT_CHECK(lo <= hi, "clip: low " << lo << " is above high " << hi);
  return maximum(scalar_like(*this, lo)).minimum(scalar_like(*this, hi));
}

Tensor Tensor::where(const Tensor& a, const Tensor& b) const {
  Tensor cond = dtype() == DType::kBool ? *this : ne(scalar_like(*this, 0));
  std::vector<Tensor> ab = TensorOps::broadcast({a, b}, "where");
  std::vector<Tensor> all = TensorOps::broadcast({cond, ab[0], ab[1]}, "where", true);
  return TensorOps::alu(Op::WHERE, all);
}

Tensor Tensor::lt(const Tensor& o) const { return binary(Op::CMPLT, *this, o, "lt"); }
Tensor Tensor::gt(const Tensor& o) const { return o.lt(*this); }
Tensor Tensor::ne(const Tensor& o) const { return binary(Op::CMPNE, *this, o, "ne"); }
Tensor Tensor::logical_not() const {
  if (dtype() != DType::kBool) return eq(scalar_like(*this, 0));
  return TensorOps::alu(Op::CMPNE, {*this, TensorOps::const_like(*this, 1)});
}
Tensor Tensor::logical_and(const Tensor& o) const {
  TT_CHECK(dtype() == DType::kBool && o.dtype() == DType::kBool,
           "logical_and: needs bool tensors, got " << dtype_name(dtype()) << " and " << dtype_name(o.dtype()));
  return binary(Op::AND, *this, o, "logical_and");
}
Tensor Tensor::eq(const Tensor& o) const { return ne(o).logical_not(); }
Tensor Tensor::le(const Tensor& o) const { return gt(o).logical_not(); }
Tensor Tensor::ge(const Tensor& o) const { return lt(o).logical_not(); }

Tensor Tensor::idiv(const Tensor& o) const {
  TT_CHECK(is_int(dtype()) && is_int(o.dtype()), "idiv: needs integer tensors, got " << dtype_name(dtype())
                                                                                    << " and " << dtype_name(o.dtype()));
  return binary(Op::IDIV, *this, o, "idiv");
}
Tensor Tensor::mod(const Tensor& o) const {
  TT_CHECK(is_int(dtype()) && is_int(o.dtype()), "mod: needs integer tensors, got " << dtype_name(dtype())
                                                                                   << " and " << dtype_name(o.dtype()));
  return binary(Op::MOD, *this, o, "mod");
}

Tensor Tensor::fma(const Tensor& b, const Tensor& c) const {
  return TensorOps::alu(Op::MULACC, TensorOps::broadcast({*this, b, c}, "fma"));
}

Tensor Tensor::cast(DType to) const {
  if (to == dtype()) return *this;
  return TensorOps::alu(Op::CAST, {*this}, to);
}

// ---------------------------------------------------------------- autograd

Tensor& Tensor::requires_grad_(bool on) {
  TT_CHECK(!on || is_float(dtype()), "requires_grad_: only float tensors have gradients, this is "
                                         << dtype_name(dtype()));
  impl().requires_grad = on;
  return *this;
}
bool Tensor::requires_grad() const { return impl().requires_grad; }
Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
void Tensor::zero_grad() { impl().grad.reset(); }

Tensor Tensor::detach() const { return from_lazy(impl().lazy); }

Tensor& Tensor::assign(const Tensor& other) {
  TT_CHECK(other.shape() == shape() && other.dtype() == dtype(),
           "assign: " << shape_str(other.shape()) << " " << dtype_name(other.dtype()) << " into "
                      << shape_str(shape()) << " " << dtype_name(dtype()));
  impl_->lazy = other.impl().lazy;
  impl_->ctx.reset();
  impl_->graph_freed = false;  // a new value, computed by nothing this tensor remembers
  return *this;
}

void Tensor::backward() {
  TT_CHECK(numel() == 1, "backward: needs a scalar (one element), the shape is " << shape_str(shape()));
  TT_CHECK(requires_grad(), "backward: nothing to differentiate (no input called requires_grad_())");
  // Reverse topological order over the recorded graph.
  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> seen;
  std::function<void(TensorImpl*)> visit = [&](TensorImpl* t) {
    if (!seen.insert(t).second) return;
    TT_CHECK(!t->graph_freed, "backward: trying to backward through the graph a second time: an earlier backward() "
                              "freed it (run the forward pass again for a new graph)");
    if (t->ctx) {
      for (const auto& p : t->ctx->parents) {
        if (p->requires_grad) visit(p.get());
      }
    }
    order.push_back(t);
  };
  visit(impl_.get());
  std::unordered_map<TensorImpl*, LazyRef> grads;
  grads[impl_.get()] = LazyBuffer::constant(1, dtype(), device(), shape());
  for (size_t i = order.size(); i-- > 0;) {
    TensorImpl* t = order[i];
    LazyRef g = grads[t];
    if (!g) continue;
    if (!t->ctx) {  // a leaf: gradients accumulate across backward() calls
      LazyRef total = t->grad ? LazyBuffer::alu(Op::ADD, {t->grad->lazy, g}) : g;
      t->grad = std::make_shared<TensorImpl>();
      t->grad->lazy = total;
      continue;
    }
    std::vector<LazyRef> gs = t->ctx->custom ? t->ctx->custom(g) : backward_rule(t->ctx->node, g);
    for (size_t j = 0; j < gs.size(); ++j) {
      TensorImpl* p = t->ctx->parents[j].get();
      if (!gs[j] || !p->requires_grad) continue;
      TT_ASSERT(gs[j]->shape() == p->lazy->shape());
      LazyRef& acc = grads[p];
      acc = acc ? LazyBuffer::alu(Op::ADD, {acc, gs[j]}) : gs[j];
    }
  }
  for (TensorImpl* t : order) {  // the graph is spent
    t->graph_freed = t->ctx != nullptr;
    t->ctx.reset();
  }
}

NoGradGuard::NoGradGuard() : previous_(grad_enabled) { grad_enabled = false; }
NoGradGuard::~NoGradGuard() { grad_enabled = previous_; }

}  // namespace tinyref
