#include "ch02/tensor.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "chapters/course.h"

namespace ch02 {

// Given: the constructors check that a view stays inside its storage, so a wrong stride shows
// up as a clear exception instead of a wild read.
template <typename T>
Tensor<T>::Tensor() : Tensor(std::make_shared<Storage<T>>(std::vector<T>{T(0)}), View{}) {}

template <typename T>
Tensor<T>::Tensor(std::shared_ptr<Storage<T>> storage, View view)
    : storage_(std::move(storage)), view_(std::move(view)) {
  if (!storage_) throw std::invalid_argument("Tensor: null storage");
  if (view_.strides.size() != view_.shape.size()) {
    throw std::invalid_argument("Tensor: shape " + shape_str(view_.shape) + " and strides " +
                                shape_str(view_.strides) + " differ in length");
  }
  if (view_.numel() == 0) return;
  int64_t lo = view_.offset, hi = view_.offset;
  for (size_t i = 0; i < view_.ndim(); ++i) {
    const int64_t reach = (view_.shape[i] - 1) * view_.strides[i];
    (reach < 0 ? lo : hi) += reach;
  }
  if (lo < 0 || hi >= static_cast<int64_t>(storage_->data.size())) {
    throw std::out_of_range("Tensor: view (shape " + shape_str(view_.shape) + ", strides " +
                            shape_str(view_.strides) + ", offset " + std::to_string(view_.offset) +
                            ") reaches outside its storage of " +
                            std::to_string(storage_->data.size()) + " elements");
  }
}

template <typename T>
Tensor<T> Tensor<T>::from_vector(const Shape& shape, std::vector<T> values) {
  // TODO(ch02.2): check values.size() == numel(shape) (std::invalid_argument), then a new
  // Storage (std::make_shared) seen through View::row_major(shape).
  throw course::NotImplemented("ch02.2: Tensor::from_vector");
}

template <typename T>
Tensor<T> Tensor<T>::full(const Shape& shape, T value) {
  // TODO(ch02.2)
  throw course::NotImplemented("ch02.2: Tensor::full");
}

template <typename T>
T Tensor<T>::at(const Shape& index) const {
  // TODO(ch02.2): the view says where the element is.
  throw course::NotImplemented("ch02.2: Tensor::at");
}

template <typename T>
void Tensor<T>::set(const Shape& index, T value) {
  // TODO(ch02.2)
  throw course::NotImplemented("ch02.2: Tensor::set");
}

template <typename T>
T Tensor<T>::item() const {
  // TODO(ch02.2): std::invalid_argument unless numel() == 1.
  throw course::NotImplemented("ch02.2: Tensor::item");
}

template <typename T>
std::vector<T> Tensor<T>::to_vector() const {
  // TODO(ch02.2): visit every index in row-major order. Calling position() for each works;
  // the better way is an odometer: increase the last coordinate, and when it reaches its size
  // reset it to 0 and carry into the axis to its left, updating the position by adding (and
  // subtracting) strides instead of recomputing it. You will reuse this walk in ch02.5/6.
  throw course::NotImplemented("ch02.2: Tensor::to_vector");
}

template <typename T>
Tensor<T> Tensor<T>::contiguous() const {
  // TODO(ch02.2): no copy when the view already is contiguous.
  throw course::NotImplemented("ch02.2: Tensor::contiguous");
}

template <typename T>
Tensor<T> Tensor<T>::clone() const {
  // TODO(ch02.2)
  throw course::NotImplemented("ch02.2: Tensor::clone");
}

// Given: a permutation that swaps two axes.
template <typename T>
Tensor<T> Tensor<T>::transpose(int axis0, int axis1) const {
  const int a = normalize_axis(axis0, ndim(), "transpose");
  const int b = normalize_axis(axis1, ndim(), "transpose");
  std::vector<int> order(ndim());
  for (size_t i = 0; i < ndim(); ++i) order[i] = static_cast<int>(i);
  std::swap(order[a], order[b]);
  return permute(order);
}

template <typename T>
Tensor<T> Tensor<T>::reshape(const Shape& new_shape) const {
  // TODO(ch02.3): View::reshape gives a view when it can; otherwise reshape a contiguous copy.
  throw course::NotImplemented("ch02.3: Tensor::reshape");
}

// Given: for debugging (it needs your to_vector).
template <typename T>
std::string Tensor<T>::str() const {
  std::ostringstream out;
  out << "tensor(shape=" << shape_str(shape()) << ", [";
  const std::vector<T> values = to_vector();
  for (size_t i = 0; i < values.size() && i < 20; ++i) out << (i ? ", " : "") << values[i];
  out << (values.size() > 20 ? ", ...])" : "])");
  return out.str();
}

template class Tensor<float>;
template class Tensor<double>;

}  // namespace ch02
