// Gradient checks for chapter 3, two independent ways:
//
// check_gradients (float32): your op's value and the gradients of your backward rule against
//   tinyref's (float64, INTERP backend: tinyref::Tensor's own autograd). tinyref in turn is
//   checked against a second oracle that shares nothing with it: the plain loops of dense.h,
//   differentiated by central differences in double. If those two disagree, the failure says
//   it is a course bug.
// gradcheck64 (float64): your own op run in double, its backward against central differences
//   of its own forward (torch.autograd.gradcheck's method). Catches a backward that disagrees
//   with its forward, to 1e-6.
//
// Both build the inputs as random strided layouts (strided_testing.h) and take the loss
// L = sum(f(inputs) * w) for random weights w, seeded through backward(w): every output element
// matters, with a different weight.
//
//   grad_testing::check_gradients("mul", [](auto& x) { return x[0] * x[1]; },          // yours
//       [](auto& d) { return dense::zip(d[0], d[1], std::multiplies<>()); },             // loops
//       [](auto& t) { return t[0] * t[1]; },                                             // tinyref
//       {{{2, 3}}, {{3}}}, rng);
#ifndef TESTS_03_AUTOGRAD_NN_GRAD_TESTING_H_
#define TESTS_03_AUTOGRAD_NN_GRAD_TESTING_H_

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ch03/autograd.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/02_strided_tensors/tinyref_oracle.h"
#include "tests/testing/testing.h"

namespace grad_testing {

using dense::Dense;
using dense::Shape;

// One input of an op: its shape, the range of its values, and optionally a gap around 0 (for
// relu, whose derivative jumps there: finite differences straddling 0 mean nothing).
struct Input {
  Shape shape;
  double lo = -1, hi = 1;
  double gap = 0;
  bool requires_grad = true;
};

template <typename T>
struct Leaf {
  ch03::Tensor<T> tensor;
  Dense values;
  std::string layout;
};

template <typename T>
Leaf<T> random_leaf(std::mt19937_64& rng, const Input& in) {
  auto x = strided_testing::random_strided<T>(rng, in.shape, strided_testing::Layout::kAny, in.lo, in.hi);
  if (in.gap > 0) {
    for (T& v : x.tensor.storage()->data) v = v < 0 ? v - T(in.gap) : v + T(in.gap);
  }
  return {ch03::Tensor<T>(x.tensor, in.requires_grad), strided_testing::read(x.tensor), x.layout};
}

template <typename T>
using StudentFn = std::function<ch03::Tensor<T>(const std::vector<ch03::Tensor<T>>&)>;
using DenseFn = std::function<Dense(const std::vector<Dense>&)>;

inline double weighted_sum(const Dense& out, const Dense& w) {
  double s = 0;
  for (size_t i = 0; i < out.values.size(); ++i) s += out.values[i] * w.values[i];
  return s;
}

// d sum(f(inputs) * w) / d inputs[i], by central differences in double.
inline Dense numeric_gradient(const std::function<double(const std::vector<Dense>&)>& loss,
                              std::vector<Dense> inputs, size_t i, double h) {
  Dense grad{inputs[i].shape, std::vector<double>(inputs[i].values.size())};
  for (size_t j = 0; j < grad.values.size(); ++j) {
    const double x = inputs[i].values[j];
    inputs[i].values[j] = x + h;
    const double up = loss(inputs);
    inputs[i].values[j] = x - h;
    const double down = loss(inputs);
    inputs[i].values[j] = x;
    grad.values[j] = (up - down) / (2 * h);
  }
  return grad;
}

// The plain-loop oracle's gradients: central differences in double. With h = 1e-6 the
// truncation error is ~h^2 |f'''| < 1e-10 and the rounding error ~1e-16 |L| / h < 1e-9.
inline std::vector<Dense> plain_loop_gradients(const DenseFn& ref, const std::vector<Dense>& inputs,
                                              const Dense& w) {
  std::vector<Dense> grads;
  for (size_t i = 0; i < inputs.size(); ++i) {
    grads.push_back(numeric_gradient([&](const std::vector<Dense>& x) { return weighted_sum(ref(x), w); },
                                     inputs, i, 1e-6));
  }
  return grads;
}

inline std::string describe(const std::string& name, const std::vector<Dense>& values,
                            const std::vector<std::string>& layouts) {
  std::string s = name + " of ";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + ("input " + std::to_string(i) + " " + layouts[i]);
  return s;
}

// Tolerance of the float32 checks. The inputs are small (at most 27 elements, values of order
// 1), so float rounding in a forward or backward pass is around 1e-6 (a few ulp of 6e-8 times
// sums of up to 27 terms). 1e-4 leaves a margin of about 100 and still catches a wrong rule by
// orders of magnitude: a missing term, a missing transpose or a forgotten sum_to_shape is off
// by the size of a term, 0.01 to 1.
inline constexpr double kFloatTol = 1e-4;

// Value and gradients of `f` on random inputs, float32, against tinyref's `tf`, which is first
// checked against the plain loops `ref`.
inline void check_gradients(const std::string& name, const StudentFn<float>& f, const DenseFn& ref,
                            const tinyref_oracle::Fn& tf, const std::vector<Input>& specs,
                            std::mt19937_64& rng) {
  std::vector<Leaf<float>> leaves;
  std::vector<ch03::Tensor<float>> tensors;
  std::vector<Dense> values;
  std::vector<std::string> layouts;
  for (const Input& in : specs) {
    leaves.push_back(random_leaf<float>(rng, in));
    tensors.push_back(leaves.back().tensor);
    values.push_back(leaves.back().values);
    layouts.push_back(leaves.back().layout);
  }
  const std::string what = describe(name, values, layouts);
  const ch03::Tensor<float> out = f(tensors);
  const Dense w = strided_testing::round_to<float>(dense::random(rng, ref(values).shape));
  const tinyref_oracle::ValueAndGradients expected = tinyref_oracle::value_and_gradients(tf, values, w);
  ASSERT_TRUE(tinyref_oracle::agree(ref(values), expected.value, 1e-9, "the value of " + name));
  const std::vector<Dense> plain = plain_loop_gradients(ref, values, w);
  for (size_t i = 0; i < specs.size(); ++i) {
    ASSERT_TRUE(tinyref_oracle::agree(plain[i], expected.gradients[i], 1e-6,
                                      "the gradient of input " + std::to_string(i) + " of " + name));
  }
  ASSERT_TRUE(strided_testing::matches(expected.value, strided_testing::read(out.value()), kFloatTol, kFloatTol,
                                       "value of " + what));
  out.backward(ch02::FloatTensor::from_vector(w.shape, {w.values.begin(), w.values.end()}));
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!specs[i].requires_grad) {
      EXPECT_FALSE(tensors[i].has_grad()) << what << ": input " << i << " is a constant; it must get no gradient";
      continue;
    }
    ASSERT_TRUE(tensors[i].has_grad()) << what << ": input " << i << " got no gradient";
    ASSERT_TRUE(strided_testing::matches(expected.gradients[i], strided_testing::read(tensors[i].grad()), kFloatTol,
                                         kFloatTol, "gradient of input " + std::to_string(i) + " of " + what));
  }
}

// gradcheck in double on your own forward. Tolerance: central differences with h = 1e-6 of a
// double computation carry ~1e-9 of rounding and truncation error; 1e-6 is 1000 times that,
// and far below the size of any mistake in a rule.
inline void gradcheck64(const std::string& name, const StudentFn<double>& f,
                        const std::vector<Input>& specs, std::mt19937_64& rng) {
  std::vector<ch03::Tensor<double>> tensors;
  std::vector<Dense> values;
  std::vector<std::string> layouts;
  for (const Input& in : specs) {
    Leaf<double> leaf = random_leaf<double>(rng, in);
    tensors.push_back(leaf.tensor);
    values.push_back(leaf.values);
    layouts.push_back(leaf.layout);
  }
  const std::string what = describe(name, values, layouts) + " (float64)";
  const ch03::Tensor<double> out = f(tensors);
  const Dense w = dense::random(rng, out.shape());
  out.backward(ch02::DoubleTensor::from_vector(w.shape, w.values));
  auto loss = [&](const std::vector<Dense>& x) {
    ch03::NoGradGuard no_grad;
    std::vector<ch03::Tensor<double>> in;
    for (const Dense& d : x) in.emplace_back(ch02::DoubleTensor::from_vector(d.shape, d.values));
    return weighted_sum(strided_testing::read(f(in).value()), w);
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!specs[i].requires_grad) continue;
    ASSERT_TRUE(tensors[i].has_grad()) << what << ": input " << i << " got no gradient";
    ASSERT_TRUE(strided_testing::matches(numeric_gradient(loss, values, i, 1e-6),
                                         strided_testing::read(tensors[i].grad()), 1e-6, 1e-6,
                                         "gradient of input " + std::to_string(i) + " of " + what +
                                             " against finite differences of your forward"));
  }
}

// A random shape with ndim in [min_ndim, 3] and sizes in [1, 3]: at most 27 elements.
inline Shape small_shape(std::mt19937_64& rng, size_t min_ndim = 0) {
  return strided_testing::random_shape(rng, min_ndim, 3, 3);
}

}  // namespace grad_testing

#endif  // TESTS_03_AUTOGRAD_NN_GRAD_TESTING_H_
