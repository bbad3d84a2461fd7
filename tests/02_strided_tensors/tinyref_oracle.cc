#include "tests/02_strided_tensors/tinyref_oracle.h"

#include <stdexcept>

#include "tests/testing/testing.h"

namespace tinyref_oracle {

namespace {
constexpr const char* kDevice = "INTERP";
}  // namespace

tinyref::Tensor to_tinyref(const Dense& d, bool requires_grad) {
  tinyref::Tensor t = tinyref::Tensor::from_vector<double>(d.values, d.shape, kDevice);
  if (requires_grad) t.requires_grad_();
  return t;
}

Dense from_tinyref(const tinyref::Tensor& t) {
  return Dense{t.shape(), t.cast(tinyref::DType::kFloat64).to_vector<double>()};
}

Dense unary(const std::string& op, const Dense& x) {
  const tinyref::Tensor t = to_tinyref(x);
  if (op == "neg") return from_tinyref(t.neg());
  if (op == "exp") return from_tinyref(t.exp());
  if (op == "log") return from_tinyref(t.log());
  if (op == "sqrt") return from_tinyref(t.sqrt());
  if (op == "relu") return from_tinyref(t.relu());
  throw std::invalid_argument("tinyref_oracle::unary: unknown op " + op);
}

Dense binary(const std::string& op, const Dense& a, const Dense& b) {
  const tinyref::Tensor x = to_tinyref(a), y = to_tinyref(b);
  if (op == "add") return from_tinyref(x + y);
  if (op == "sub") return from_tinyref(x - y);
  if (op == "mul") return from_tinyref(x * y);
  if (op == "div") return from_tinyref(x / y);
  if (op == "greater") return from_tinyref(x.gt(y));
  throw std::invalid_argument("tinyref_oracle::binary: unknown op " + op);
}

Dense reduce(const Dense& x, const std::vector<int>& axes, bool keepdim, dense::Reduce op) {
  if (axes.empty()) return x;
  const tinyref::Tensor t = to_tinyref(x);
  return from_tinyref(op == dense::Reduce::kSum ? t.sum(axes, keepdim) : t.max(axes, keepdim));
}

Dense matmul(const Dense& a, const Dense& b) { return from_tinyref(to_tinyref(a).matmul(to_tinyref(b))); }

ValueAndGradients value_and_gradients(const Fn& f, const std::vector<Dense>& inputs, const Dense& w) {
  std::vector<tinyref::Tensor> leaves;
  for (const Dense& d : inputs) leaves.push_back(to_tinyref(d, /*requires_grad=*/true));
  const tinyref::Tensor out = f(leaves);
  ValueAndGradients r{from_tinyref(out), {}};
  tinyref::Tensor loss = (out * to_tinyref(w)).sum();
  loss.backward();
  for (size_t i = 0; i < leaves.size(); ++i) {
    const tinyref::Tensor g = leaves[i].grad();
    // A leaf the output does not depend on gets no gradient in tinyref: it is zero.
    r.gradients.push_back(g.defined() ? from_tinyref(g)
                                      : Dense{inputs[i].shape, std::vector<double>(inputs[i].values.size(), 0.0)});
  }
  return r;
}

::testing::AssertionResult agree(const Dense& plain_loops, const Dense& tinyref, double tol,
                                 const std::string& what) {
  const std::string prefix = "COURSE BUG (not yours; please report it): the plain-loop oracle and tinyref disagree on " + what;
  if (plain_loops.shape != tinyref.shape) {
    return ::testing::AssertionFailure() << prefix << ": shapes " << dense::shape_str(plain_loops.shape) << " and "
                                         << dense::shape_str(tinyref.shape);
  }
  return testing_util::all_close(plain_loops.values, tinyref.values, tol, tol, prefix);
}

}  // namespace tinyref_oracle
