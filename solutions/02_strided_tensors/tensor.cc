#include "ch02/tensor.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace ch02 {
namespace {

// Calls visit(position) for every element of `view`, in row-major order. An odometer: the last
// coordinate counts up; when it reaches its size it wraps to 0 and carries into the axis to its
// left. The position is updated by adding and subtracting strides, never recomputed from scratch.
template <typename Visit>
void for_each_position(const View& view, Visit visit) {
  if (view.numel() == 0) return;
  const size_t n = view.ndim();
  Shape index(n, 0);
  int64_t pos = view.offset;
  while (true) {
    visit(pos);
    size_t axis = n;
    while (axis > 0) {
      --axis;
      if (++index[axis] < view.shape[axis]) {
        pos += view.strides[axis];
        break;
      }
      pos -= (view.shape[axis] - 1) * view.strides[axis];
      index[axis] = 0;
      if (axis == 0) return;
    }
    if (n == 0) return;  // a scalar has exactly one element
  }
}

}  // namespace

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
  // The lowest and highest positions the view can reach, axis by axis.
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
  if (static_cast<int64_t>(values.size()) != ch02::numel(shape)) {
    throw std::invalid_argument("from_vector: " + std::to_string(values.size()) +
                                " values for shape " + shape_str(shape) + " (" +
                                std::to_string(ch02::numel(shape)) + " elements)");
  }
  return Tensor(std::make_shared<Storage<T>>(std::move(values)), View::row_major(shape));
}

template <typename T>
Tensor<T> Tensor<T>::full(const Shape& shape, T value) {
  return from_vector(shape, std::vector<T>(ch02::numel(shape), value));
}

template <typename T>
T Tensor<T>::at(const Shape& index) const {
  return storage_->data[view_.position(index)];
}

template <typename T>
void Tensor<T>::set(const Shape& index, T value) {
  storage_->data[view_.position(index)] = value;
}

template <typename T>
T Tensor<T>::item() const {
  if (numel() != 1) {
    throw std::invalid_argument("item: tensor of shape " + shape_str(shape()) + " has " +
                                std::to_string(numel()) + " elements, not 1");
  }
  return storage_->data[view_.position(Shape(ndim(), 0))];
}

template <typename T>
std::vector<T> Tensor<T>::to_vector() const {
  std::vector<T> out;
  out.reserve(numel());
  const T* data = storage_->data.data();
  for_each_position(view_, [&](int64_t pos) { out.push_back(data[pos]); });
  return out;
}

template <typename T>
Tensor<T> Tensor<T>::contiguous() const {
  return is_contiguous() ? *this : clone();
}

template <typename T>
Tensor<T> Tensor<T>::clone() const {
  return from_vector(shape(), to_vector());
}

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
  if (std::optional<View> v = view_.reshape(new_shape)) return Tensor(storage_, *v);
  return clone().reshape(new_shape);  // the copy is contiguous, so this second try is a view
}

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
