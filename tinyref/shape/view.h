// A View maps coordinates in a shape to a position in a buffer: position = offset + sum(idx[i] *
// strides[i]), and the element is 0 wherever some idx[i] falls outside mask[i] = [lo, hi).
// Every movement op is a new View over the same memory: nothing is copied.
//
//   View v = View::contiguous({2, 3});   // shape (2,3), strides (3,1)
//   v.permute({1, 0});                   // shape (3,2), strides (1,3)
//   v.pad({{1, 1}, {0, 0}});             // shape (4,3), offset -3, mask [1,3) x [0,3)
//   v.flip({false, true});               // strides (3,-1), offset 2
//   View::compose(below, above)          // one View doing `above` after `below`, if one exists
//
// Strides and offsets count elements, not bytes. Size-1 dimensions always get stride 0 and
// full masks are dropped, so equal views compare equal.
#ifndef TINYREF_SHAPE_VIEW_H_
#define TINYREF_SHAPE_VIEW_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <utility>
#include <string>
#include <vector>

#include "tinyref/shape/symbolic.h"

namespace tinyref {

using Shape = std::vector<int64_t>;
using Pairs = std::vector<std::pair<int64_t, int64_t>>;  // per-dimension [lo, hi) or (before, after)

int64_t prod(const Shape& s);  // the element count; throws tinyref::Error where it overflows int64
Shape contiguous_strides(const Shape& shape);
std::ostream& operator<<(std::ostream& os, const Shape& s);  // (2, 3), and (5,) for one dimension
std::string shape_str(const Shape& s);                       // the same as a string, for error messages

struct View {
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  std::optional<Pairs> mask;  // absent: every index is valid
  bool contiguous = false;

  // Canonicalizes (see the header comment); every constructor goes through here.
  static View create(const Shape& shape, std::optional<Shape> strides = std::nullopt,
                     int64_t offset = 0, std::optional<Pairs> mask = std::nullopt);
  static View contiguous_view(const Shape& shape) { return create(shape); }

  int64_t size() const { return prod(shape); }
  size_t ndim() const { return shape.size(); }

  // The movement ops. Arguments are checked by the caller (ShapeTracker / Tensor).
  View permute(const std::vector<int>& order) const;
  View expand(const Shape& new_shape) const;     // only size-1 dims grow
  View pad(const Pairs& before_after) const;     // zeros outside the old extent
  View shrink(const Pairs& lo_hi) const;         // keep [lo, hi) of each dim
  View flip(const std::vector<bool>& axes) const;

  // One view equal to reading `above` (which indexes `below`'s elements in row-major order)
  // through `below`, or nullopt when no single view can express it.
  static std::optional<View> compose(const View& below, const View& above);
  static std::optional<View> compose_impl(const View& below, const View& above);

  // The buffer position and the validity (0/1) of element idx, as expressions.
  std::pair<sym::Expr, sym::Expr> expr(const std::vector<sym::Expr>& idx) const;

  bool operator==(const View& o) const {
    return shape == o.shape && strides == o.strides && offset == o.offset && mask == o.mask;
  }
};

std::ostream& operator<<(std::ostream& os, const View& v);

}  // namespace tinyref

#endif  // TINYREF_SHAPE_VIEW_H_
