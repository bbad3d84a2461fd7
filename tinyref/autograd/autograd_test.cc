// Gradient checks: every differentiable op in ops.def, and random composite graphs, against
// central finite differences, all in float64 on INTERP (no compiler, exact IEEE semantics).
#include "tinyref/autograd/autograd.h"

#include <cmath>
#include <functional>
#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

Tensor f64(const std::vector<double>& v, const Shape& s, const std::string& dev = "INTERP") {
  return Tensor::from_vector(v, s, dev);
}

std::vector<double> random_values(std::mt19937_64& rng, int64_t n, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

// Compares d(sum(f(x) * r))/dx from backward() with central differences, for every input.
void gradcheck(const Fn& f, const std::vector<std::pair<Shape, std::pair<double, double>>>& inputs,
               std::mt19937_64& rng, const std::string& what, double eps = 1e-6, double rtol = 1e-5) {
  std::vector<std::vector<double>> values;
  for (const auto& [shape, range] : inputs) values.push_back(random_values(rng, prod(shape), range.first, range.second));
  auto make = [&](const std::vector<std::vector<double>>& vals, bool grad) {
    std::vector<Tensor> xs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      xs.push_back(f64(vals[i], inputs[i].first));
      if (grad) xs.back().requires_grad_();
    }
    return xs;
  };
  // A fixed random projection makes the loss depend on every output element differently.
  std::vector<Tensor> probe = make(values, false);
  Tensor out0 = f(probe);
  std::vector<double> r = random_values(rng, out0.numel(), 0.5, 1.5);
  Tensor weights = f64(r, out0.shape());
  auto loss = [&](const std::vector<Tensor>& xs) { return (f(xs) * weights).sum(); };

  std::vector<Tensor> xs = make(values, true);
  loss(xs).backward();
  // eps 1e-6 in float64: truncation error ~eps^2 * f''' and rounding ~1e-16/eps ~1e-10, so
  // analytic and numeric agree to ~1e-6 relative for the smooth functions used here.
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<double> numeric(values[i].size());
    for (size_t j = 0; j < values[i].size(); ++j) {
      auto plus = values, minus = values;
      plus[i][j] += eps;
      minus[i][j] -= eps;
      numeric[j] = (loss(make(plus, false)).item() - loss(make(minus, false)).item()) / (2 * eps);
    }
    ASSERT_TRUE(xs[i].grad().defined()) << what << ": input " << i << " got no gradient";
    std::vector<double> analytic = xs[i].grad().to_vector<double>();
    EXPECT_TRUE(testing_util::all_close(numeric, analytic, rtol, 1e-6, what + " d/dinput" + std::to_string(i)));
  }
}

struct OpCase {
  Op op;
  Fn f;
  std::vector<std::pair<Shape, std::pair<double, double>>> inputs;
  double eps = 1e-6;
  double rtol = 1e-5;
};

// One case per differentiable op in ops.def: inputs in ranges where the op is smooth.
std::vector<OpCase> op_cases() {
  const std::pair<double, double> any{-2, 2}, pos{0.5, 2};
  return {
      {Op::NEG, [](auto x) { return -x[0]; }, {{{2, 3}, any}}},
      {Op::EXP2, [](auto x) { return x[0].exp2(); }, {{{2, 3}, any}}},
      {Op::LOG2, [](auto x) { return x[0].log2(); }, {{{2, 3}, pos}}},
      {Op::SIN, [](auto x) { return x[0].sin(); }, {{{2, 3}, any}}},
      {Op::SQRT, [](auto x) { return x[0].sqrt(); }, {{{2, 3}, pos}}},
      {Op::RECIP, [](auto x) { return x[0].reciprocal(); }, {{{2, 3}, pos}}},
      // A float32 round trip is a step function at scale 1e-7: difference over 1e-2 instead, where
      // rounding adds at most ~1e-7/1e-2 = 1e-5 relative error.
      {Op::CAST, [](auto x) { return x[0].cast(DType::kFloat32).cast(DType::kFloat64); }, {{{2, 3}, any}}, 1e-2, 1e-4},
      {Op::ADD, [](auto x) { return x[0] + x[1]; }, {{{2, 3}, any}, {{3}, any}}},
      {Op::SUB, [](auto x) { return x[0] - x[1]; }, {{{2, 3}, any}, {{2, 1}, any}}},
      {Op::MUL, [](auto x) { return x[0] * x[1]; }, {{{2, 3}, any}, {{2, 3}, any}}},
      {Op::DIV, [](auto x) { return x[0] / x[1]; }, {{{2, 3}, any}, {{2, 3}, pos}}},
      {Op::MAX, [](auto x) { return x[0].maximum(x[1] + 5.0); }, {{{2, 3}, {4, 6}}, {{2, 3}, any}}},
      {Op::WHERE, [](auto x) { return x[0].gt(x[1]).where(x[0] * 2.0, x[1] * 3.0); }, {{{2, 3}, any}, {{2, 3}, any}}},
      {Op::MULACC, [](auto x) { return x[0].fma(x[1], x[2]); }, {{{2, 3}, any}, {{3}, any}, {{2, 3}, any}}},
      {Op::SUM, [](auto x) { return x[0].sum({1}); }, {{{3, 4}, any}}},
      {Op::RMAX, [](auto x) { return x[0].max({0}); }, {{{3, 4}, any}}},
      {Op::RESHAPE, [](auto x) { return x[0].reshape({3, 2}) * x[0].reshape({3, 2}); }, {{{2, 3}, any}}},
      {Op::PERMUTE, [](auto x) { return x[0].permute({2, 0, 1}); }, {{{2, 3, 2}, any}}},
      {Op::EXPAND, [](auto x) { return x[0].expand({4, 3}) * x[0].expand({4, 3}); }, {{{1, 3}, any}}},
      {Op::PAD, [](auto x) { return x[0].pad({{1, 0}, {2, 1}}).exp(); }, {{{2, 3}, any}}},
      {Op::SHRINK, [](auto x) { return x[0].shrink({{1, 3}, {0, 2}}); }, {{{3, 3}, any}}},
      {Op::FLIP, [](auto x) { return x[0].flip({1}) * x[0]; }, {{{2, 3}, any}}},
      {Op::CONTIGUOUS, [](auto x) { return x[0].transpose().contiguous() * 2.0; }, {{{2, 3}, any}}},
      {Op::COPY, [](auto x) { return (x[0].to("CPU") * 2.0).to("INTERP"); }, {{{2, 3}, any}}},
  };
}

TEST(GradCheck, EveryDifferentiableOpHasACaseAndPasses) {
  std::vector<OpCase> cases = op_cases();
  for (Op op : all_ops()) {
    if (!has_backward_rule(op)) continue;
    bool found = false;
    for (const OpCase& c : cases) found = found || c.op == op;
    EXPECT_TRUE(found) << "no gradient check for " << op_name(op) << ": add one to op_cases()";
  }
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const OpCase& c : cases) gradcheck(c.f, c.inputs, rng, op_name(c.op), c.eps, c.rtol);
  }
}

TEST(GradCheck, CompositeFunctions) {
  const std::pair<double, double> any{-2, 2};
  std::mt19937_64 rng(7);
  gradcheck([](auto x) { return x[0].matmul(x[1]).relu(); }, {{{3, 4}, {0.1, 1}}, {{4, 2}, {0.1, 1}}}, rng, "matmul relu");
  gradcheck([](auto x) { return x[0].softmax(1); }, {{{2, 5}, any}}, rng, "softmax");
  gradcheck([](auto x) { return x[0].log_softmax(0); }, {{{4, 3}, any}}, rng, "log_softmax");
  gradcheck([](auto x) { return x[0].tanh() + x[0].sigmoid() + x[0].gelu(); }, {{{2, 3}, any}}, rng, "tanh sigmoid gelu");
  gradcheck([](auto x) { return x[0].conv2d(x[1], x[2], 1, 1); }, {{{1, 2, 4, 4}, any}, {{3, 2, 3, 3}, any}, {{3}, any}}, rng,
            "conv2d pad 1");
  gradcheck([](auto x) { return x[0].conv2d(x[1], Tensor(), 2, 0, 2, 2); }, {{{1, 4, 7, 7}, any}, {{2, 2, 2, 2}, any}}, rng,
            "conv2d stride 2 dilation 2 groups 2");
  gradcheck([](auto x) { return x[0].max_pool2d(2) + x[0].avg_pool2d(2); }, {{{1, 1, 4, 4}, any}}, rng, "pools");
  gradcheck([](auto x) { return Tensor::cat({x[0], x[1].exp()}, 1).var({1}); }, {{{2, 2}, any}, {{2, 3}, any}}, rng, "cat var");
  Tensor target = Tensor::from_vector(std::vector<int32_t>{2, 0, 1}, {3}, "INTERP");
  gradcheck([&](auto x) { return x[0].cross_entropy(target); }, {{{3, 4}, any}}, rng, "cross_entropy");
}

// Random graphs over two inputs: a mix of the front end's ops in random order.
TEST(GradCheck, RandomCompositeGraphs) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 6; ++trial) {
      std::vector<int> steps;
      for (int i = 0; i < 5; ++i) steps.push_back(static_cast<int>(rng() % 10));
      Fn f = [steps](const std::vector<Tensor>& x) {
        Tensor a = x[0], b = x[1];  // a (3, 4), b (4,)
        for (int s : steps) {
          switch (s) {
            case 0: a = a * b; break;
            case 1: a = a + b.exp(); break;
            case 2: a = (a * 0.5).tanh(); break;
            case 3: a = a - a.mean({1}, true); break;
            case 4: a = a.flip({0}) * a; break;
            case 5: a = a.transpose().reshape({3, 4}); break;
            case 6: a = a.pad({{1, 0}, {0, 0}}).shrink({{0, 3}, {0, 4}}) + a; break;
            case 7: a = a.sin() * b.square(); break;
            case 8: a = a.softmax(1) * 3.0; break;
            default: a = a.maximum(b * 0.1 + 1.7); break;
          }
        }
        return a + b * 0.5;  // b always reaches the output
      };
      std::string what = "steps";
      for (int s : steps) what += " " + std::to_string(s);
      gradcheck(f, {{{3, 4}, {-1, 1}}, {{4}, {-1, 1}}}, rng, what);
    }
  }
}

TEST(Autograd, GradientsAccumulateOnSharedNodes) {
  Tensor x = f64({1, 2, 3}, {3}).requires_grad_();
  Tensor y = x * x;  // used twice below: the two paths add up
  (y + y * 2.0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6, 12, 18}));
  (x * 1.0).sum().backward();  // a second backward adds to the leaf's gradient
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{7, 13, 19}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, BackwardNeedsAScalarThatRequiresGrad) {
  Tensor x = f64({1, 2}, {2}).requires_grad_();
  EXPECT_THROW((x * 2.0).backward(), Error);
  EXPECT_THROW(f64({1}, {1}).backward(), Error);
  EXPECT_THROW(Tensor::zeros({2}, DType::kInt32, "INTERP").requires_grad_(), Error);
}

}  // namespace
}  // namespace tinyref
