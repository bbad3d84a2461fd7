#include "ch02/shape.h"

#include <algorithm>
#include <stdexcept>

#include "chapters/course.h"

namespace ch02 {

// Given: used by error messages everywhere.
std::string shape_str(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

// Given.
int normalize_axis(int64_t axis, size_t ndim, const char* op) {
  const int64_t n = static_cast<int64_t>(ndim);
  if (axis < -n || axis >= n) {
    throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                " is out of range for " + std::to_string(n) + " axes");
  }
  return static_cast<int>(axis < 0 ? axis + n : axis);
}

int64_t numel(const Shape& shape) {
  // TODO(ch02.1): the product of the sizes (1 for the scalar shape {}).
  throw course::NotImplemented("ch02.1: numel");
}

Shape row_major_strides(const Shape& shape) {
  // TODO(ch02.1): the last axis steps by 1; each axis to its left steps over a whole "row" of
  // the axes to its right. (2, 3, 4) -> (12, 4, 1).
  throw course::NotImplemented("ch02.1: row_major_strides");
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  // TODO(ch02.4): align a and b at the right; a missing axis counts as size 1; sizes must be
  // equal or one of them 1. Throw std::invalid_argument naming both shapes (shape_str) if not.
  throw course::NotImplemented("ch02.4: broadcast_shapes");
}

int64_t View::position(const Shape& index) const {
  // TODO(ch02.1): offset + sum(index[i] * strides[i]). Throw std::out_of_range when index has
  // the wrong length or a coordinate is outside [0, shape[i]).
  throw course::NotImplemented("ch02.1: View::position");
}

bool View::is_contiguous() const {
  // TODO(ch02.1): walk the axes from the last: each axis of size > 1 must have the stride a
  // row-major array would give it. Axes of size 1 are skipped: their stride is never used.
  throw course::NotImplemented("ch02.1: View::is_contiguous");
}

View View::permute(const std::vector<int>& order) const {
  // TODO(ch02.3): check that order is a permutation of 0..ndim-1 (std::invalid_argument
  // otherwise), then axis i of the result is axis order[i] of this view: its size and stride.
  throw course::NotImplemented("ch02.3: View::permute");
}

View View::expand(const Shape& new_shape) const {
  // TODO(ch02.3): same number of axes; where new_shape differs, this axis must have size 1 and
  // gets stride 0. Anything else is a std::invalid_argument.
  throw course::NotImplemented("ch02.3: View::expand");
}

View View::slice(int axis, int64_t start, int64_t stop, int64_t step) const {
  // TODO(ch02.3): normalize_axis, check 0 <= start <= stop <= shape[axis] and step >= 1, then:
  // the offset moves to element `start`, the size becomes ceil((stop - start) / step) and the
  // stride is multiplied by step.
  throw course::NotImplemented("ch02.3: View::slice");
}

std::optional<View> View::reshape(const Shape& new_shape) const {
  // TODO(ch02.3): throw std::invalid_argument if numel differs; a contiguous view becomes the
  // row-major view of new_shape at the same offset; anything else returns std::nullopt.
  throw course::NotImplemented("ch02.3: View::reshape");
}

View View::broadcast_to(const Shape& target) const {
  // TODO(ch02.4): check broadcast_shapes(shape, target) == target; add target.ndim - ndim
  // leading axes of size 1 (any stride works: 0 is the honest one), then expand(target).
  throw course::NotImplemented("ch02.4: View::broadcast_to");
}

}  // namespace ch02
