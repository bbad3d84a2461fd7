#include "tinyref/shape/shapetracker.h"

#include <algorithm>
#include <sstream>

#include "tinyref/error.h"

namespace tinyref {

namespace {
std::string pairs_text(const Pairs& p) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < p.size(); ++i) os << (i ? ", " : "") << "(" << p[i].first << ", " << p[i].second << ")";
  os << ")";
  return os.str();
}
}  // namespace

bool ShapeTracker::has_mask() const {
  for (const View& v : views) {
    if (v.mask) return true;
  }
  return false;
}

ShapeTracker ShapeTracker::with_top(View v) const {
  ShapeTracker out = *this;
  out.views.back() = std::move(v);
  out.simplify();  // a shrink or pad can make the top two views mergeable
  return out;
}

void ShapeTracker::simplify() {
  while (views.size() >= 2) {
    std::optional<View> merged = View::compose(views[views.size() - 2], views.back());
    if (!merged) break;
    views.pop_back();
    views.back() = *merged;
  }
}

ShapeTracker ShapeTracker::reshape(const Shape& new_shape) const {
  for (int64_t d : new_shape) TT_CHECK(d >= 0, "reshape: negative dimension in " << new_shape);
  TT_CHECK(prod(new_shape) == size(),
           "reshape: cannot reshape " << shape() << " (" << size() << " elements) to " << new_shape);
  if (new_shape == shape()) return *this;
  ShapeTracker out = *this;
  out.views.push_back(View::create(new_shape));
  out.simplify();
  return out;
}

ShapeTracker ShapeTracker::permute(const std::vector<int>& order) const {
  std::vector<int> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  bool ok = order.size() == ndim();
  for (size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == static_cast<int>(i);
  TT_CHECK(ok, "permute: order is not a permutation of the " << ndim() << " axes of shape " << shape());
  return with_top(views.back().permute(order));
}

ShapeTracker ShapeTracker::expand(const Shape& new_shape) const {
  bool ok = new_shape.size() == ndim();
  for (size_t i = 0; ok && i < ndim(); ++i) ok = shape()[i] == new_shape[i] || shape()[i] == 1;
  TT_CHECK(ok, "expand: cannot expand " << shape() << " to " << new_shape
                                        << " (only size-1 dimensions can grow)");
  return with_top(views.back().expand(new_shape));
}

ShapeTracker ShapeTracker::pad(const Pairs& before_after) const {
  bool ok = before_after.size() == ndim();
  for (size_t i = 0; ok && i < ndim(); ++i) ok = before_after[i].first >= 0 && before_after[i].second >= 0;
  TT_CHECK(ok, "pad: padding " << pairs_text(before_after) << " does not fit shape " << shape()
                               << " (one non-negative (before, after) pair per axis)");
  return with_top(views.back().pad(before_after));
}

ShapeTracker ShapeTracker::shrink(const Pairs& lo_hi) const {
  bool ok = lo_hi.size() == ndim();
  for (size_t i = 0; ok && i < ndim(); ++i) {
    ok = 0 <= lo_hi[i].first && lo_hi[i].first <= lo_hi[i].second && lo_hi[i].second <= shape()[i];
  }
  TT_CHECK(ok, "shrink: range " << pairs_text(lo_hi) << " is out of bounds for shape " << shape());
  return with_top(views.back().shrink(lo_hi));
}

ShapeTracker ShapeTracker::flip(const std::vector<bool>& axes) const {
  TT_CHECK(axes.size() == ndim(), "flip: " << axes.size() << " flags for shape " << shape());
  return with_top(views.back().flip(axes));
}

ShapeTracker ShapeTracker::compose(const ShapeTracker& other) const {
  ShapeTracker out = *this;
  for (const View& v : other.views) {
    out.views.push_back(v);
    out.simplify();
  }
  return out;
}

std::pair<sym::Expr, sym::Expr> ShapeTracker::expr(const std::vector<sym::Expr>& idx) const {
  auto [pos, valid] = views.back().expr(idx);
  std::vector<sym::Expr> valids = {valid};
  for (size_t k = views.size() - 1; k-- > 0;) {
    const View& v = views[k];
    // Unravel the flat position of the view above into this view's coordinates.
    std::vector<sym::Expr> coords(v.ndim());
    int64_t place = 1;
    for (size_t j = v.ndim(); j-- > 0;) {
      sym::Expr q = sym::floordiv(pos, place);
      coords[j] = j == 0 ? q : sym::mod(q, v.shape[j]);
      place *= v.shape[j];
    }
    auto [p, vv] = v.expr(coords);
    pos = p;
    valids.push_back(vv);
  }
  return {pos, sym::land(valids)};
}

int64_t ShapeTracker::index_of(const std::vector<int64_t>& idx) const {
  std::vector<sym::Expr> e;
  for (size_t i = 0; i < idx.size(); ++i) e.push_back(sym::num(idx[i]));
  auto [pos, valid] = expr(e);
  return valid->c ? pos->c : -1;
}

std::optional<int64_t> ShapeTracker::real_stride(size_t d) const {
  if (views.size() != 1) return std::nullopt;
  const View& v = views[0];
  if (v.mask && ((*v.mask)[d].first != 0 || (*v.mask)[d].second != v.shape[d])) return std::nullopt;
  return v.strides[d];
}

std::string ShapeTracker::to_string() const {
  std::ostringstream os;
  os << "ShapeTracker(";
  for (size_t i = 0; i < views.size(); ++i) os << (i ? ", " : "") << views[i];
  os << ")";
  return os.str();
}

}  // namespace tinyref
