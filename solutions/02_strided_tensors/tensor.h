// An eager n-dimensional array: a reference-counted Storage (the numbers) plus a View (how an
// index maps into them). Many tensors can share one Storage, which is why views are free.
//
//   using ch02::FloatTensor;
//   FloatTensor a = FloatTensor::from_vector({2, 3}, {0, 1, 2, 3, 4, 5});
//   FloatTensor t = a.transpose(0, 1);    // shape (3, 2), strides (1, 3): no copy
//   t.shares_storage_with(a)              // true
//   t.at({2, 1})                          // 5, the same element as a.at({1, 2})
//   t.set({2, 1}, 50);                    // a.at({1, 2}) is 50 now too
//   t.is_contiguous()                     // false: row-major reading jumps around memory
//   FloatTensor c = t.contiguous();       // a copy, laid out row-major: {0, 3, 1, 4, 2, 50}
//   a.reshape({3, 2}).shares_storage_with(a)   // true: a is contiguous, so no copy is needed
//   a.slice(1, 0, 3, 2).to_vector()       // {0, 2, 3, 5}: columns 0 and 2
//
// Tensor<T> is a template so that chapter 3 can check gradients in float64 (DoubleTensor) with
// the same code that trains in float32 (FloatTensor). The member functions live in tensor.cc,
// which instantiates them for float and double; you only ever edit the .cc files.
#ifndef CH02_TENSOR_H_
#define CH02_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ch02/shape.h"

namespace ch02 {

// The numbers, and nothing else: which of them form a tensor is the View's business. Copying a
// Storage would silently break every view onto it, so it cannot be copied (PyTorch's
// StorageImpl does the same); tensors hold it through a shared_ptr.
template <typename T>
struct Storage {
  explicit Storage(std::vector<T> values) : data(std::move(values)) {}
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  std::vector<T> data;
};

template <typename T>
class Tensor {
 public:
  // A scalar 0 (shape {}), so that Tensor can sit in containers and structs.
  Tensor();
  // A tensor seeing `storage` through `view`. Throws std::out_of_range when the view reaches an
  // element outside the storage: a wrong stride shows up here, not as a wild read later.
  Tensor(std::shared_ptr<Storage<T>> storage, View view);

  // ch02.2: creation. `values` are in row-major order; their number must be numel(shape).
  static Tensor from_vector(const Shape& shape, std::vector<T> values);
  static Tensor full(const Shape& shape, T value);
  static Tensor zeros(const Shape& shape) { return full(shape, T(0)); }
  static Tensor scalar(T value) { return full({}, value); }

  const Shape& shape() const { return view_.shape; }
  const Shape& strides() const { return view_.strides; }
  int64_t offset() const { return view_.offset; }
  const View& view() const { return view_; }
  size_t ndim() const { return view_.ndim(); }
  int64_t numel() const { return view_.numel(); }
  const std::shared_ptr<Storage<T>>& storage() const { return storage_; }
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_; }
  bool is_contiguous() const { return view_.is_contiguous(); }

  // ch02.2: one element, read or written through the view (std::out_of_range for a bad index).
  // set() writes into the storage, so every tensor sharing it sees the change.
  T at(const Shape& index) const;
  void set(const Shape& index, T value);
  // The item of a tensor with one element (any shape); std::invalid_argument otherwise.
  T item() const;

  // ch02.2: the elements in row-major order of this view (a fresh std::vector).
  std::vector<T> to_vector() const;
  // ch02.2: *this when already contiguous (shared storage, no copy); otherwise a row-major copy.
  Tensor contiguous() const;
  // ch02.2: always a row-major copy in fresh storage.
  Tensor clone() const;

  // ch02.3: views. All but reshape never copy; see View in shape.h for the rules.
  Tensor permute(const std::vector<int>& order) const { return {storage_, view_.permute(order)}; }
  Tensor transpose(int axis0, int axis1) const;
  Tensor expand(const Shape& new_shape) const { return {storage_, view_.expand(new_shape)}; }
  Tensor slice(int axis, int64_t start, int64_t stop, int64_t step = 1) const {
    return {storage_, view_.slice(axis, start, stop, step)};
  }
  // A view when the layout allows one (View::reshape), otherwise a copy.
  Tensor reshape(const Shape& new_shape) const;

  // ch02.4: a zero-copy view of this tensor as `shape` (View::broadcast_to).
  Tensor broadcast_to(const Shape& shape) const { return {storage_, view_.broadcast_to(shape)}; }

  // "tensor(shape=(2, 3), [0, 1, 2, 3, 4, 5])", at most 20 values. For debugging.
  std::string str() const;

 private:
  std::shared_ptr<Storage<T>> storage_;
  View view_;
};

using FloatTensor = Tensor<float>;
using DoubleTensor = Tensor<double>;

extern template class Tensor<float>;
extern template class Tensor<double>;

}  // namespace ch02

#endif  // CH02_TENSOR_H_
