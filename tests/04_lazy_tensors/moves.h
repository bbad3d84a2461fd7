// Random movement ops for chapter 4's tests, applied three independent ways: to a dense array
// by plain loops (the oracle that shares nothing with anyone), to tinyref's ShapeTracker and
// Tensor (the reference framework), and to yours.
//
//   std::mt19937_64 rng(seed);
//   std::vector<moves::Move> program = moves::random_program(rng, {3, 4}, /*count=*/5);
//   moves::describe(program)          // "permute(1, 0) pad((1, 0), (0, 2)) reshape(5, 6) ..."
//   dense::Dense d = moves::apply(program, moves::positions({3, 4}));   // what each element reads
//   tinyref::ShapeTracker st = moves::apply(program, tinyref::ShapeTracker::from_shape({3, 4}));
//   ch04::Tensor t = moves::apply(program, ch04::Tensor::from_vector(d.values, {3, 4}));
//
// positions(shape) holds 1 + the buffer position of every element, so after the program each
// element holds 1 + the position it reads, or 0 where it reads padding: exactly what
// ShapeTracker::index must say (minus one).
#ifndef TESTS_04_LAZY_TENSORS_MOVES_H_
#define TESTS_04_LAZY_TENSORS_MOVES_H_

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/02_strided_tensors/dense.h"
#include "tinyref/shape/shapetracker.h"
#include "tinyref/tensor.h"

namespace moves {

using dense::Dense;
using dense::Shape;
using Pairs = std::vector<std::pair<int64_t, int64_t>>;

enum class Kind { kReshape, kPermute, kExpand, kPad, kShrink, kFlip };

struct Move {
  Kind kind;
  Shape shape;             // reshape, expand: the new shape
  std::vector<int> order;  // permute
  Pairs pairs;             // pad: (before, after); shrink: [lo, hi)
  std::vector<bool> flip;  // flip: one flag per axis
};

std::string describe(const Move& m);
std::string describe(const std::vector<Move>& program);

// One valid move for `shape` (an expand only when some axis has size 1; kinds that cannot
// apply are skipped), keeping the element count at most max_numel.
Move random_move(std::mt19937_64& rng, const Shape& shape, int64_t max_numel = 4096);
// A reshape target for `shape`: axes split, neighbours merged, size-1 axes added or removed.
// Never shape (): tinyref reads an element of padding reshaped to () as valid (a bug in
// tinyref's View::compose, reported); shape () is tested by hand instead.
Shape random_reshape(std::mt19937_64& rng, const Shape& shape);
std::vector<Move> random_program(std::mt19937_64& rng, Shape shape, int count, int64_t max_numel = 4096);
// The shape after a move.
Shape shape_after(const Move& m, const Shape& shape);

// 1 + row-major position, for every element of shape.
Dense positions(const Shape& shape);

// Plain loops: pad fills 0, shrink copies a box, flip reverses axes; the others from dense.h.
Dense pad(const Dense& x, const Pairs& before_after);
Dense shrink(const Dense& x, const Pairs& lo_hi);
Dense flip(const Dense& x, const std::vector<bool>& axes);

Dense apply(const Move& m, const Dense& x);
Dense apply(const std::vector<Move>& program, Dense x);

// The flagged axes of a flip, as a list: (false, true, true) -> (1, 2).
std::vector<int> flipped_axes(const Move& m);

// Any ShapeTracker or Tensor, tinyref's or chapter 4's: they share the movement methods' names
// (a ShapeTracker flips by flags, a Tensor by a list of axes).
template <typename T>
T apply(const Move& m, const T& x) {
  switch (m.kind) {
    case Kind::kReshape: return x.reshape(m.shape);
    case Kind::kPermute: return x.permute(m.order);
    case Kind::kExpand: return x.expand(m.shape);
    case Kind::kPad: return x.pad(m.pairs);
    case Kind::kShrink: return x.shrink(m.pairs);
    case Kind::kFlip:
      if constexpr (requires { x.flip(m.flip); }) {
        return x.flip(m.flip);
      } else {
        return x.flip(flipped_axes(m));
      }
  }
  return x;
}

// One move on a single View, yours or tinyref's. A View's reshape may fail (it returns an
// optional): this one leaves reshapes out.
template <typename V>
V apply_to_view(const Move& m, const V& v) {
  switch (m.kind) {
    case Kind::kPermute: return v.permute(m.order);
    case Kind::kExpand: return v.expand(m.shape);
    case Kind::kPad: return v.pad(m.pairs);
    case Kind::kShrink: return v.shrink(m.pairs);
    case Kind::kFlip: return v.flip(m.flip);
    default: return v;
  }
}

template <typename T>
T apply(const std::vector<Move>& program, T x) {
  for (const Move& m : program) x = apply(m, x);
  return x;
}

}  // namespace moves

#endif  // TESTS_04_LAZY_TENSORS_MOVES_H_
