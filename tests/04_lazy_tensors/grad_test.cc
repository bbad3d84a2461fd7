// Tasks 6 and 7: backward() and the rules of the primitive ops. Every gradient is checked two
// ways (lazy_testing.h): in float32 against tinyref's autograd, and in float64 against central
// differences of your own forward pass. Inputs are leaves read through random views, so every
// check also sends gradients back through movement ops.
#include <random>

#include "ch04/tensor.h"
#include "gtest/gtest.h"
#include "tests/04_lazy_tensors/lazy_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch04::DType;
using ch04::Tensor;
using lazy_testing::check_gradients;
using lazy_testing::Input;
using R = tinyref::Tensor;
using Ts = std::vector<Tensor>;
using Rs = std::vector<R>;

dense::Shape random_shape(std::mt19937_64& rng, int max_ndim = 3, int64_t max_size = 4) {
  dense::Shape s(std::uniform_int_distribution<int>(1, max_ndim)(rng));
  for (int64_t& d : s) d = std::uniform_int_distribution<int64_t>(1, max_size)(rng);
  return s;
}

// A shape that broadcasts against `s`: some axes 1, maybe fewer axes.
dense::Shape broadcastable(std::mt19937_64& rng, dense::Shape s) {
  for (int64_t& d : s) d = rng() % 3 == 0 ? 1 : d;
  if (s.size() > 1 && rng() % 2) s.erase(s.begin());
  return s;
}

// ---------------------------------------------------------------------------- task 6: backward()

TEST(Task6Backward, TheGradientOfALeafUsedTwiceIsTheSumOfBoth) {
  const Tensor x = Tensor::from_vector({1, 2, 3}, {3}, DType::kFloat64).requires_grad_();
  (x * x + x.exp2()).sum().backward();  // d/dx = 2x + 2^x ln 2
  const std::vector<double> g = x.grad().to_vector();
  for (int i = 0; i < 3; ++i) {
    const double v = i + 1;
    EXPECT_NEAR(g[i], 2 * v + std::exp2(v) * std::log(2.0), 1e-12)
        << "x is used three times (twice by MUL, once by EXP2): its gradient adds all three";
  }
}

TEST(Task6Backward, ADiamondAddsBothPaths) {
  const Tensor x = Tensor::from_vector({0.5, -1.5}, {2}, DType::kFloat64).requires_grad_();
  const Tensor h = x * 3.0;         // used by both branches below
  const Tensor y = (h * h + h.neg()).sum();  // dy/dh = 2h - 1, dh/dx = 3
  y.backward();
  const std::vector<double> g = x.grad().to_vector();
  EXPECT_NEAR(g[0], 3 * (2 * 1.5 - 1), 1e-12) << "h feeds MUL (twice) and NEG: add every path's gradient";
  EXPECT_NEAR(g[1], 3 * (2 * -4.5 - 1), 1e-12);
}

TEST(Task6Backward, LeavesAccumulateAcrossCalls) {
  const Tensor w = Tensor::from_vector({1, -2}, {2}, DType::kFloat64).requires_grad_();
  (w * 3.0).sum().backward();
  (w * w).sum().backward();  // a new forward pass: the first one's graph is spent
  const std::vector<double> g = w.grad().to_vector();
  EXPECT_EQ(g, (std::vector<double>{3 + 2, 3 - 4})) << "a second backward() adds to the leaf's gradient";
  Tensor copy = w;
  copy.zero_grad();
  EXPECT_FALSE(w.grad().defined()) << "zero_grad forgets the gradient (and copies share it)";
}

TEST(Task6Backward, OnlyWhatRequiresGradGetsAGradient) {
  const Tensor x = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  const Tensor c = Tensor::from_vector({5, 7}, {2});
  const Tensor unused = Tensor::from_vector({1}, {1}).requires_grad_();
  (x * c).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{5, 7}));
  EXPECT_FALSE(c.grad().defined()) << "a constant input gets no gradient";
  EXPECT_FALSE(unused.grad().defined()) << "a leaf the loss does not use gets none";
  Tensor y;
  {
    ch04::NoGrad no_grad;
    y = (x * 2.0).sum();
  }
  EXPECT_FALSE(y.requires_grad()) << "ops under NoGrad record nothing";
  EXPECT_THROW((x * 2.0).backward(), ch04::ShapeError) << "backward() of a tensor with 2 elements";
  EXPECT_THROW(c.sum().backward(), std::invalid_argument) << "backward() with nothing that requires grad";
}

// ---------------------------------------------------------------------------- task 6: elementwise rules

TEST(Task6ElementwiseGrad, UnaryOps) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape s = random_shape(rng);
    check_gradients("neg", [](const Ts& x) { return x[0].neg(); }, [](const Rs& x) { return x[0].neg(); }, {{s}}, rng);
    check_gradients("exp2", [](const Ts& x) { return x[0].exp2(); }, [](const Rs& x) { return x[0].exp2(); }, {{s}}, rng);
    check_gradients("log2", [](const Ts& x) { return x[0].log2(); }, [](const Rs& x) { return x[0].log2(); },
                    {{s, 0.3, 3}}, rng);
    check_gradients("sin", [](const Ts& x) { return x[0].sin(); }, [](const Rs& x) { return x[0].sin(); },
                    {{s, -3, 3}}, rng);
    check_gradients("sqrt", [](const Ts& x) { return x[0].sqrt(); }, [](const Rs& x) { return x[0].sqrt(); },
                    {{s, 0.2, 3}}, rng);
    check_gradients("reciprocal", [](const Ts& x) { return x[0].reciprocal(); },
                    [](const Rs& x) { return x[0].reciprocal(); }, {{s, 0.5, 2, 0}}, rng);
  }
}

TEST(Task6ElementwiseGrad, BinaryOpsBroadcasting) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape s = random_shape(rng), t = broadcastable(rng, s);
    check_gradients("add", [](const Ts& x) { return x[0] + x[1]; }, [](const Rs& x) { return x[0] + x[1]; },
                    {{s}, {t}}, rng);
    check_gradients("sub", [](const Ts& x) { return x[0] - x[1]; }, [](const Rs& x) { return x[0] - x[1]; },
                    {{t}, {s}}, rng);
    check_gradients("mul", [](const Ts& x) { return x[0] * x[1]; }, [](const Rs& x) { return x[0] * x[1]; },
                    {{s}, {t}}, rng);
    check_gradients("div", [](const Ts& x) { return x[0] / x[1]; }, [](const Rs& x) { return x[0] / x[1]; },
                    {{s}, {t, 0.5, 2}}, rng);
    check_gradients("div by a negative", [](const Ts& x) { return x[1] / x[0]; }, [](const Rs& x) { return x[1] / x[0]; },
                    {{s, -2, -0.5}, {t}}, rng);
  }
}

TEST(Task6ElementwiseGrad, MaximumAndWhere) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape s = random_shape(rng), t = broadcastable(rng, s);
    // x0 at least 0.1 from 0, x1 within 0.06 of it but not within 0.01: never equal, never close.
    check_gradients("maximum", [](const Ts& x) { return x[0].maximum(x[1] * 1.0); },
                    [](const Rs& x) { return x[0].maximum(x[1] * 1.0); }, {{s, -1, 1, 0.1}, {t, -0.05, 0.05, 0.01}}, rng);
    check_gradients("where", [](const Ts& x) { return x[2].lt(x[0] * 0.0).where(x[0], x[1]); },
                    [](const Rs& x) { return x[2].lt(x[0] * 0.0).where(x[0], x[1]); }, {{s}, {t}, {s, -1, 1, 0.1}},
                    rng);
  }
}

TEST(Task6ElementwiseGrad, MaximumSplitsTiesEvenly) {
  const Tensor x = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  const Tensor y = Tensor::from_vector({1, 5, 3}, {3}).requires_grad_();
  x.maximum(y).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0.5, 0, 0.5})) << "on a tie each input takes half";
  EXPECT_EQ(y.grad().to_vector(), (std::vector<double>{0.5, 1, 0.5}));
  const Tensor z = Tensor::from_vector({-1, 0, 2}, {3}).requires_grad_();
  z.relu().sum().backward();
  EXPECT_EQ(z.grad().to_vector(), (std::vector<double>{0, 0.5, 1})) << "relu(0) = max(0, 0): half";
}

// ---------------------------------------------------------------------------- task 7: reductions, movement

TEST(Task7ReduceMoveGrad, SumOverRandomAxes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 3; ++trial) {
      const dense::Shape s = random_shape(rng, 4, 3);
      std::vector<int> axes;
      for (int a = 0; a < static_cast<int>(s.size()); ++a) {
        if (rng() % 2) axes.push_back(a);
      }
      const bool keep = trial % 2;
      check_gradients("sum over axes " + dense::shape_str(dense::Shape(axes.begin(), axes.end())),
                      [&](const Ts& x) { return x[0].sum(axes, keep); }, [&](const Rs& x) { return x[0].sum(axes, keep); },
                      {{s}}, rng);
    }
  }
}

TEST(Task7ReduceMoveGrad, MaxOverRandomAxes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 3; ++trial) {
      const dense::Shape s = random_shape(rng, 3, 4);
      const std::vector<int> axes = {static_cast<int>(rng() % s.size())};
      // Layouts off: an expanded input would repeat a value and tie with itself.
      lazy_testing::GradOptions opt;
      opt.layouts = false;
      check_gradients("max over axis " + std::to_string(axes[0]), [&](const Ts& x) { return x[0].max(axes); },
                      [&](const Rs& x) { return x[0].max(axes); }, {{s}}, rng, opt);
    }
  }
}

TEST(Task7ReduceMoveGrad, MaxSplitsTiesEvenly) {
  const Tensor x = Tensor::from_vector({3, 1, 3, 2, 2, 2}, {2, 3}).requires_grad_();
  (x.max({1}) * Tensor::from_vector({1, 10}, {2})).sum().backward();
  EXPECT_TRUE(testing_util::all_close(std::vector<double>{0.5, 0, 0.5, 10.0 / 3, 10.0 / 3, 10.0 / 3}, x.grad().to_vector(), 1e-6, 0,
                                      "the gradient of a max goes to the positions that reach it, split evenly: "
                                      "row 0 has two, row 1 three"));
}

TEST(Task7ReduceMoveGrad, EachMovementOp) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    check_gradients("reshape", [](const Ts& x) { return x[0].reshape({4, 3}); },
                    [](const Rs& x) { return x[0].reshape({4, 3}); }, {{{2, 6}}}, rng);
    check_gradients("permute", [](const Ts& x) { return x[0].permute({2, 0, 1}) * 1.0; },
                    [](const Rs& x) { return x[0].permute({2, 0, 1}) * 1.0; }, {{{2, 3, 4}}}, rng);
    check_gradients("expand (broadcast read)", [](const Ts& x) { return x[0].expand({3, 2, 4}); },
                    [](const Rs& x) { return x[0].expand({3, 2, 4}); }, {{{1, 2, 1}}}, rng);
    check_gradients("pad", [](const Ts& x) { return x[0].pad({{2, 0}, {1, 3}}); },
                    [](const Rs& x) { return x[0].pad({{2, 0}, {1, 3}}); }, {{{3, 2}}}, rng);
    check_gradients("pad with a value", [](const Ts& x) { return x[0].pad({{0, 1}, {2, 1}}, -0.5); },
                    [](const Rs& x) { return x[0].pad({{0, 1}, {2, 1}}, -0.5); }, {{{3, 2}}}, rng);
    check_gradients("shrink", [](const Ts& x) { return x[0].shrink({{1, 3}, {0, 2}, {2, 3}}); },
                    [](const Rs& x) { return x[0].shrink({{1, 3}, {0, 2}, {2, 3}}); }, {{{4, 3, 3}}}, rng);
    check_gradients("flip", [](const Ts& x) { return x[0].flip({0, 2}); }, [](const Rs& x) { return x[0].flip({0, 2}); },
                    {{{2, 3, 2}}}, rng);
    check_gradients("contiguous", [](const Ts& x) { return x[0].transpose().contiguous(); },
                    [](const Rs& x) { return x[0].transpose().contiguous(); }, {{{3, 2}}}, rng);
  }
}

TEST(Task7ReduceMoveGrad, RandomMovementPrograms) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 4; ++trial) {
      const dense::Shape s = random_shape(rng, 3, 3);
      const std::vector<moves::Move> program = moves::random_program(rng, s, 5, 60);
      check_gradients("x then " + moves::describe(program),
                      [&](const Ts& x) { return lazy_testing::apply(program, x[0]) * 1.0; },
                      [&](const Rs& x) { return moves::apply(program, x[0]) * 1.0; }, {{s}}, rng);
    }
  }
}

TEST(Task7ReduceMoveGrad, ComposedOpsNeedNoRulesOfTheirOwn) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape s = random_shape(rng);
    check_gradients("exp, log, sigmoid, tanh", [](const Ts& x) { return (x[0].exp() + x[0].sigmoid()).log() * x[0].tanh(); },
                    [](const Rs& x) { return (x[0].exp() + x[0].sigmoid()).log() * x[0].tanh(); }, {{s}}, rng);
    check_gradients("mean and var", [](const Ts& x) { return x[0].mean({0}) + x[0].var({}, true); },
                    [](const Rs& x) { return x[0].mean({0}) + x[0].var({}, true); }, {{s}}, rng);
  }
}

}  // namespace
