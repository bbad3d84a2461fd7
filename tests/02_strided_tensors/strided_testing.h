// Random strided inputs for chapter 2's tests, built by the test itself: a Storage filled with
// random numbers and a View chosen at random (row-major, permuted, sliced with steps, expanded,
// or all of these at once), paired with the dense values that view must show. Results are read
// back the same way, straight from storage, strides and offset. So a test of an op depends on
// the op alone, not on your views (ch02.3) or your to_vector (ch02.2).
//
//   std::mt19937_64 rng(seed);
//   auto x = strided_testing::random_strided<float>(rng, {3, 4});   // x.tensor, x.values
//   dense::Dense got = strided_testing::read(ch02::exp(x.tensor));
//   // compare got with dense::map(x.values, ...)
#ifndef TESTS_02_STRIDED_TENSORS_STRIDED_TESTING_H_
#define TESTS_02_STRIDED_TENSORS_STRIDED_TESTING_H_

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "ch02/tensor.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/testing/testing.h"

namespace strided_testing {

using dense::Dense;
using dense::Shape;

// The elements of t in row-major order of its view, read by the test from storage and strides.
template <typename T>
Dense read(const ch02::Tensor<T>& t) {
  Dense out{t.shape(), std::vector<double>(dense::count(t.shape()))};
  const std::vector<T>& data = t.storage()->data;
  dense::for_each_index(t.shape(), [&](const Shape& idx) {
    int64_t pos = t.offset();
    for (size_t a = 0; a < idx.size(); ++a) pos += idx[a] * t.strides()[a];
    out.values[dense::flat(t.shape(), idx)] = static_cast<double>(data.at(pos));
  });
  return out;
}

// kShifted: row-major, but starting part-way into a larger storage (a slice of whole rows):
// contiguous with an offset, the case a fast path most easily gets wrong.
enum class Layout { kRowMajor, kPermuted, kSliced, kExpanded, kMixed, kShifted, kAny };

template <typename T>
struct Strided {
  ch02::Tensor<T> tensor;
  Dense values;         // what the tensor must show, exactly (stored as T, widened to double)
  std::string layout;   // for failure messages: "sliced: strides (8, 2), offset 3"
};

inline std::string describe(const Shape& shape, const Shape& strides, int64_t offset,
                            const std::string& kind) {
  return kind + " " + dense::shape_str(shape) + " (strides " + dense::shape_str(strides) +
         ", offset " + std::to_string(offset) + ")";
}

// A tensor of logical shape `shape` whose storage holds values in [lo, hi) and whose view has the
// given layout. kAny picks one of the six for each call.
template <typename T>
Strided<T> random_strided(std::mt19937_64& rng, const Shape& shape, Layout layout = Layout::kAny,
                          double lo = -1, double hi = 1) {
  const size_t n = shape.size();
  if (layout == Layout::kAny) layout = static_cast<Layout>(rng() % 6);
  const bool permute = layout == Layout::kPermuted || layout == Layout::kMixed;
  const bool slice = layout == Layout::kSliced || layout == Layout::kMixed;
  const bool expand = layout == Layout::kExpanded || layout == Layout::kMixed;

  // Per axis: how the storage's axis relates to the view's (size 1 and stride 0 when
  // expanded; a step and a start inside a larger extent when sliced).
  Shape base(n), step(n, 1), start(n, 0);
  std::vector<bool> expanded(n, false);
  bool any_expanded = false;
  for (size_t a = 0; a < n; ++a) {
    expanded[a] = expand && shape[a] > 1 && rng() % 2 == 0;
    any_expanded = any_expanded || expanded[a];
    if (slice && !expanded[a]) {
      step[a] = 1 + static_cast<int64_t>(rng() % 3);
      start[a] = static_cast<int64_t>(rng() % 3);
    }
    base[a] = expanded[a] ? 1 : start[a] + (shape[a] - 1) * step[a] + 1 + int64_t(rng() % 2) * slice;
  }
  if (expand && !any_expanded && n > 0) {  // make sure an expanded layout really has stride 0
    for (size_t a = 0; a < n; ++a) {
      if (shape[a] > 1) {
        expanded[a] = true;
        base[a] = 1;
        step[a] = 1;
        start[a] = 0;
        break;
      }
    }
  }
  // Memory order of the storage's axes: the view's axis memory_order[0] is outermost.
  std::vector<int> memory_order(n);
  std::iota(memory_order.begin(), memory_order.end(), 0);
  if (permute) std::shuffle(memory_order.begin(), memory_order.end(), rng);
  Shape base_stride(n);
  int64_t size = 1;
  for (size_t i = n; i-- > 0;) {
    base_stride[memory_order[i]] = size;
    size *= base[memory_order[i]];
  }
  Shape strides(n);
  int64_t offset = 0;
  for (size_t a = 0; a < n; ++a) {
    strides[a] = expanded[a] ? 0 : base_stride[a] * step[a];
    offset += start[a] * base_stride[a];
  }
  // Leave a little unused storage before the view too, when sliced or shifted (and after it).
  const bool shifted = layout == Layout::kShifted;
  const int64_t pad = slice ? static_cast<int64_t>(rng() % 3) : shifted ? 1 + static_cast<int64_t>(rng() % 7) : 0;
  const int64_t tail = shifted ? static_cast<int64_t>(rng() % 3) : 0;
  offset += pad;
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> data(pad + size + tail);
  for (T& v : data) v = static_cast<T>(u(rng));
  auto storage = std::make_shared<ch02::Storage<T>>(std::move(data));
  ch02::Tensor<T> tensor(storage, ch02::View{shape, strides, offset});
  const char* names[] = {"row-major", "permuted", "sliced", "expanded", "mixed", "shifted"};
  Strided<T> out{tensor, read(tensor), describe(shape, strides, offset, names[int(layout)])};
  return out;
}

// Sizes in [1, max_size] for ndim in [min_ndim, max_ndim].
inline Shape random_shape(std::mt19937_64& rng, size_t min_ndim, size_t max_ndim, int64_t max_size) {
  const size_t n = min_ndim + rng() % (max_ndim - min_ndim + 1);
  Shape shape(n);
  for (int64_t& s : shape) s = 1 + static_cast<int64_t>(rng() % max_size);
  return shape;
}

// Two shapes that broadcast to `out`: each drops some leading axes and turns some axes into 1.
inline std::pair<Shape, Shape> random_broadcast_pair(std::mt19937_64& rng, const Shape& out) {
  auto one = [&]() {
    Shape s(out.begin() + static_cast<long>(rng() % (out.size() + 1)), out.end());
    for (int64_t& d : s) {
      if (rng() % 3 == 0) d = 1;
    }
    return s;
  };
  return {one(), one()};
}

inline std::span<const double> span(const Dense& d) { return d.values; }

// Compares shapes, then values; `what` names the op and the inputs for the message.
inline ::testing::AssertionResult matches(const Dense& expected, const Dense& got, double rtol,
                                          double atol, const std::string& what) {
  if (expected.shape != got.shape) {
    return ::testing::AssertionFailure() << what << ": expected shape "
                                         << dense::shape_str(expected.shape) << ", got "
                                         << dense::shape_str(got.shape);
  }
  return testing_util::all_close(span(expected), span(got), rtol, atol, what);
}

// Rounds every value to T and back: the exact inputs a T computation starts from.
template <typename T>
Dense round_to(const Dense& d) {
  Dense out = d;
  for (double& v : out.values) v = static_cast<double>(static_cast<T>(v));
  return out;
}

}  // namespace strided_testing

#endif  // TESTS_02_STRIDED_TENSORS_STRIDED_TESTING_H_
