// Optimizer steps against the update rules computed by hand in double, over several steps
// with a fresh random gradient each (the gradient of sum(p * c) is c).
#include "tinyref/nn/optim.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace tinyref::nn {
namespace {

const std::string kDev = "INTERP";

std::vector<double> random_values(std::mt19937_64& rng, size_t n) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

// Gives p the gradient c (by backward through sum(p * c)).
void set_grad(Tensor& p, const std::vector<double>& c) {
  (p * Tensor::from_vector(c, p.shape(), kDev)).sum().backward();
}

struct Param {
  Tensor t;
  std::vector<double> value;
};

Param make_param(std::mt19937_64& rng, const Shape& shape) {
  Param p;
  p.value = random_values(rng, static_cast<size_t>(prod(shape)));
  p.t = Tensor::from_vector(p.value, shape, kDev).requires_grad_();
  return p;
}

TEST(SgdTest, MatchesHandComputedUpdates) {
  struct Setting {
    double lr, momentum, weight_decay;
    bool nesterov;
    double dampening;
  };
  const Setting settings[] = {{0.1, 0, 0, false, 0}, {0.05, 0.9, 0, false, 0}, {0.05, 0.9, 0.01, true, 0},
                              {0.2, 0.5, 0.1, false, 0.3}};
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    for (const Setting& s : settings) {
      SCOPED_TRACE("lr " + std::to_string(s.lr) + " momentum " + std::to_string(s.momentum) + " weight_decay " +
                   std::to_string(s.weight_decay) + (s.nesterov ? " nesterov" : "") + " dampening " +
                   std::to_string(s.dampening));
      std::mt19937_64 rng(seed);
      Param a = make_param(rng, {2, 3}), b = make_param(rng, {4});
      SGD opt({{"a", a.t}, {"b", b.t}}, s.lr, s.momentum, s.weight_decay, s.nesterov, s.dampening);
      std::vector<std::vector<double>> buf(2);
      for (int step = 0; step < 4; ++step) {
        opt.zero_grad();
        Param* ps[] = {&a, &b};
        std::vector<std::vector<double>> grads;
        for (Param* p : ps) {
          grads.push_back(random_values(rng, p->value.size()));
          set_grad(p->t, grads.back());
        }
        opt.step();
        for (int i = 0; i < 2; ++i) {
          std::vector<double>& v = ps[i]->value;
          for (size_t j = 0; j < v.size(); ++j) {
            double g = grads[i][j] + s.weight_decay * v[j];
            if (s.momentum != 0) {
              if (buf[i].size() != v.size()) buf[i].assign(v.size(), 0);
              buf[i][j] = step == 0 ? g : s.momentum * buf[i][j] + (1 - s.dampening) * g;
              g = s.nesterov ? g + s.momentum * buf[i][j] : buf[i][j];
            }
            v[j] -= s.lr * g;
          }
          // The same operations in the same order in double: only the kernels' evaluation
          // order can differ, a few ulps.
          EXPECT_TRUE(testing_util::all_close(v, ps[i]->t.to_vector<double>(), 1e-13, 1e-15,
                                              "SGD step " + std::to_string(step + 1)));
        }
      }
      EXPECT_EQ(opt.steps(), 4);
    }
  }
}

TEST(AdamTest, MatchesHandComputedUpdates) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    for (double wd : {0.0, 0.05}) {
      std::mt19937_64 rng(seed);
      Param p = make_param(rng, {3, 2});
      const double lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-6;
      Adam opt({{"p", p.t}}, lr, b1, b2, eps, wd);
      std::vector<double> m(6, 0), v(6, 0);
      for (int t = 1; t <= 5; ++t) {
        opt.zero_grad();
        std::vector<double> grad = random_values(rng, 6);
        set_grad(p.t, grad);
        opt.step();
        for (size_t j = 0; j < 6; ++j) {
          const double g = grad[j] + wd * p.value[j];
          m[j] = b1 * m[j] + (1 - b1) * g;
          v[j] = b2 * v[j] + (1 - b2) * g * g;
          const double m_hat = m[j] / (1 - std::pow(b1, t)), v_hat = v[j] / (1 - std::pow(b2, t));
          p.value[j] -= lr * m_hat / (std::sqrt(v_hat) + eps);
        }
        // The kernel computes sqrt(v) / sqrt(1 - b2^t) rather than sqrt(v / (1 - b2^t)): a few
        // ulps apart, amplified by at most the update's size (~lr) relative to p.
        EXPECT_TRUE(testing_util::all_close(p.value, p.t.to_vector<double>(), 1e-12, 1e-14,
                                            "Adam step " + std::to_string(t) + " weight_decay " + std::to_string(wd)));
      }
    }
  }
}

TEST(AdamTest, FirstStepMovesEveryWeightByAboutLr) {
  // With bias correction, Adam's first update is lr * g / (|g| + eps): lr times the sign.
  std::mt19937_64 rng(9);
  Param p = make_param(rng, {5});
  Adam opt({{"p", p.t}}, 1e-3);
  set_grad(p.t, {2, -3, 0.5, -0.25, 7});
  opt.step();
  std::vector<double> now = p.t.to_vector<double>();
  const double sign[] = {1, -1, 1, -1, 1};
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(p.value[j] - now[j], 1e-3 * sign[j], 1e-8);
}

TEST(OptimizerTest, SkipsParametersWithoutGradientAndRealizesExtras) {
  std::mt19937_64 rng(4);
  Param a = make_param(rng, {2}), b = make_param(rng, {2});
  SGD opt({{"a", a.t}, {"b", b.t}}, 0.5);
  set_grad(a.t, {1, 1});
  Tensor extra = a.t.detach() * 2.0;
  opt.step({extra});
  EXPECT_EQ(b.t.to_vector<double>(), b.value);  // no gradient: unchanged
  EXPECT_EQ(a.t.to_vector<double>(), (std::vector<double>{a.value[0] - 0.5, a.value[1] - 0.5}));
  EXPECT_TRUE(extra.lazy()->realized());
}

TEST(OptimizerTest, RejectsBadParametersAndSettings) {
  Tensor no_grad = Tensor::zeros({2}, DType::kFloat64, kDev);
  EXPECT_THROW(SGD({{"w", no_grad}}, 0.1), Error);
  Tensor ints = Tensor::zeros({2}, DType::kInt32, kDev);
  EXPECT_THROW(Adam({{"i", ints}}), Error);
  Tensor ok = Tensor::zeros({2}, DType::kFloat64, kDev).requires_grad_();
  EXPECT_THROW(SGD({{"w", ok}}, -1), Error);
  EXPECT_THROW(SGD({{"w", ok}}, 0.1, 0, 0, /*nesterov=*/true), Error);
  EXPECT_THROW(Adam({{"w", ok}}, 1e-3, 1.0), Error);
}

}  // namespace
}  // namespace tinyref::nn
