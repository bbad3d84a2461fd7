#include <limits>
#include <stdexcept>

#include "ch02/ops.h"

namespace ch02 {
namespace {

// Folds every element of x into the output element it reduces to. The trick: give the output a
// view with x's shape whose strides are 0 along the reduced axes. Walking x and that view
// together, all elements that differ only in reduced axes land on the same output position.
template <typename T, typename Combine>
Tensor<T> reduce(const char* op, const Tensor<T>& x, const std::vector<int>& axes, bool keepdim,
                 T init, Combine combine, bool needs_elements) {
  std::vector<bool> reduced(x.ndim(), false);
  for (int axis : axes) {
    const int a = normalize_axis(axis, x.ndim(), op);
    if (reduced[a]) {
      throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                  " is listed twice for shape " + shape_str(x.shape()));
    }
    if (x.shape()[a] == 0 && needs_elements) {  // the max of nothing has no value
      throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                  " of shape " + shape_str(x.shape()) + " is empty");
    }
    reduced[a] = true;
  }
  Shape kept = x.shape();  // the keepdim shape: reduced axes become 1
  for (size_t i = 0; i < x.ndim(); ++i) {
    if (reduced[i]) kept[i] = 1;
  }
  View scatter = View::row_major(kept);
  for (size_t i = 0; i < x.ndim(); ++i) {
    if (reduced[i]) scatter.strides[i] = 0;
  }
  scatter.shape = x.shape();

  std::vector<T> out(numel(kept), init);
  const T* in = x.storage()->data.data();
  const View& vx = x.view();
  const size_t n = x.ndim();
  if (x.numel() > 0) {
    Shape index(n, 0);
    int64_t px = vx.offset, po = 0;
    while (true) {
      out[po] = combine(out[po], in[px]);
      size_t axis = n;
      while (axis-- > 0) {
        if (++index[axis] < vx.shape[axis]) {
          px += vx.strides[axis];
          po += scatter.strides[axis];
          break;
        }
        px -= (vx.shape[axis] - 1) * vx.strides[axis];
        po -= (vx.shape[axis] - 1) * scatter.strides[axis];
        index[axis] = 0;
      }
      if (axis == static_cast<size_t>(-1)) break;  // every axis wrapped: done
    }
  }
  Tensor<T> result = Tensor<T>::from_vector(kept, std::move(out));
  if (keepdim) return result;
  Shape dropped;
  for (size_t i = 0; i < x.ndim(); ++i) {
    if (!reduced[i]) dropped.push_back(x.shape()[i]);
  }
  return result.reshape(dropped);
}

std::vector<int> all_axes(size_t ndim) {
  std::vector<int> axes(ndim);
  for (size_t i = 0; i < ndim; ++i) axes[i] = static_cast<int>(i);
  return axes;
}

}  // namespace

template <typename T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  return reduce("sum", x, axes, keepdim, T(0), [](T acc, T v) { return acc + v; }, false);
}

template <typename T>
Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  return reduce("max", x, axes, keepdim, -std::numeric_limits<T>::infinity(),
                [](T acc, T v) { return v > acc ? v : acc; }, true);
}

template <typename T> Tensor<T> sum(const Tensor<T>& x) { return sum(x, all_axes(x.ndim())); }
template <typename T> Tensor<T> max(const Tensor<T>& x) { return max(x, all_axes(x.ndim())); }

#define CH02_REDUCE(T)                                                          \
  template Tensor<T> sum(const Tensor<T>&, const std::vector<int>&, bool);      \
  template Tensor<T> max(const Tensor<T>&, const std::vector<int>&, bool);      \
  template Tensor<T> sum(const Tensor<T>&);                                     \
  template Tensor<T> max(const Tensor<T>&);
CH02_REDUCE(float)
CH02_REDUCE(double)

}  // namespace ch02
