#include <cmath>
#include <stdexcept>

#include "ch02/ops.h"

namespace ch02 {
namespace {

// out[i] = f(a[...], b[...]) for every element i of `shape` in row-major order, where `va` and
// `vb` are views of a and b that already have that shape (after broadcast_to, an expanded axis
// simply has stride 0). The last axis is the inner loop, where the time goes; the axes before it
// advance like an odometer, adding and subtracting strides.
template <typename T, typename F>
void zip_views(const Shape& shape, const T* a, const View& va, const T* b, const View& vb, T* out,
               F f) {
  const int64_t total = numel(shape);
  if (total == 0) return;
  const size_t n = shape.size();
  if (n == 0) {
    out[0] = f(a[va.offset], b[vb.offset]);
    return;
  }
  if (va.is_contiguous() && vb.is_contiguous()) {  // the common case: one flat loop
    const T* pa = a + va.offset;
    const T* pb = b + vb.offset;
    for (int64_t i = 0; i < total; ++i) out[i] = f(pa[i], pb[i]);
    return;
  }
  const int64_t inner = shape[n - 1], sa = va.strides[n - 1], sb = vb.strides[n - 1];
  Shape index(n - 1, 0);
  int64_t pa = va.offset, pb = vb.offset;
  for (int64_t row = 0; row < total / inner; ++row) {
    T* o = out + row * inner;
    for (int64_t j = 0; j < inner; ++j) o[j] = f(a[pa + j * sa], b[pb + j * sb]);
    for (size_t axis = n - 1; axis-- > 0;) {
      if (++index[axis] < shape[axis]) {
        pa += va.strides[axis];
        pb += vb.strides[axis];
        break;
      }
      pa -= (shape[axis] - 1) * va.strides[axis];
      pb -= (shape[axis] - 1) * vb.strides[axis];
      index[axis] = 0;
    }
  }
}

template <typename T, typename F>
Tensor<T> zip(const char* op, const Tensor<T>& a, const Tensor<T>& b, F f) {
  Shape shape;
  try {
    shape = broadcast_shapes(a.shape(), b.shape());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(op) + ": " + e.what());
  }
  std::vector<T> out(numel(shape));
  zip_views(shape, a.storage()->data.data(), a.view().broadcast_to(shape),
            b.storage()->data.data(), b.view().broadcast_to(shape), out.data(), f);
  return Tensor<T>::from_vector(shape, std::move(out));
}

// A unary op is a binary op whose second input is the first one again, ignored.
template <typename T, typename F>
Tensor<T> map(const Tensor<T>& x, F f) {
  std::vector<T> out(x.numel());
  const T* data = x.storage()->data.data();
  zip_views(x.shape(), data, x.view(), data, x.view(), out.data(), [f](T v, T) { return f(v); });
  return Tensor<T>::from_vector(x.shape(), std::move(out));
}

}  // namespace

template <typename T> Tensor<T> neg(const Tensor<T>& x) { return map(x, [](T v) { return -v; }); }
template <typename T> Tensor<T> exp(const Tensor<T>& x) { return map(x, [](T v) { return std::exp(v); }); }
template <typename T> Tensor<T> log(const Tensor<T>& x) { return map(x, [](T v) { return std::log(v); }); }
template <typename T> Tensor<T> sqrt(const Tensor<T>& x) { return map(x, [](T v) { return std::sqrt(v); }); }
template <typename T> Tensor<T> relu(const Tensor<T>& x) {
  return map(x, [](T v) { return v > T(0) ? v : T(0); });
}

template <typename T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  return zip("add", a, b, [](T x, T y) { return x + y; });
}
template <typename T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  return zip("sub", a, b, [](T x, T y) { return x - y; });
}
template <typename T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  return zip("mul", a, b, [](T x, T y) { return x * y; });
}
template <typename T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  return zip("div", a, b, [](T x, T y) { return x / y; });
}
template <typename T> Tensor<T> greater(const Tensor<T>& a, const Tensor<T>& b) {
  return zip("greater", a, b, [](T x, T y) { return x > y ? T(1) : T(0); });
}

// Templates defined in a .cc file exist only for the element types instantiated here.
#define CH02_ELEMENTWISE(T)                                          \
  template Tensor<T> neg(const Tensor<T>&);                          \
  template Tensor<T> exp(const Tensor<T>&);                          \
  template Tensor<T> log(const Tensor<T>&);                          \
  template Tensor<T> sqrt(const Tensor<T>&);                         \
  template Tensor<T> relu(const Tensor<T>&);                         \
  template Tensor<T> add(const Tensor<T>&, const Tensor<T>&);        \
  template Tensor<T> sub(const Tensor<T>&, const Tensor<T>&);        \
  template Tensor<T> mul(const Tensor<T>&, const Tensor<T>&);        \
  template Tensor<T> div(const Tensor<T>&, const Tensor<T>&);        \
  template Tensor<T> greater(const Tensor<T>&, const Tensor<T>&);
CH02_ELEMENTWISE(float)
CH02_ELEMENTWISE(double)

}  // namespace ch02
