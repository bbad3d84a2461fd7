// The layers against plain loops (forward), and against central finite differences (backward),
// in float64 on INTERP: exact IEEE arithmetic and no compiler, so tolerances can be tight.
#include "tinyref/nn/layers.h"

#include <cmath>
#include <functional>
#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace tinyref::nn {
namespace {

constexpr DType kF64 = DType::kFloat64;
const std::string kDev = "INTERP";

std::vector<double> random_values(std::mt19937_64& rng, int64_t n, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

Tensor f64(const std::vector<double>& v, const Shape& s) { return Tensor::from_vector(v, s, kDev); }

// Sets a parameter to given values (tests need known weights, not the random init).
void set(Tensor& t, const std::vector<double>& v) { t.assign(f64(v, t.shape())); }

int64_t rand_in(std::mt19937_64& rng, int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % (hi - lo + 1)); }

// Directional finite differences: for random directions d, <dL/dx, d> against
// (L(x + eps d) - L(x - eps d)) / (2 eps) with L = sum(f(x) * r) for a fixed random r. A wrong
// gradient component shows up in every random direction with probability 1. eps 1e-6 in
// float64: truncation ~eps^2 |f'''| and rounding ~1e-16/eps, so they agree to ~1e-8 relative
// for the smooth (or piecewise linear, away from kinks) functions here; 1e-6 leaves margin.
void check_gradient(const std::string& what, const std::function<Tensor()>& f, std::vector<Tensor*> inputs,
                    std::mt19937_64& rng, double rtol = 1e-6) {
  const Tensor out = f();
  const Tensor r = f64(random_values(rng, out.numel(), 0.5, 1.5), out.shape());
  auto loss = [&]() { return (f() * r).sum(); };
  for (Tensor* x : inputs) {
    x->zero_grad();
    x->requires_grad_();
  }
  loss().backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor& x = *inputs[i];
    ASSERT_TRUE(x.grad().defined()) << what << ": input " << i << " got no gradient";
    const std::vector<double> grad = x.grad().to_vector<double>();
    const std::vector<double> value = x.to_vector<double>();
    for (int dir = 0; dir < 3; ++dir) {
      const std::vector<double> d = random_values(rng, x.numel());
      const double eps = 1e-6;
      std::vector<double> plus = value, minus = value;
      double analytic = 0;
      for (size_t j = 0; j < value.size(); ++j) {
        plus[j] += eps * d[j];
        minus[j] -= eps * d[j];
        analytic += grad[j] * d[j];
      }
      NoGradGuard no_grad;
      x.assign(f64(plus, x.shape()));
      const double lp = loss().item();
      x.assign(f64(minus, x.shape()));
      const double lm = loss().item();
      x.assign(f64(value, x.shape()));
      EXPECT_TRUE(testing_util::close((lp - lm) / (2 * eps), analytic, rtol, 1e-8,
                                      what + ": d/d(input " + std::to_string(i) + ") along a random direction"));
    }
    x.zero_grad();
  }
}

// ---------------------------------------------------------------- plain-loop references

std::vector<double> linear_ref(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
                               int64_t n, int64_t in, int64_t out) {
  std::vector<double> y(n * out);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t o = 0; o < out; ++o) {
      double s = b.empty() ? 0 : b[o];
      for (int64_t k = 0; k < in; ++k) s += x[i * in + k] * w[o * in + k];
      y[i * out + o] = s;
    }
  }
  return y;
}

struct ConvCase {
  int64_t n, cin, cout, h, w;
  int k, stride, pad, dil, groups;
  int64_t oh() const { return (h + 2 * pad - dil * (k - 1) - 1) / stride + 1; }
  int64_t ow() const { return (w + 2 * pad - dil * (k - 1) - 1) / stride + 1; }
};

std::vector<double> conv_ref(const ConvCase& c, const std::vector<double>& x, const std::vector<double>& wt,
                             const std::vector<double>& b) {
  const int64_t oh = c.oh(), ow = c.ow(), cg = c.cin / c.groups, rc = c.cout / c.groups;
  std::vector<double> y(c.n * c.cout * oh * ow);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t co = 0; co < c.cout; ++co)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double s = b.empty() ? 0 : b[co];
          const int64_t g = co / rc;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ki = 0; ki < c.k; ++ki)
              for (int64_t kj = 0; kj < c.k; ++kj) {
                const int64_t hi = i * c.stride + ki * c.dil - c.pad, wj = j * c.stride + kj * c.dil - c.pad;
                if (hi < 0 || hi >= c.h || wj < 0 || wj >= c.w) continue;
                s += x[((n * c.cin + g * cg + ci) * c.h + hi) * c.w + wj] * wt[((co * cg + ci) * c.k + ki) * c.k + kj];
              }
          y[((n * c.cout + co) * oh + i) * ow + j] = s;
        }
  return y;
}

// ---------------------------------------------------------------- tests

TEST(LinearTest, MatchesLoopsAndGradients) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t n = rand_in(rng, 1, 4), in = rand_in(rng, 1, 6), out = rand_in(rng, 1, 5);
    Linear layer(in, out, {.bias = seed % 2 == 1, .dtype = kF64, .device = kDev});
    std::vector<double> xv = random_values(rng, n * in), wv = random_values(rng, out * in);
    std::vector<double> bv = layer.bias.defined() ? random_values(rng, out) : std::vector<double>{};
    set(layer.weight, wv);
    if (layer.bias.defined()) set(layer.bias, bv);
    Tensor x = f64(xv, {n, in});
    EXPECT_TRUE(testing_util::all_close(linear_ref(xv, wv, bv, n, in, out), layer(x).to_vector<double>(), 1e-12, 1e-12,
                                        "Linear forward"));
    std::vector<Tensor*> inputs = {&x, &layer.weight};
    if (layer.bias.defined()) inputs.push_back(&layer.bias);
    check_gradient("Linear", [&] { return layer(x); }, inputs, rng);
  }
}

TEST(LinearTest, InitIsUniformInPlusMinusOneOverSqrtFanIn) {
  Tensor::manual_seed(3);
  Linear layer(100, 50, {.device = kDev});
  const double bound = 1 / std::sqrt(100.0);
  std::vector<float> w = layer.weight.to_vector<float>(), b = layer.bias.to_vector<float>();
  double lo = 1, hi = -1;
  for (float v : w) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
  for (float v : b) EXPECT_LE(std::fabs(v), bound);
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  // 5000 uniform draws: the extremes come within 1% of the bounds with probability 1 - 1e-21.
  EXPECT_LT(lo, -0.99 * bound);
  EXPECT_GT(hi, 0.99 * bound);
  EXPECT_TRUE(layer.weight.requires_grad());
  EXPECT_THROW(layer(Tensor::zeros({2, 99}, DType::kFloat32, kDev)), Error);
}

TEST(Conv2dTest, MatchesLoopsAndGradients) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 3; ++trial) {
      ConvCase c;
      c.groups = static_cast<int>(rand_in(rng, 1, 2));
      c.n = rand_in(rng, 1, 2);
      c.cin = c.groups * rand_in(rng, 1, 3);
      c.cout = c.groups * rand_in(rng, 1, 3);
      c.k = static_cast<int>(rand_in(rng, 1, 3));
      c.stride = static_cast<int>(rand_in(rng, 1, 2));
      c.pad = static_cast<int>(rand_in(rng, 0, 2));
      c.dil = static_cast<int>(rand_in(rng, 1, 2));
      c.h = rand_in(rng, c.dil * (c.k - 1) + 1, 7);
      c.w = rand_in(rng, c.dil * (c.k - 1) + 1, 7);
      const std::string what = "Conv2d n" + std::to_string(c.n) + " cin" + std::to_string(c.cin) + " cout" +
                               std::to_string(c.cout) + " " + std::to_string(c.h) + "x" + std::to_string(c.w) + " k" +
                               std::to_string(c.k) + " stride" + std::to_string(c.stride) + " pad" +
                               std::to_string(c.pad) + " dil" + std::to_string(c.dil) + " groups" +
                               std::to_string(c.groups);
      SCOPED_TRACE(what);
      Conv2d conv(c.cin, c.cout, c.k,
                  {.stride = c.stride, .padding = c.pad, .dilation = c.dil, .groups = c.groups, .bias = trial != 1, .dtype = kF64, .device = kDev});
      std::vector<double> xv = random_values(rng, c.n * c.cin * c.h * c.w);
      std::vector<double> wv = random_values(rng, conv.weight.numel());
      std::vector<double> bv = conv.bias.defined() ? random_values(rng, c.cout) : std::vector<double>{};
      set(conv.weight, wv);
      if (conv.bias.defined()) set(conv.bias, bv);
      Tensor x = f64(xv, {c.n, c.cin, c.h, c.w});
      Tensor y = conv(x);
      ASSERT_EQ(y.shape(), (Shape{c.n, c.cout, c.oh(), c.ow()}));
      EXPECT_TRUE(testing_util::all_close(conv_ref(c, xv, wv, bv), y.to_vector<double>(), 1e-12, 1e-12, what));
      std::vector<Tensor*> inputs = {&x, &conv.weight};
      if (conv.bias.defined()) inputs.push_back(&conv.bias);
      check_gradient(what, [&] { return conv(x); }, inputs, rng);
    }
  }
}

TEST(BatchNorm2dTest, TrainingNormalizesWithBatchStatisticsAndTracksRunningOnes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t n = rand_in(rng, 2, 3), c = rand_in(rng, 1, 3), h = rand_in(rng, 1, 3), w = rand_in(rng, 2, 3);
    BatchNorm2d bn(c, {.dtype = kF64, .device = kDev});
    std::vector<double> gamma = random_values(rng, c, 0.5, 1.5), beta = random_values(rng, c);
    set(bn.weight, gamma);
    set(bn.bias, beta);
    std::vector<double> xv = random_values(rng, n * c * h * w, -2, 3);
    Tensor x = f64(xv, {n, c, h, w});
    std::vector<double> y = bn(x).to_vector<double>();
    realize_all(tensors_of(bn.buffers()));
    std::vector<double> rm = bn.running_mean.to_vector<double>(), rv = bn.running_var.to_vector<double>();
    const int64_t m = n * h * w;
    for (int64_t ch = 0; ch < c; ++ch) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < h * w; ++p) mean += xv[(i * c + ch) * h * w + p];
      mean /= static_cast<double>(m);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < h * w; ++p) var += std::pow(xv[(i * c + ch) * h * w + p] - mean, 2);
      const double biased = var / static_cast<double>(m), unbiased = var / static_cast<double>(m - 1);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < h * w; ++p) {
          const int64_t at = (i * c + ch) * h * w + p;
          const double want = (xv[at] - mean) / std::sqrt(biased + 1e-5) * gamma[ch] + beta[ch];
          EXPECT_TRUE(testing_util::close(want, y[at], 1e-10, 1e-12, "BatchNorm2d training output"));
        }
      EXPECT_TRUE(testing_util::close(0.1 * mean, rm[ch], 1e-12, 1e-14, "running_mean after one step"));
      EXPECT_TRUE(testing_util::close(0.9 + 0.1 * unbiased, rv[ch], 1e-12, 1e-14, "running_var after one step"));
    }
    EXPECT_EQ(bn.num_batches_tracked.item(), 1);
    std::vector<Tensor*> inputs = {&x, &bn.weight, &bn.bias};
    check_gradient("BatchNorm2d training", [&] { return bn(x); }, inputs, rng);
  }
}

TEST(BatchNorm2dTest, EvaluationUsesRunningStatistics) {
  std::mt19937_64 rng(11);
  BatchNorm2d bn(2, {.dtype = kF64, .device = kDev});
  set(bn.running_mean, {0.5, -1});
  set(bn.running_var, {4, 0.25});
  set(bn.weight, {2, 3});
  set(bn.bias, {0.1, 0.2});
  bn.train(false);
  std::vector<double> xv = random_values(rng, 2 * 2 * 2 * 2);
  std::vector<double> y = bn(f64(xv, {2, 2, 2, 2})).to_vector<double>();
  const double mean[] = {0.5, -1}, var[] = {4, 0.25}, gamma[] = {2, 3}, beta[] = {0.1, 0.2};
  for (size_t i = 0; i < xv.size(); ++i) {
    const size_t ch = (i / 4) % 2;
    const double want = (xv[i] - mean[ch]) / std::sqrt(var[ch] + 1e-5) * gamma[ch] + beta[ch];
    EXPECT_TRUE(testing_util::close(want, y[i], 1e-12, 1e-12, "BatchNorm2d eval output"));
  }
  EXPECT_EQ(bn.running_mean.to_vector<double>(), (std::vector<double>{0.5, -1}));  // untouched in eval
  EXPECT_THROW(bn(f64(xv, {2, 4, 2})), Error);
}

TEST(PoolingTest, MaxPoolFlattenMatchLoops) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t n = rand_in(rng, 1, 2), c = rand_in(rng, 1, 3), h = rand_in(rng, 2, 7), w = rand_in(rng, 2, 7);
    std::vector<double> xv = random_values(rng, n * c * h * w);
    Tensor x = f64(xv, {n, c, h, w});
    Tensor y = max_pool2d(x, 2);
    const int64_t oh = h / 2, ow = w / 2;
    ASSERT_EQ(y.shape(), (Shape{n, c, oh, ow}));
    std::vector<double> want;
    for (int64_t p = 0; p < n * c; ++p)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double m = -INFINITY;
          for (int64_t a = 0; a < 2; ++a)
            for (int64_t b = 0; b < 2; ++b) m = std::max(m, xv[(p * h + 2 * i + a) * w + 2 * j + b]);
          want.push_back(m);
        }
    EXPECT_EQ(want, y.to_vector<double>());
    Tensor f = flatten(y);
    EXPECT_EQ(f.shape(), (Shape{n, c * oh * ow}));
    EXPECT_EQ(want, f.to_vector<double>());
    // Random values have distinct maxima almost surely, so max is differentiable here.
    check_gradient("max_pool2d", [&] { return max_pool2d(x, 2); }, {&x}, rng);
  }
}

TEST(CrossEntropyTest, MatchesLoopsAndGradients) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t n = rand_in(rng, 1, 5), c = rand_in(rng, 2, 6);
    std::vector<double> lv = random_values(rng, n * c, -4, 4);
    std::vector<int32_t> tv(n);
    for (int32_t& t : tv) t = static_cast<int32_t>(rng() % c);
    Tensor logits = f64(lv, {n, c}), target = Tensor::from_vector(tv, {n}, kDev);
    double want = 0;
    for (int64_t i = 0; i < n; ++i) {
      double mx = -INFINITY, s = 0;
      for (int64_t j = 0; j < c; ++j) mx = std::max(mx, lv[i * c + j]);
      for (int64_t j = 0; j < c; ++j) s += std::exp(lv[i * c + j] - mx);
      want += -(lv[i * c + tv[i]] - mx - std::log(s));
    }
    want /= static_cast<double>(n);
    EXPECT_TRUE(testing_util::close(want, cross_entropy(logits, target).item(), 1e-12, 1e-12, "cross_entropy"));
    check_gradient("cross_entropy", [&] { return cross_entropy(logits, target); }, {&logits}, rng);
  }
}

TEST(DropoutTest, ZeroesAboutPAndScalesTheRest) {
  Tensor::manual_seed(5);
  Dropout drop(0.25);
  Tensor x = Tensor::ones({100, 100}, kF64, kDev);
  std::vector<double> y = drop(x).to_vector<double>();
  int zeros = 0;
  for (double v : y) {
    if (v == 0) {
      ++zeros;
    } else {
      EXPECT_DOUBLE_EQ(v, 1 / 0.75);
    }
  }
  // 10000 Bernoulli(0.25) draws: mean 2500, sd 43; +-300 is about 7 sd.
  EXPECT_NEAR(zeros, 2500, 300);
  drop.train(false);
  EXPECT_EQ(drop(x).to_vector<double>(), x.to_vector<double>());
  EXPECT_THROW(Dropout(1.0), Error);
}

TEST(ModuleTest, SequentialNamesParametersAndBuffersLikePyTorch) {
  Sequential model;
  model.add(std::make_unique<Conv2d>(1, 2, 3, Conv2dOptions{.dtype = kF64, .device = kDev}));
  model.add("relu", [](const Tensor& x) { return x.relu(); });
  model.add(std::make_unique<BatchNorm2d>(2, BatchNorm2dOptions{.dtype = kF64, .device = kDev}));
  model.add("flatten", [](const Tensor& x) { return flatten(x); });
  model.add(std::make_unique<Linear>(8, 3, LinearOptions{.bias = false, .dtype = kF64, .device = kDev}));
  std::vector<std::string> names;
  for (const auto& [name, t] : model.parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight"}));
  names.clear();
  for (const auto& [name, t] : model.state()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean",
                                             "2.running_var", "2.num_batches_tracked", "4.weight"}));
  EXPECT_EQ(model.buffers().size(), 3u);
  EXPECT_EQ(model(Tensor::ones({2, 1, 4, 4}, kF64, kDev)).shape(), (Shape{2, 3}));
  model.train(false);
  EXPECT_FALSE(model[2].training());
}

}  // namespace
}  // namespace tinyref::nn
