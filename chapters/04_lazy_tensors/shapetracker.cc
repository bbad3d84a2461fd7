#include "ch04/shapetracker.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <sstream>

#include "chapters/course.h"

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
//
// TODO(ch04.1): position and valid, then the five movement ops. Each returns a new View made
// with View::make (which canonicalizes it); none copies anything. Work out each on paper for a
// (2, 3) view first: where does the new index 0 read, and how far does one step along an axis
// move in memory?

int64_t View::position(const Shape& idx) const { throw course::NotImplemented("ch04.1: View::position"); }

bool View::valid(const Shape& idx) const { throw course::NotImplemented("ch04.1: View::valid"); }

View View::permute(const std::vector<int>& order) const { throw course::NotImplemented("ch04.1: View::permute"); }

View View::expand(const Shape& new_shape) const { throw course::NotImplemented("ch04.1: View::expand"); }

View View::pad(const Pairs& before_after) const { throw course::NotImplemented("ch04.1: View::pad"); }

View View::shrink(const Pairs& lo_hi) const { throw course::NotImplemented("ch04.1: View::shrink"); }

View View::flip(const std::vector<bool>& axes) const { throw course::NotImplemented("ch04.1: View::flip"); }

// ---------------------------------------------------------------------------- ch04.2: reshape
//
// TODO(ch04.2): View::reshape. Shortcuts first (same shape, a contiguous view, no elements, all
// padding); then leave out the axes of size 1 on both sides and match the rest in blocks of
// equal element count: (6, 4) -> (2, 3, 4) is the blocks 6 -> (2, 3) and 4 -> 4. In each block,
// merge the old axes into one (only if their strides chain) and cut it into the new axes.

std::optional<View> View::reshape(const Shape& new_shape) const {
  throw course::NotImplemented("ch04.2: View::reshape");
}

// ---------------------------------------------------------------------------- ch04.3: the stack
//
// TODO(ch04.3): the ShapeTracker's movement ops (check the arguments, then change the top View;
// a reshape View::reshape cannot do pushes a contiguous View), index() through every View, and
// the same as expressions: View::to_expr and ShapeTracker::to_expr.

std::pair<Expr, Expr> View::to_expr(const std::vector<Expr>& idx) const {
  throw course::NotImplemented("ch04.3: View::to_expr");
}

namespace {
// Throws ShapeError(message) unless ok: the checks below read as a list of requirements.
[[maybe_unused]] void require(bool ok, const std::string& message) {
  if (!ok) throw ShapeError(message);
}
}  // namespace

ShapeTracker ShapeTracker::reshape(const Shape& new_shape) const {
  throw course::NotImplemented("ch04.3: ShapeTracker::reshape");
}

ShapeTracker ShapeTracker::permute(const std::vector<int>& order) const {
  throw course::NotImplemented("ch04.3: ShapeTracker::permute");
}

ShapeTracker ShapeTracker::expand(const Shape& new_shape) const {
  throw course::NotImplemented("ch04.3: ShapeTracker::expand");
}

ShapeTracker ShapeTracker::pad(const Pairs& before_after) const {
  throw course::NotImplemented("ch04.3: ShapeTracker::pad");
}

ShapeTracker ShapeTracker::shrink(const Pairs& lo_hi) const {
  throw course::NotImplemented("ch04.3: ShapeTracker::shrink");
}

ShapeTracker ShapeTracker::flip(const std::vector<bool>& axes) const {
  throw course::NotImplemented("ch04.3: ShapeTracker::flip");
}

int64_t ShapeTracker::index(const Shape& idx) const { throw course::NotImplemented("ch04.3: ShapeTracker::index"); }

std::pair<Expr, Expr> ShapeTracker::to_expr(const std::vector<Expr>& idx) const {
  throw course::NotImplemented("ch04.3: ShapeTracker::to_expr");
}

}  // namespace ch04
