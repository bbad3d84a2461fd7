// Views and ShapeTrackers: how a lazy tensor reads memory it does not own. A movement op
// (reshape, permute, expand, pad, shrink, flip) never copies a number; it only changes the View
// through which a buffer is read.
//
//   View v = View::contiguous({2, 3});  // shape (2, 3), strides (3, 1), offset 0
//   v.permute({1, 0})                   // shape (3, 2), strides (1, 3): the transpose
//   v.flip({false, true})               // strides (3, -1), offset 2: row i reads 3i+2, 3i+1, 3i
//   v.pad({{1, 0}, {0, 0}})             // shape (3, 3), offset -3, mask [1,3) x [0,3)
//   v.pad({{1, 0}, {0, 0}}).valid({0, 1})  // false: row 0 is padding and reads as 0
//
//   ShapeTracker st = ShapeTracker::contiguous({2, 3}).permute({1, 0});  // (3, 2)
//   st = st.reshape({6});   // no single View reads a transpose in flat order: a second View
//   st.views.size()         // 2
//   st.index({1})           // 3: flat 1 is (0, 1) of the (3, 2) view, which is buffer 0*1+1*3
//
// A View maps an index idx (one coordinate per axis) to the buffer position
//   offset + idx[0]*strides[0] + ... + idx[n-1]*strides[n-1]
// and says it is valid when every idx[i] lies in mask[i] = [lo, hi) (no mask: always valid);
// an invalid element reads as 0 (that is what padding is). A ShapeTracker is a stack of Views:
// the top one (views.back()) has the shape the user sees; the position it computes is a
// row-major index into the shape of the View below it, and so on down to the buffer.
//
// Canonical form (View::make, also tinyref's, so Views compare equal when they read equally):
// an axis of size 1 has stride 0; a mask that covers every axis fully is dropped; a mask that
// is empty on some axis (nothing valid) becomes all (0, 0) with strides 0 and offset 0.
#ifndef CH04_SHAPETRACKER_H_
#define CH04_SHAPETRACKER_H_

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ch04/symbolic.h"

namespace ch04 {

using Shape = std::vector<int64_t>;                      // also strides and indices
using Pairs = std::vector<std::pair<int64_t, int64_t>>;  // per axis: [lo, hi) or (before, after)

// A user's shape mistake: the message names the op and the shapes ("reshape: cannot reshape
// (2, 3) (6 elements) to (4,)").
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

int64_t prod(const Shape& shape);               // 1 for the scalar shape ()
Shape contiguous_strides(const Shape& shape);   // row-major, 0 on axes of size 1
std::string shape_str(const Shape& shape);      // "(2, 3)", "(4,)", "()"
std::string pairs_str(const Pairs& pairs);      // "((1, 0), (0, 2))"

struct View {
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  std::optional<Pairs> mask;  // per axis [lo, hi); absent: every index is valid

  // Every View is built through make(), which puts it in canonical form (see above).
  static View make(Shape shape, Shape strides, int64_t offset = 0, std::optional<Pairs> mask = std::nullopt);
  static View contiguous(const Shape& shape) { return make(shape, contiguous_strides(shape)); }

  size_t ndim() const { return shape.size(); }
  int64_t numel() const { return prod(shape); }
  // Offset 0, row-major strides, no mask: the buffer read as it lies.
  bool is_contiguous() const;

  // ch04.1: offset + sum idx[i]*strides[i], and whether idx is inside the mask. Both expect
  // an idx inside the shape (the caller checks).
  int64_t position(const Shape& idx) const;
  bool valid(const Shape& idx) const;

  // ch04.1: the movement ops. Each returns a new View of the same memory; arguments are
  // checked by the ShapeTracker, not here.
  View permute(const std::vector<int>& order) const;  // axis order[i] becomes axis i
  View expand(const Shape& new_shape) const;          // axes of size 1 grow, reading one element
  View pad(const Pairs& before_after) const;          // new elements outside read as 0
  View shrink(const Pairs& lo_hi) const;              // keep [lo, hi) of each axis
  View flip(const std::vector<bool>& axes) const;     // reverse the flagged axes

  // ch04.2: the same elements in row-major order, read as `new_shape` (same element count), if
  // one View can do it: splitting an axis, merging axes whose strides chain (outer stride ==
  // inner stride * inner size), adding or removing axes of size 1. nullopt otherwise (a
  // transposed view flattened, for instance): the ShapeTracker then pushes a second View.
  std::optional<View> reshape(const Shape& new_shape) const;

  // ch04.3: position and validity as expressions of the index expressions idx (one per axis),
  // for code generation: {offset + sum idx[i]*strides[i], product of the mask tests}. Axes
  // with stride 0 add no term; an unmasked view is valid = num(1).
  std::pair<Expr, Expr> to_expr(const std::vector<Expr>& idx) const;

  bool operator==(const View& other) const = default;
  std::string str() const;  // "View(shape=(3, 2), strides=(1, 3), offset=0)"
};

struct ShapeTracker {
  std::vector<View> views;  // views.back() is what the user sees

  static ShapeTracker contiguous(const Shape& shape) { return {{View::contiguous(shape)}}; }

  const Shape& shape() const { return views.back().shape; }
  size_t ndim() const { return shape().size(); }
  int64_t numel() const { return prod(shape()); }
  // One View and it is contiguous: position == row-major index.
  bool is_contiguous() const { return views.size() == 1 && views[0].is_contiguous(); }

  // ch04.3: the movement ops on the top View, after checking their arguments: each throws
  // ShapeError naming the op, the shape and the bad argument. reshape replaces the top View
  // when View::reshape can, and pushes a contiguous View of the new shape when it cannot.
  ShapeTracker reshape(const Shape& new_shape) const;        // same element count, sizes >= 0
  ShapeTracker permute(const std::vector<int>& order) const; // a permutation of 0..ndim-1
  ShapeTracker expand(const Shape& new_shape) const;         // same ndim, only size-1 axes grow
  ShapeTracker pad(const Pairs& before_after) const;         // one non-negative pair per axis
  ShapeTracker shrink(const Pairs& lo_hi) const;             // 0 <= lo <= hi <= size per axis
  ShapeTracker flip(const std::vector<bool>& axes) const;    // one flag per axis

  // ch04.3: the buffer position of element idx through every View, or -1 when the element is
  // padding (invalid in some View) and reads as 0. Throws ShapeError for an idx outside shape().
  int64_t index(const Shape& idx) const;
  // ch04.3: the same as expressions (for code generation): {position, valid}. Below the top
  // View, the position above is split into the lower View's coordinates with div and mod.
  std::pair<Expr, Expr> to_expr(const std::vector<Expr>& idx) const;

  bool operator==(const ShapeTracker& other) const = default;
  std::string str() const;  // "ShapeTracker(View(...), View(...))"
};

}  // namespace ch04

#endif  // CH04_SHAPETRACKER_H_
