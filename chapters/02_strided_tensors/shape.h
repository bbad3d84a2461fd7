// Shapes, strides and views: how an n-dimensional index becomes a position in memory.
//
//   View v = View::row_major({2, 3});   // shape (2, 3), strides (3, 1), offset 0
//   v.position({1, 2})                  // 0 + 1*3 + 2*1 = 5
//   View t = v.permute({1, 0});         // shape (3, 2), strides (1, 3): the transpose, no copy
//   t.position({2, 1})                  // 2*1 + 1*3 = 5: the same element as v's (1, 2)
//   View c = v.slice(1, 0, 3, 2);       // columns 0 and 2: shape (2, 2), strides (3, 2)
//   View e = View::row_major({1, 3}).expand({4, 3});   // strides (0, 1): one row, read 4 times
//   broadcast_shapes({4, 1, 3}, {5, 1}) // (4, 5, 3)
//
// Conventions (PyTorch's): strides and offsets count ELEMENTS, not bytes; row-major, so the last
// axis varies fastest; a 0-d shape {} is a scalar with one element. A View knows nothing about
// the memory it describes: tensor.h pairs it with a Storage.
#ifndef CH02_SHAPE_H_
#define CH02_SHAPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ch02 {

using Shape = std::vector<int64_t>;  // also used for strides and for indices

// "(2, 3)"; "()" for a scalar. For error messages.
std::string shape_str(const Shape& shape);

// An axis in [-ndim, ndim) as Python counts it (-1 is the last axis), returned in [0, ndim).
// Throws std::invalid_argument naming `op` when out of range.
int normalize_axis(int64_t axis, size_t ndim, const char* op);

// ch02.1: the number of elements, 1 for the scalar shape {}.
int64_t numel(const Shape& shape);

// ch02.1: the strides of a freshly allocated row-major array: (12, 4, 1) for (2, 3, 4).
Shape row_major_strides(const Shape& shape);

// ch02.4: numpy's broadcasting rule. Align the shapes at the right; each pair of sizes must be
// equal or one of them 1, and the result takes the larger. Throws std::invalid_argument naming
// both shapes when they cannot broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b);

struct View {
  Shape shape;
  Shape strides;       // one per axis, in elements; 0 means "every index reads the same element"
  int64_t offset = 0;  // position of element (0, 0, ..., 0)

  static View row_major(const Shape& shape) { return View{shape, row_major_strides(shape), 0}; }

  size_t ndim() const { return shape.size(); }
  int64_t numel() const { return ch02::numel(shape); }

  // ch02.1: offset + sum(index[i] * strides[i]). Throws std::out_of_range for an index with the
  // wrong number of axes or a coordinate outside [0, shape[i]).
  int64_t position(const Shape& index) const;

  // ch02.1: whether the elements, read in row-major order, sit at offset, offset+1, offset+2, ...
  // (the strides of axes of size 1 do not matter: those axes are never stepped along).
  bool is_contiguous() const;

  // ch02.3: the movement ops. Each returns a new View of the same memory; none copies.
  // Axis `order[i]` of this view becomes axis i. Throws unless order is a permutation of 0..n-1.
  View permute(const std::vector<int>& order) const;
  // Same number of axes; an axis of size 1 may grow to any size (stride 0), others must match.
  View expand(const Shape& new_shape) const;
  // Keep indices start, start+step, ... below stop along `axis` (negative axis allowed).
  // Requires 0 <= start <= stop <= shape[axis] and step >= 1.
  View slice(int axis, int64_t start, int64_t stop, int64_t step = 1) const;
  // The same elements in row-major order under another shape, if that needs no copy: a
  // contiguous view can be reshaped to any shape with as many elements; otherwise nullopt (the
  // tensor then copies). Throws when the element counts differ.
  std::optional<View> reshape(const Shape& new_shape) const;

  // ch02.4: this view read as `shape` by broadcasting: new leading axes of size 1 are added on
  // the left, then expand(). Throws std::invalid_argument when the shapes are incompatible.
  View broadcast_to(const Shape& shape) const;

  bool operator==(const View& other) const = default;
};

}  // namespace ch02

#endif  // CH02_SHAPE_H_
