#include "ch04/shapetracker.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <sstream>

namespace ch04 {

// ---------------------------------------------------------------------------- helpers (given)

int64_t prod(const Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {  // a step along axis i skips everything after it
    if (shape[i] != 1) strides[i] = prod(Shape(shape.begin() + i + 1, shape.end()));
  }
  return strides;
}

std::string shape_str(const Shape& shape) {
  std::string text;
  for (int64_t d : shape) text += (text.empty() ? "" : ", ") + std::to_string(d);
  return "(" + text + (shape.size() == 1 ? ",)" : ")");
}

std::string pairs_str(const Pairs& pairs) {
  std::string text;
  for (const auto& [a, b] : pairs) text += (text.empty() ? "" : ", ") + shape_str({a, b});
  return "(" + text + ")";
}

View View::make(Shape shape, Shape strides, int64_t offset, std::optional<Pairs> mask) {
  if (strides.size() != shape.size() || (mask && mask->size() != shape.size())) {
    throw std::logic_error("View::make: shape " + shape_str(shape) + " with " + std::to_string(strides.size()) +
                           " strides" + (mask ? " and " + std::to_string(mask->size()) + " mask pairs" : ""));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) strides[i] = 0;  // never stepped along: one canonical stride
  }
  if (mask) {
    bool full = true, empty = false;
    for (size_t i = 0; i < shape.size(); ++i) {
      auto& [lo, hi] = (*mask)[i];
      lo = std::clamp<int64_t>(lo, 0, shape[i]);
      hi = std::clamp<int64_t>(hi, 0, shape[i]);
      empty = empty || lo >= hi;
      full = full && lo == 0 && hi == shape[i];
    }
    if (empty) {  // nothing is valid: every such view reads the same (zeros)
      return View{shape, Shape(shape.size(), 0), 0, Pairs(shape.size(), {0, 0})};
    }
    if (full) mask.reset();
  }
  return View{std::move(shape), std::move(strides), offset, std::move(mask)};
}

bool View::is_contiguous() const { return offset == 0 && !mask && strides == contiguous_strides(shape); }

std::string View::str() const {
  std::ostringstream os;
  os << "View(shape=" << shape_str(shape) << ", strides=" << shape_str(strides) << ", offset=" << offset;
  if (mask) os << ", mask=" << pairs_str(*mask);
  os << ")";
  return os.str();
}

std::string ShapeTracker::str() const {
  std::string s = "ShapeTracker(";
  for (size_t i = 0; i < views.size(); ++i) s += (i ? ", " : "") + views[i].str();
  return s + ")";
}

// ---------------------------------------------------------------------------- ch04.1: one View

int64_t View::position(const Shape& idx) const {
  int64_t pos = offset;
  for (size_t i = 0; i < idx.size(); ++i) pos += idx[i] * strides[i];
  return pos;
}

bool View::valid(const Shape& idx) const {
  if (!mask) return true;
  for (size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] < (*mask)[i].first || idx[i] >= (*mask)[i].second) return false;
  }
  return true;
}

// Each op copies this View and edits it axis by axis; View::make canonicalizes the result.

View View::permute(const std::vector<int>& order) const {
  View out = *this;
  for (size_t i = 0; i < order.size(); ++i) {  // new axis i is old axis order[i]
    out.shape[i] = shape[order[i]];
    out.strides[i] = strides[order[i]];
    if (mask) (*out.mask)[i] = (*mask)[order[i]];
  }
  return make(out.shape, out.strides, out.offset, out.mask);
}

View View::expand(const Shape& new_shape) const {
  View out = *this;
  for (size_t i = 0; i < ndim(); ++i) {
    if (shape[i] == new_shape[i]) continue;
    out.shape[i] = new_shape[i];
    out.strides[i] = 0;  // every index along the axis reads the one element
    if (mask) {          // the one element was valid or it was not: so are all its copies
      auto& [lo, hi] = (*out.mask)[i];
      hi = lo < hi ? new_shape[i] : 0;
      lo = 0;
    }
  }
  return make(out.shape, out.strides, out.offset, out.mask);
}

View View::pad(const Pairs& before_after) const {
  View out = *this;
  if (!out.mask) out.mask = Pairs(ndim());
  for (size_t i = 0; i < ndim(); ++i) {
    const auto [before, after] = before_after[i];
    const auto [lo, hi] = mask ? (*mask)[i] : std::pair<int64_t, int64_t>{0, shape[i]};
    out.shape[i] += before + after;
    out.offset -= before * strides[i];          // so that new index `before` reads old index 0
    (*out.mask)[i] = {lo + before, hi + before};  // the old elements, moved by `before`
  }
  return make(out.shape, out.strides, out.offset, out.mask);
}

View View::shrink(const Pairs& lo_hi) const {
  View out = *this;
  for (size_t i = 0; i < ndim(); ++i) {
    const auto [first, end] = lo_hi[i];
    out.shape[i] = end - first;
    out.offset += first * strides[i];  // new index 0 is old index `first`
    if (mask) {                         // what stays valid, counted from `first`
      auto& [lo, hi] = (*out.mask)[i];
      lo = std::max(lo, first) - first;
      hi = std::min(hi, end) - first;
    }
  }
  return make(out.shape, out.strides, out.offset, out.mask);
}

View View::flip(const std::vector<bool>& axes) const {
  View out = *this;
  for (size_t i = 0; i < ndim(); ++i) {
    if (!axes[i]) continue;
    out.offset += (shape[i] - 1) * strides[i];  // new index 0 is old index shape-1
    out.strides[i] = -strides[i];
    if (mask) (*out.mask)[i] = {shape[i] - (*mask)[i].second, shape[i] - (*mask)[i].first};
  }
  return make(out.shape, out.strides, out.offset, out.mask);
}

// ---------------------------------------------------------------------------- ch04.2: reshape

namespace {

// One axis of size > 1 as reshape sees it.
struct Axis {
  int64_t size, stride;
  std::pair<int64_t, int64_t> mask;  // [lo, hi); [0, size) when unmasked
};

// Axes a..b-1 of one block read as one axis, or nullopt. Row-major order over them must walk
// memory with one stride (outer stride == inner stride * inner size), and only the outermost
// may be masked: then the valid part is still one interval.
std::optional<Axis> merge(const std::vector<Axis>& axes, size_t a, size_t b) {
  Axis m = axes[b - 1];
  for (size_t k = b - 1; k-- > a;) {
    const Axis& outer = axes[k];
    if (outer.stride != m.stride * m.size || m.mask != std::pair<int64_t, int64_t>{0, m.size}) return std::nullopt;
    m = {outer.size * m.size, m.stride, {outer.mask.first * m.size, outer.mask.second * m.size}};
  }
  return m;
}

// One axis cut into `sizes` (outermost first), or nullopt when its valid interval is not a
// box in the new coordinates (padding [1, 5) of 6 cut into 2 x 3, say).
std::optional<std::vector<Axis>> split(const Axis& axis, const Shape& sizes) {
  std::vector<Axis> out(sizes.size());
  int64_t stride = axis.stride, lo = axis.mask.first, hi = axis.mask.second;
  for (size_t k = sizes.size(); k-- > 0;) {
    const int64_t n = sizes[k];
    out[k].size = n;
    out[k].stride = stride;
    stride *= n;
    if (k == 0) {
      out[k].mask = {lo, hi};
    } else if (lo % n == 0 && hi % n == 0) {  // whole rows: this axis is full
      out[k].mask = {0, n};
      lo /= n;
      hi /= n;
    } else if (lo / n == (hi - 1) / n) {  // inside one row: outer axes pinned to it
      out[k].mask = {lo % n, (hi - 1) % n + 1};
      lo /= n;
      hi = lo + 1;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

std::optional<View> View::reshape(const Shape& new_shape) const {
  if (new_shape == shape) return *this;
  if (prod(new_shape) != numel()) return std::nullopt;
  if (numel() == 0 || is_contiguous()) return contiguous(new_shape);
  if (mask && (*mask)[0].first >= (*mask)[0].second) {  // all padding stays all padding...
    if (new_shape.empty()) return std::nullopt;         // ...which shape () has no mask to say
    return make(new_shape, Shape(new_shape.size(), 0), 0, Pairs(new_shape.size(), {0, 0}));
  }
  // Axes of size 1 carry nothing (stride 0, full mask): match the others in blocks of equal
  // element count, e.g. (6, 4) -> (2, 3, 4) is the blocks 6 -> (2, 3) and 4 -> 4.
  std::vector<Axis> old_axes;
  for (size_t i = 0; i < ndim(); ++i) {
    if (shape[i] != 1) old_axes.push_back({shape[i], strides[i], mask ? (*mask)[i] : std::pair<int64_t, int64_t>{0, shape[i]}});
  }
  std::vector<size_t> new_axes;  // positions in new_shape of the axes of size > 1
  for (size_t j = 0; j < new_shape.size(); ++j) {
    if (new_shape[j] != 1) new_axes.push_back(j);
  }
  Shape new_strides(new_shape.size(), 0);
  Pairs new_mask(new_shape.size(), {0, 1});
  size_t i = 0, j = 0;
  while (i < old_axes.size()) {
    const size_t i0 = i, j0 = j;
    int64_t old_count = old_axes[i++].size, new_count = new_shape[new_axes[j++]];
    while (old_count != new_count) {
      if (old_count < new_count) {
        old_count *= old_axes[i++].size;
      } else {
        new_count *= new_shape[new_axes[j++]];
      }
    }
    std::optional<Axis> merged = merge(old_axes, i0, i);
    if (!merged) return std::nullopt;
    Shape sizes;
    for (size_t k = j0; k < j; ++k) sizes.push_back(new_shape[new_axes[k]]);
    std::optional<std::vector<Axis>> cut = split(*merged, sizes);
    if (!cut) return std::nullopt;
    for (size_t k = j0; k < j; ++k) {
      new_strides[new_axes[k]] = (*cut)[k - j0].stride;
      new_mask[new_axes[k]] = (*cut)[k - j0].mask;
    }
  }
  return make(new_shape, new_strides, offset, mask ? std::optional<Pairs>(new_mask) : std::nullopt);
}

// ---------------------------------------------------------------------------- ch04.3: the stack

std::pair<Expr, Expr> View::to_expr(const std::vector<Expr>& idx) const {
  Expr pos = nullptr, ok = nullptr;
  auto both = [](Expr a, Expr b) { return a ? land(std::move(a), std::move(b)) : b; };
  for (size_t i = 0; i < ndim(); ++i) {
    if (strides[i] != 0) pos = pos ? pos + idx[i] * strides[i] : idx[i] * strides[i];
    if (!mask) continue;
    const auto [lo, hi] = (*mask)[i];
    if (lo > 0) ok = both(ok, lt(num(lo - 1), idx[i]));
    if (hi < shape[i]) ok = both(ok, lt(idx[i], num(hi)));
  }
  pos = pos ? (offset != 0 ? pos + offset : pos) : num(offset);
  return {pos, ok ? ok : num(1)};
}

namespace {
void require(bool ok, const std::string& message) {
  if (!ok) throw ShapeError(message);
}
ShapeTracker with_top(const ShapeTracker& st, View top) {
  ShapeTracker out = st;
  out.views.back() = std::move(top);
  return out;
}
}  // namespace

ShapeTracker ShapeTracker::reshape(const Shape& new_shape) const {
  for (int64_t d : new_shape) require(d >= 0, "reshape: negative size in " + shape_str(new_shape));
  require(prod(new_shape) == numel(), "reshape: cannot reshape " + shape_str(shape()) + " (" +
                                          std::to_string(numel()) + " elements) to " + shape_str(new_shape) +
                                          " (" + std::to_string(prod(new_shape)) + " elements)");
  if (std::optional<View> v = views.back().reshape(new_shape)) return with_top(*this, *v);
  ShapeTracker out = *this;
  out.views.push_back(View::contiguous(new_shape));  // reads the view below in row-major order
  return out;
}

ShapeTracker ShapeTracker::permute(const std::vector<int>& order) const {
  std::vector<bool> seen(ndim(), false);
  bool ok = order.size() == ndim();
  for (size_t i = 0; ok && i < order.size(); ++i) {
    ok = order[i] >= 0 && order[i] < static_cast<int>(ndim()) && !seen[order[i]];
    if (ok) seen[order[i]] = true;
  }
  require(ok, "permute: order " + shape_str(Shape(order.begin(), order.end())) + " is not a permutation of the " +
                  std::to_string(ndim()) + " axes of shape " + shape_str(shape()));
  return with_top(*this, views.back().permute(order));
}

ShapeTracker ShapeTracker::expand(const Shape& new_shape) const {
  bool ok = new_shape.size() == ndim();
  for (size_t i = 0; ok && i < ndim(); ++i) ok = new_shape[i] == shape()[i] || (shape()[i] == 1 && new_shape[i] >= 0);
  require(ok, "expand: cannot expand " + shape_str(shape()) + " to " + shape_str(new_shape) +
                  " (only axes of size 1 can grow)");
  return with_top(*this, views.back().expand(new_shape));
}

ShapeTracker ShapeTracker::pad(const Pairs& before_after) const {
  bool ok = before_after.size() == ndim();
  for (size_t i = 0; ok && i < ndim(); ++i) ok = before_after[i].first >= 0 && before_after[i].second >= 0;
  require(ok, "pad: padding " + pairs_str(before_after) + " does not fit shape " + shape_str(shape()) +
                  " (one non-negative (before, after) pair per axis)");
  return with_top(*this, views.back().pad(before_after));
}

ShapeTracker ShapeTracker::shrink(const Pairs& lo_hi) const {
  bool ok = lo_hi.size() == ndim();
  for (size_t i = 0; ok && i < ndim(); ++i) {
    ok = 0 <= lo_hi[i].first && lo_hi[i].first <= lo_hi[i].second && lo_hi[i].second <= shape()[i];
  }
  require(ok, "shrink: ranges " + pairs_str(lo_hi) + " do not fit shape " + shape_str(shape()) +
                  " (one [lo, hi) per axis with 0 <= lo <= hi <= size)");
  return with_top(*this, views.back().shrink(lo_hi));
}

ShapeTracker ShapeTracker::flip(const std::vector<bool>& axes) const {
  require(axes.size() == ndim(), "flip: " + std::to_string(axes.size()) + " flags for shape " + shape_str(shape()));
  return with_top(*this, views.back().flip(axes));
}

int64_t ShapeTracker::index(const Shape& idx) const {
  bool inside = idx.size() == ndim();
  for (size_t i = 0; inside && i < idx.size(); ++i) inside = 0 <= idx[i] && idx[i] < shape()[i];
  require(inside, "index: " + shape_str(idx) + " is outside shape " + shape_str(shape()));
  Shape coords = idx;
  for (size_t k = views.size(); k-- > 0;) {
    const View& v = views[k];
    if (k + 1 < views.size()) {  // the position above, as a row-major index into this view
      int64_t flat = coords[0];
      coords.assign(v.ndim(), 0);
      for (size_t j = v.ndim(); j-- > 0;) {
        coords[j] = flat % v.shape[j];
        flat /= v.shape[j];
      }
    }
    if (!v.valid(coords)) return -1;
    coords = {v.position(coords)};
  }
  return coords[0];
}

std::pair<Expr, Expr> ShapeTracker::to_expr(const std::vector<Expr>& idx) const {
  auto [pos, ok] = views.back().to_expr(idx);
  for (size_t k = views.size() - 1; k-- > 0;) {
    const View& v = views[k];
    std::vector<Expr> coords(v.ndim());
    int64_t place = 1;
    for (size_t j = v.ndim(); j-- > 0;) {
      Expr q = place == 1 ? pos : div(pos, num(place));
      coords[j] = j == 0 ? q : mod(q, num(v.shape[j]));
      place *= v.shape[j];
    }
    auto [p, valid] = v.to_expr(coords);
    pos = p;
    if (v.mask) ok = land(ok, valid);
  }
  return {pos, ok};
}

}  // namespace ch04
