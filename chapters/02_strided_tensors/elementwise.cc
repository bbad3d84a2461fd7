#include <cmath>
#include <stdexcept>

#include "ch02/ops.h"
#include "chapters/course.h"

namespace ch02 {
namespace {

// out[i] = f(a[...], b[...]) for every element i of `shape` in row-major order, where `va` and
// `vb` are views of a and b that already have that shape (after broadcast_to, an expanded axis
// simply has stride 0). `out` is row-major.
template <typename T, typename F>
void zip_views(const Shape& shape, const T* a, const View& va, const T* b, const View& vb, T* out,
               F f) {
  // TODO(ch02.5): the odometer of ch02.2, moving two positions at once. Make the last axis
  // the inner loop (that is where the time goes), and give the common case, both views
  // contiguous, a plain flat loop. Remember the 0-d shape (one element) and empty shapes.
  throw course::NotImplemented("ch02.5: zip_views (the strided walk)");
}

// f applied to a and b broadcast against each other; a new row-major tensor.
template <typename T, typename F>
Tensor<T> zip(const char* op, const Tensor<T>& a, const Tensor<T>& b, F f) {
  // TODO(ch02.5): broadcast_shapes (rethrow its std::invalid_argument with `op` in front, so the
  // user learns which op failed), broadcast both views, allocate the output, zip_views.
  throw course::NotImplemented(std::string("ch02.5: zip (for ") + op + ")");
}

// A unary op: the same walk with one input.
template <typename T, typename F>
Tensor<T> map(const Tensor<T>& x, F f) {
  // TODO(ch02.5): zip_views can do this: pass x twice and ignore the second value.
  throw course::NotImplemented("ch02.5: map");
}

}  // namespace

// Given, as examples: each op is one line once map and zip work.
template <typename T> Tensor<T> neg(const Tensor<T>& x) { return map(x, [](T v) { return -v; }); }
template <typename T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  return zip("add", a, b, [](T x, T y) { return x + y; });
}

// TODO(ch02.5): the others, in the same style.
template <typename T> Tensor<T> exp(const Tensor<T>& x) { throw course::NotImplemented("ch02.5: exp"); }
template <typename T> Tensor<T> log(const Tensor<T>& x) { throw course::NotImplemented("ch02.5: log"); }
template <typename T> Tensor<T> sqrt(const Tensor<T>& x) { throw course::NotImplemented("ch02.5: sqrt"); }
template <typename T> Tensor<T> relu(const Tensor<T>& x) { throw course::NotImplemented("ch02.5: relu"); }
template <typename T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  throw course::NotImplemented("ch02.5: sub");
}
template <typename T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  throw course::NotImplemented("ch02.5: mul");
}
template <typename T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  throw course::NotImplemented("ch02.5: div");
}
template <typename T> Tensor<T> greater(const Tensor<T>& a, const Tensor<T>& b) {
  throw course::NotImplemented("ch02.5: greater");
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
