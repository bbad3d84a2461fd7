#include <limits>
#include <stdexcept>

#include "ch02/ops.h"
#include "chapters/course.h"

namespace ch02 {
namespace {

// Folds every element of x into the output element it reduces to, starting each output at
// `init`. needs_elements: whether an empty reduced axis is an error (max) or not (sum: 0).
template <typename T, typename Combine>
Tensor<T> reduce(const char* op, const Tensor<T>& x, const std::vector<int>& axes, bool keepdim,
                 T init, Combine combine, bool needs_elements) {
  // TODO(ch02.6):
  //  1. normalize_axis every axis; a repeated axis is a std::invalid_argument.
  //  2. The keepdim shape: x's shape with the reduced axes set to 1. Allocate the output there.
  //  3. The trick: a View of the output with x's shape whose strides are row-major strides of
  //     the keepdim shape, but 0 along the reduced axes. Walk x and that view together (your
  //     odometer) and every element lands on the output element it reduces into.
  //  4. Without keepdim, reshape the result to drop the reduced axes (a view: it is contiguous).
  throw course::NotImplemented(std::string("ch02.6: reduce (for ") + op + ")");
}

std::vector<int> all_axes(size_t ndim) {
  std::vector<int> axes(ndim);
  for (size_t i = 0; i < ndim; ++i) axes[i] = static_cast<int>(i);
  return axes;
}

}  // namespace

// Given, as the example.
template <typename T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  return reduce("sum", x, axes, keepdim, T(0), [](T acc, T v) { return acc + v; }, false);
}

template <typename T>
Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim) {
  // TODO(ch02.6): like sum. What does the max start from?
  throw course::NotImplemented("ch02.6: max");
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
