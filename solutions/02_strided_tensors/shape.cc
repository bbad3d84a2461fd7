#include "ch02/shape.h"

#include <algorithm>
#include <stdexcept>

namespace ch02 {

std::string shape_str(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

int normalize_axis(int64_t axis, size_t ndim, const char* op) {
  const int64_t n = static_cast<int64_t>(ndim);
  if (axis < -n || axis >= n) {
    throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                " is out of range for " + std::to_string(n) + " axes");
  }
  return static_cast<int>(axis < 0 ? axis + n : axis);
}

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape row_major_strides(const Shape& shape) {
  // The last axis steps by 1; each axis to its left steps over one whole row of the axes after it.
  Shape strides(shape.size());
  int64_t step = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = step;
    step *= shape[i];
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    // Counted from the right: a missing axis behaves as size 1.
    const int64_t sa = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t sb = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      throw std::invalid_argument("broadcast: shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " cannot broadcast (sizes " + std::to_string(sa) + " and " +
                                  std::to_string(sb) + " at axis " + std::to_string(-1 - int64_t(i)) +
                                  ")");
    }
    out[n - 1 - i] = sa == 1 ? sb : sa;
  }
  return out;
}

int64_t View::position(const Shape& index) const {
  if (index.size() != shape.size()) {
    throw std::out_of_range("position: index " + shape_str(index) + " has " +
                            std::to_string(index.size()) + " coordinates, the view has shape " +
                            shape_str(shape));
  }
  int64_t pos = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (index[i] < 0 || index[i] >= shape[i]) {
      throw std::out_of_range("position: index " + shape_str(index) + " is outside shape " +
                              shape_str(shape));
    }
    pos += index[i] * strides[i];
  }
  return pos;
}

bool View::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

View View::permute(const std::vector<int>& order) const {
  std::vector<bool> seen(ndim(), false);
  bool ok = order.size() == ndim();
  for (size_t i = 0; ok && i < order.size(); ++i) {
    ok = order[i] >= 0 && static_cast<size_t>(order[i]) < ndim() && !seen[order[i]];
    if (ok) seen[order[i]] = true;
  }
  if (!ok) {
    std::string o;
    for (int a : order) o += (o.empty() ? "" : ", ") + std::to_string(a);
    throw std::invalid_argument("permute: (" + o + ") is not a permutation of the axes of shape " +
                                shape_str(shape));
  }
  View out{Shape(ndim()), Shape(ndim()), offset};
  for (size_t i = 0; i < ndim(); ++i) {
    out.shape[i] = shape[order[i]];
    out.strides[i] = strides[order[i]];
  }
  return out;
}

View View::expand(const Shape& new_shape) const {
  if (new_shape.size() != ndim()) {
    throw std::invalid_argument("expand: shape " + shape_str(shape) + " cannot expand to " +
                                shape_str(new_shape) + " (different number of axes)");
  }
  View out = *this;
  for (size_t i = 0; i < ndim(); ++i) {
    if (new_shape[i] == shape[i]) continue;
    if (shape[i] != 1 || new_shape[i] < 0) {
      throw std::invalid_argument("expand: shape " + shape_str(shape) + " cannot expand to " +
                                  shape_str(new_shape) + " (only axes of size 1 can grow)");
    }
    out.shape[i] = new_shape[i];
    out.strides[i] = 0;  // every index along this axis reads the one element that is there
  }
  return out;
}

View View::slice(int axis, int64_t start, int64_t stop, int64_t step) const {
  const int a = normalize_axis(axis, ndim(), "slice");
  if (start < 0 || start > stop || stop > shape[a] || step < 1) {
    throw std::invalid_argument("slice: [" + std::to_string(start) + ":" + std::to_string(stop) +
                                ":" + std::to_string(step) + "] is not a valid slice of axis " +
                                std::to_string(a) + " of shape " + shape_str(shape));
  }
  View out = *this;
  out.offset += start * strides[a];
  out.shape[a] = (stop - start + step - 1) / step;
  out.strides[a] *= step;
  return out;
}

std::optional<View> View::reshape(const Shape& new_shape) const {
  if (ch02::numel(new_shape) != numel() ||
      std::any_of(new_shape.begin(), new_shape.end(), [](int64_t s) { return s < 0; })) {
    throw std::invalid_argument("reshape: cannot reshape " + shape_str(shape) + " (" +
                                std::to_string(numel()) + " elements) to " + shape_str(new_shape));
  }
  if (!is_contiguous()) return std::nullopt;
  return View{new_shape, row_major_strides(new_shape), offset};
}

View View::broadcast_to(const Shape& target) const {
  if (broadcast_shapes(shape, target) != target) {
    throw std::invalid_argument("broadcast_to: shape " + shape_str(shape) +
                                " cannot broadcast to " + shape_str(target));
  }
  View out = *this;
  const size_t extra = target.size() - ndim();
  out.shape.insert(out.shape.begin(), extra, 1);
  out.strides.insert(out.strides.begin(), extra, 0);
  return out.expand(target);
}

}  // namespace ch02
