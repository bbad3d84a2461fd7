// tinyref, the course's reference framework, as the oracle of chapters 2 and 3: Dense values
// in, Dense values out, computed by tinyref::Tensor in float64 on its INTERP backend (the
// semantic reference: it executes the kernel IR directly, no compiler involved).
//
//   dense::Dense want = tinyref_oracle::binary("mul", a.values, b.values);   // broadcasts
//   dense::Dense s = tinyref_oracle::reduce(x, {0, -1}, true, dense::Reduce::kSum);
//   // chapter 3: d sum(f(x) * w) / d x for every input, by tinyref's autograd
//   std::vector<dense::Dense> g = tinyref_oracle::gradients(
//       [](const auto& t) { return t[0].exp() * t[1]; }, {x, y}, w);
//
// Tests compare your results with these, and also check that tinyref agrees with the plain
// loops of dense.h (agree() below): two oracles written independently, so that a bug in one of
// them shows up as a course bug, not as a failure of yours.
#ifndef TESTS_02_STRIDED_TENSORS_TINYREF_ORACLE_H_
#define TESTS_02_STRIDED_TENSORS_TINYREF_ORACLE_H_

#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tinyref/tensor.h"

namespace tinyref_oracle {

using dense::Dense;

tinyref::Tensor to_tinyref(const Dense& d, bool requires_grad = false);
Dense from_tinyref(const tinyref::Tensor& t);

// op: "neg", "exp", "log", "sqrt", "relu".
Dense unary(const std::string& op, const Dense& x);
// op: "add", "sub", "mul", "div", "greater" (1.0 where a > b, else 0.0).
Dense binary(const std::string& op, const Dense& a, const Dense& b);
// Like chapter 2's: empty axes reduce nothing (tinyref's own empty list means "all axes").
Dense reduce(const Dense& x, const std::vector<int>& axes, bool keepdim, dense::Reduce op);
Dense matmul(const Dense& a, const Dense& b);

// The value of f and the gradients of sum(f(inputs) * w) with respect to every input.
using Fn = std::function<tinyref::Tensor(const std::vector<tinyref::Tensor>&)>;
struct ValueAndGradients {
  Dense value;
  std::vector<Dense> gradients;
};
ValueAndGradients value_and_gradients(const Fn& f, const std::vector<Dense>& inputs, const Dense& w);

// The two oracles agree to rtol = atol = tol; when they do not, the message says that this
// is the course's bug (please report it), not the student's.
::testing::AssertionResult agree(const Dense& plain_loops, const Dense& tinyref, double tol,
                                 const std::string& what);

}  // namespace tinyref_oracle

#endif  // TESTS_02_STRIDED_TENSORS_TINYREF_ORACLE_H_
