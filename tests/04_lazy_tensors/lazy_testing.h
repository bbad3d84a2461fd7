// Chapter 4's test helpers, compiled inside each test with the chapter 4 that test links (yours
// or the solution): the movement programs of moves.h applied to your ShapeTracker and Tensor,
// random layouts (inputs read through views), and gradient checks two independent ways.
//
//   std::mt19937_64 rng(seed);
//   lazy_testing::Layout l = lazy_testing::random_layout(rng, {3, 4});  // a view of shape (3, 4)
//   l.how()                      // "buffer (4, 3), permute(1, 0)": where the input came from
//   lazy_testing::check_gradients("mul", [](auto& x) { return x[0] * x[1]; },        // yours
//                                 [](auto& t) { return t[0] * t[1]; },               // tinyref
//                                 {{{3, 4}}, {{4}}}, rng);
//
// check_gradients compares, for loss = sum(f(inputs) * w) with random weights w:
//   - float32: your value and gradients against tinyref's (float64, INTERP backend);
//   - float64: your gradients against central differences of your own forward pass (the
//     method of torch.autograd.gradcheck), which catches a rule that disagrees with its op.
// Inputs are leaves (buffers) read through random views, so gradients also flow back through
// movement ops.
#ifndef TESTS_04_LAZY_TENSORS_LAZY_TESTING_H_
#define TESTS_04_LAZY_TENSORS_LAZY_TESTING_H_

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ch04/tensor.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/tinyref_oracle.h"
#include "tests/04_lazy_tensors/moves.h"
#include "tests/testing/testing.h"

namespace lazy_testing {

using dense::Dense;
using dense::Shape;
using moves::Kind;
using moves::Move;

// ---------------------------------------------------------------------------- your side

using moves::apply;  // your ShapeTracker and Tensor have the same movement methods as tinyref's

inline ch04::Tensor to_ch04(const Dense& d, ch04::DType dtype = ch04::DType::kFloat64) {
  return ch04::Tensor::from_vector(d.values, d.shape, dtype);
}

inline Dense values(const ch04::Tensor& t) { return Dense{t.shape(), t.to_vector()}; }

// Every element's buffer position through your ShapeTracker against `expected` (1 + position,
// 0 for padding: moves::positions after the same moves).
inline ::testing::AssertionResult index_matches(const ch04::ShapeTracker& st, const Dense& expected,
                                                const std::string& what) {
  if (st.shape() != expected.shape) {
    return ::testing::AssertionFailure() << what << ": shape " << dense::shape_str(st.shape()) << ", expected "
                                         << dense::shape_str(expected.shape);
  }
  std::string first_bad;
  int bad = 0;
  dense::for_each_index(expected.shape, [&](const Shape& idx) {
    const int64_t want = static_cast<int64_t>(expected.at(idx)) - 1, got = st.index(idx);
    if (want != got && bad++ == 0) {
      first_bad = "element " + dense::shape_str(idx) + " reads position " + std::to_string(got) + ", expected " +
                  (want < 0 ? std::string("padding (-1)") : std::to_string(want));
    }
  });
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << dense::count(expected.shape)
                                       << " elements read the wrong position; first: " << first_bad << "\n  "
                                       << st.str();
}

// ---------------------------------------------------------------------------- random inputs

// Where an input comes from: a buffer of shape `buffer`, read through `program`.
struct Layout {
  Shape buffer;
  std::vector<Move> program;
  std::string how() const {
    return "buffer " + dense::shape_str(buffer) + (program.empty() ? "" : ", " + moves::describe(program));
  }
};

// A program that ends at `shape`, chosen among: none, a permute, a flip, a shrink of a bigger
// buffer, an expand of size-1 axes, a pad of a smaller one (unless padding's zeros are not
// allowed: log, sqrt and division would meet 0), and a transposed buffer reshaped (which no
// single View can read: two views).
inline Layout random_layout(std::mt19937_64& rng, const Shape& shape, bool padding = true) {
  const size_t n = shape.size();
  int kind = static_cast<int>(std::uniform_int_distribution<int>(0, 6)(rng));
  if (kind == 5 && !padding) kind = 0;
  Layout l{shape, {}};
  if (n == 0 || kind == 0) return l;
  Move m;
  switch (kind) {
    case 1:  // permuted: the buffer holds the axes in reverse order
      m.kind = Kind::kPermute;
      for (size_t i = 0; i < n; ++i) {
        m.order.push_back(static_cast<int>(n - 1 - i));
        l.buffer[n - 1 - i] = shape[i];
      }
      break;
    case 2:  // flipped
      m.kind = Kind::kFlip;
      for (size_t i = 0; i < n; ++i) m.flip.push_back(i % 2 == 0);
      break;
    case 3:  // shrunk from a bigger buffer
      m.kind = Kind::kShrink;
      for (size_t i = 0; i < n; ++i) {
        l.buffer[i] = shape[i] + 2;
        m.pairs.push_back({1, 1 + shape[i]});
      }
      break;
    case 4:  // expanded: the first axis of size > 1 is read from a buffer of size 1
      m.kind = Kind::kExpand;
      m.shape = shape;
      for (size_t i = 0; i < n; ++i) {
        if (shape[i] > 1) {
          l.buffer[i] = 1;
          break;
        }
      }
      if (l.buffer == shape) return l;
      break;
    case 5:  // padded: the first axis of size > 1 has a zero at its start
      m.kind = Kind::kPad;
      m.pairs.assign(n, {0, 0});
      for (size_t i = 0; i < n; ++i) {
        if (shape[i] > 1) {
          l.buffer[i] = shape[i] - 1;
          m.pairs[i] = {1, 0};
          break;
        }
      }
      if (l.buffer == shape) return l;
      break;
    default: {  // a transposed matrix flattened: two views
      const int64_t count = dense::count(shape);
      int64_t rows = 1;
      for (int64_t f = 2; f * f <= count; ++f) {
        if (count % f == 0) rows = f;
      }
      if (rows == 1) return l;
      l.buffer = {rows, count / rows};
      Move t;
      t.kind = Kind::kPermute;
      t.order = {1, 0};
      l.program.push_back(t);
      m.kind = Kind::kReshape;
      m.shape = shape;
    }
  }
  l.program.push_back(m);
  return l;
}

// Uniform values in [lo, hi), pushed `gap` away from 0 (for kinks: relu, max, division).
inline Dense random_values(std::mt19937_64& rng, const Shape& shape, double lo = -1, double hi = 1, double gap = 0) {
  Dense d = dense::random(rng, shape, lo, hi);
  for (double& v : d.values) v = v < 0 ? v - gap : v + gap;
  return d;
}

// ---------------------------------------------------------------------------- gradient checks

struct Input {
  Shape shape;
  double lo = -1, hi = 1;
  double gap = 0;
};

struct GradOptions {
  double rtol32 = 2e-4, atol32 = 1e-5;  // float32 against tinyref's float64: a few roundings
  double tol64 = 1e-6;                  // float64 against central differences (h = 1e-5)
  bool layouts = true;                  // read the inputs through random views
};

using Fn = std::function<ch04::Tensor(const std::vector<ch04::Tensor>&)>;
using RefFn = std::function<tinyref::Tensor(const std::vector<tinyref::Tensor>&)>;

namespace internal {

struct Case {
  std::vector<Dense> buffers;
  std::vector<Layout> layouts;
  Dense w;
};

inline std::vector<ch04::Tensor> leaves(const Case& c, ch04::DType dtype) {
  std::vector<ch04::Tensor> out;
  for (const Dense& b : c.buffers) out.push_back(to_ch04(b, dtype).requires_grad_());
  return out;
}

inline ch04::Tensor forward(const Fn& f, const Case& c, const std::vector<ch04::Tensor>& xs) {
  std::vector<ch04::Tensor> views;
  for (size_t i = 0; i < xs.size(); ++i) views.push_back(apply(c.layouts[i].program, xs[i]));
  return f(views);
}

// A leaf's gradient, or zeros where backward() gave it none (the condition of a where).
inline std::vector<double> gradient(const ch04::Tensor& leaf) {
  const ch04::Tensor g = leaf.grad();
  return g.defined() ? g.to_vector() : std::vector<double>(leaf.numel(), 0.0);
}

inline double loss64(const Fn& f, const Case& c, const std::vector<Dense>& buffers) {
  ch04::NoGrad no_grad;
  std::vector<ch04::Tensor> xs;
  for (const Dense& b : buffers) xs.push_back(to_ch04(b));
  return (forward(f, c, xs) * to_ch04(c.w)).sum().item();
}

}  // namespace internal

inline void check_gradients(const std::string& what, const Fn& f, const RefFn& ref, const std::vector<Input>& inputs,
                            std::mt19937_64& rng, const GradOptions& opt = {}) {
  internal::Case c;
  std::string how;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const bool zero_ok = inputs[i].lo < 0 && inputs[i].hi > 0;
    c.layouts.push_back(opt.layouts ? random_layout(rng, inputs[i].shape, zero_ok) : Layout{inputs[i].shape, {}});
    c.buffers.push_back(random_values(rng, c.layouts[i].buffer, inputs[i].lo, inputs[i].hi, inputs[i].gap));
    how += "\n  input " + std::to_string(i) + ": " + c.layouts[i].how();
  }
  SCOPED_TRACE(what + how);
  // tinyref: the expected value and gradients.
  std::vector<tinyref::Tensor> ref_leaves, ref_views;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ref_leaves.push_back(tinyref_oracle::to_tinyref(c.buffers[i], /*requires_grad=*/true));
    ref_views.push_back(moves::apply(c.layouts[i].program, ref_leaves[i]));
  }
  const tinyref::Tensor ref_out = ref(ref_views);
  c.w = random_values(rng, ref_out.shape());
  (ref_out * tinyref_oracle::to_tinyref(c.w)).sum().backward();
  const Dense want = tinyref_oracle::from_tinyref(ref_out);
  std::vector<Dense> want_grads;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const tinyref::Tensor g = ref_leaves[i].grad();
    want_grads.push_back(g.defined() ? tinyref_oracle::from_tinyref(g)
                                     : Dense{c.buffers[i].shape, std::vector<double>(c.buffers[i].values.size())});
  }
  // Yours in float32, against tinyref.
  {
    std::vector<ch04::Tensor> xs = internal::leaves(c, ch04::DType::kFloat32);
    const ch04::Tensor out = internal::forward(f, c, xs);
    ASSERT_EQ(out.shape(), want.shape) << what << ": the output's shape";
    EXPECT_TRUE(testing_util::all_close(want.values, out.to_vector(), opt.rtol32, opt.atol32, what + " (float32 value)"));
    (out * to_ch04(c.w, ch04::DType::kFloat32)).sum().backward();
    for (size_t i = 0; i < xs.size(); ++i) {
      EXPECT_TRUE(testing_util::all_close(want_grads[i].values, internal::gradient(xs[i]), opt.rtol32, opt.atol32,
                                          what + ": gradient of input " + std::to_string(i) + " (float32, tinyref's)"));
    }
  }
  // Yours in float64, against central differences of your own forward pass.
  std::vector<ch04::Tensor> xs = internal::leaves(c, ch04::DType::kFloat64);
  (internal::forward(f, c, xs) * to_ch04(c.w)).sum().backward();
  const double h = 1e-5;
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<double> numeric(c.buffers[i].values.size());
    for (size_t j = 0; j < numeric.size(); ++j) {
      std::vector<Dense> plus = c.buffers, minus = c.buffers;
      plus[i].values[j] += h;
      minus[i].values[j] -= h;
      numeric[j] = (internal::loss64(f, c, plus) - internal::loss64(f, c, minus)) / (2 * h);
    }
    EXPECT_TRUE(testing_util::all_close(numeric, internal::gradient(xs[i]), opt.tol64, opt.tol64,
                                        what + ": gradient of input " + std::to_string(i) +
                                            " (float64, against central differences of your forward)"));
  }
}

}  // namespace lazy_testing

#endif  // TESTS_04_LAZY_TENSORS_LAZY_TESTING_H_
