// A ShapeTracker is a stack of Views: the top one gives the shape the user sees, each one
// below re-reads the element order of the one above (a reshape that no single View can do
// pushes a new one). After every op the top two Views are merged when View::compose can.
//
//   ShapeTracker st = ShapeTracker::from_shape({4, 6});
//   st = st.permute({1, 0}).reshape({24});   // transposed then flattened: 2 views
//   st.views.size()                          // 2
//   auto [idx, valid] = st.expr({var(0, "i", 0, 23)});
//   idx->render()                            // "(((i%4)*6)+(i/4))"
//
// Every movement op here is zero-copy and checks its arguments (throwing tinyref::Error).
#ifndef TINYREF_SHAPE_SHAPETRACKER_H_
#define TINYREF_SHAPE_SHAPETRACKER_H_

#include <optional>
#include <string>
#include <vector>

#include "tinyref/shape/symbolic.h"
#include "tinyref/shape/view.h"

namespace tinyref {

struct ShapeTracker {
  std::vector<View> views;

  static ShapeTracker from_shape(const Shape& shape) { return {{View::create(shape)}}; }

  const Shape& shape() const { return views.back().shape; }
  int64_t size() const { return views.back().size(); }
  size_t ndim() const { return shape().size(); }
  // One unmasked, row-major view with offset 0: the buffer can be read as is.
  bool contiguous() const { return views.size() == 1 && views[0].contiguous; }
  // Some element may be invalid (reads as 0): a pad happened somewhere.
  bool has_mask() const;

  ShapeTracker reshape(const Shape& new_shape) const;
  ShapeTracker permute(const std::vector<int>& order) const;
  ShapeTracker expand(const Shape& new_shape) const;
  ShapeTracker pad(const Pairs& before_after) const;
  ShapeTracker shrink(const Pairs& lo_hi) const;
  ShapeTracker flip(const std::vector<bool>& axes) const;

  // `other` applied after this one: other's positions are this tracker's elements, in row-major
  // order (so other may be any view of a buffer of size() elements).
  ShapeTracker compose(const ShapeTracker& other) const;

  // Buffer position and validity of element idx (one expression per dimension).
  std::pair<sym::Expr, sym::Expr> expr(const std::vector<sym::Expr>& idx) const;
  // The same for plain integers; returns -1 where the element is invalid (reads as 0).
  int64_t index_of(const std::vector<int64_t>& idx) const;

  // Stride of dimension d if it is the same everywhere (one view, unmasked on d), else nullopt.
  std::optional<int64_t> real_stride(size_t d) const;

  std::string to_string() const;
  bool operator==(const ShapeTracker& o) const { return views == o.views; }

 private:
  ShapeTracker with_top(View v) const;
  void simplify();
};

}  // namespace tinyref

#endif  // TINYREF_SHAPE_SHAPETRACKER_H_
