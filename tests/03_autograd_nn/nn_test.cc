// Task 6 (Linear, Mlp) and task 7 (SGD, Adam). Optimizers are checked against tinyref's
// (tinyref::nn::SGD and Adam, float64), which are checked against the update formulas written
// as plain loops; your parameters' gradients are set directly on the nodes, so these cases do
// not depend on your backward rules.
#include <cmath>
#include <random>

#include "ch03/nn.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/03_autograd_nn/grad_testing.h"
#include "tests/testing/testing.h"
#include "tinyref/nn/optim.h"

namespace {

using ch02::FloatTensor;
using ch03::Tensor;
using dense::Dense;
using grad_testing::Input;
using strided_testing::read;

FloatTensor to_tensor(const Dense& d) { return FloatTensor::from_vector(d.shape, {d.values.begin(), d.values.end()}); }

Dense linear_ref(const Dense& x, const Dense& w, const Dense& b) {
  return dense::zip(dense::matmul(x, dense::permute(w, {1, 0})), b, std::plus<>());
}

TEST(Task6Linear, ComputesXTimesWTransposedPlusB) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    // The layer's own parameters are replaced by the test's leaves, so that the oracle can
    // differentiate with respect to them.
    grad_testing::check_gradients(
        "Linear(5, 3)",
        [&rng](const auto& x) {
          ch03::Linear layer(5, 3, rng);
          layer.weight = x[1];
          layer.bias = x[2];
          return layer(x[0]);
        },
        [](const std::vector<Dense>& d) { return linear_ref(d[0], d[1], d[2]); },
        [](const auto& t) { return t[0].linear(t[1], t[2]); }, {Input{{4, 5}}, Input{{3, 5}}, Input{{3}}}, rng);
  }
}

TEST(Task6Linear, InitializationIsUniformInPlusMinusOneOverSqrtIn) {
  std::mt19937_64 rng(testing_util::seeds().front());
  const ch03::Linear layer(784, 128, rng);
  ASSERT_EQ(layer.weight.shape(), (ch02::Shape{128, 784})) << "weight is (out, in), as in PyTorch";
  ASSERT_EQ(layer.bias.shape(), (ch02::Shape{128}));
  EXPECT_TRUE(layer.weight.requires_grad() && layer.bias.requires_grad());
  const double bound = 1 / std::sqrt(784.0);
  const std::vector<float> w = layer.weight.value().to_vector();
  double sum = 0, sum_sq = 0;
  for (float v : w) {
    ASSERT_LE(std::fabs(v), bound) << "a weight outside [-1/sqrt(784), 1/sqrt(784)]";
    sum += v;
    sum_sq += double(v) * v;
  }
  for (float v : layer.bias.value().to_vector()) ASSERT_LE(std::fabs(v), bound) << "a bias outside the bound";
  // For U(-a, a): mean 0, standard deviation a / sqrt(3). With 100352 draws the sample mean is
  // within 5 standard errors (5 * 0.0206 / sqrt(100352) = 3.3e-4) and the deviation within 2%.
  const double n = static_cast<double>(w.size()), mean = sum / n, sd = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_LT(std::fabs(mean), 3.3e-4) << "weights should be centred on 0";
  EXPECT_NEAR(sd, bound / std::sqrt(3.0), 0.02 * bound / std::sqrt(3.0)) << "weights should be uniform";
}

TEST(Task6Linear, InitializationDependsOnlyOnTheGenerator) {
  std::mt19937_64 a(7), b(7), c(8);
  const ch03::Linear la(6, 4, a), lb(6, 4, b), lc(6, 4, c);
  EXPECT_EQ(la.weight.value().to_vector(), lb.weight.value().to_vector()) << "the same seed, the same weights";
  EXPECT_EQ(la.bias.value().to_vector(), lb.bias.value().to_vector());
  EXPECT_NE(la.weight.value().to_vector(), lc.weight.value().to_vector()) << "another seed, other weights";
}

TEST(Task6Linear, MlpIsFc1ReluFc2) {
  std::mt19937_64 rng(testing_util::seeds().front());
  const ch03::Mlp model(rng);
  const std::vector<Tensor<float>> params = model.parameters();
  ASSERT_EQ(params.size(), 4u) << "fc1.weight, fc1.bias, fc2.weight, fc2.bias";
  EXPECT_EQ(params[0].node(), model.fc1.weight.node()) << "parameters() must hand out the layers' own tensors";
  EXPECT_EQ(params[3].node(), model.fc2.bias.node());
  EXPECT_EQ(params[2].shape(), (ch02::Shape{10, 128}));
  const Dense x = strided_testing::round_to<float>(dense::random(rng, {3, 784}, 0, 1));
  const Tensor<float> logits = model(Tensor<float>(to_tensor(x)));
  const Dense hidden = dense::map(linear_ref(x, read(params[0].value()), read(params[1].value())),
                                  [](double v) { return v > 0 ? v : 0.0; });
  const Dense want = linear_ref(hidden, read(params[2].value()), read(params[3].value()));
  // Rounding in float dot products of 784 terms of size < 0.036: around 1e-6 (random-walk
  // growth of 6e-8 per term); 1e-4 is a hundred times that, and a wrong layer is off by ~0.1.
  EXPECT_TRUE(strided_testing::matches(want, read(logits.value()), 1e-4, 1e-4, "Mlp on 3 random images"));
  logits.backward(FloatTensor::full({3, 10}, 1));
  for (const auto& p : params) EXPECT_TRUE(p.has_grad()) << "every parameter must get a gradient";
}

// Parameters with given values and gradients (set on the nodes directly).
std::vector<Tensor<float>> params_with_grads(std::mt19937_64& rng, std::vector<Dense>& values) {
  std::vector<Tensor<float>> params;
  for (const dense::Shape& s : {dense::Shape{3, 4}, dense::Shape{4}}) {
    values.push_back(strided_testing::round_to<float>(dense::random(rng, s)));
    params.emplace_back(to_tensor(values.back()), true);
  }
  return params;
}

void set_grads(std::mt19937_64& rng, std::vector<Tensor<float>>& params, std::vector<Dense>& grads) {
  grads.clear();
  for (auto& p : params) {
    grads.push_back(strided_testing::round_to<float>(dense::random(rng, p.shape())));
    p.node()->grad = to_tensor(grads.back());
  }
}

// tinyref's copies of the parameters, and a way to give them the gradients `grads`: the
// gradient of sum_i sum(p_i * grads_i) with respect to p_i is grads_i.
std::vector<tinyref::Tensor> tinyref_params(const std::vector<Dense>& values) {
  std::vector<tinyref::Tensor> out;
  for (const Dense& v : values) out.push_back(tinyref_oracle::to_tinyref(v, /*requires_grad=*/true));
  return out;
}

tinyref::nn::NamedTensors named(const std::vector<tinyref::Tensor>& params) {
  tinyref::nn::NamedTensors out;
  for (size_t i = 0; i < params.size(); ++i) out.emplace_back("p" + std::to_string(i), params[i]);
  return out;
}

void tinyref_set_grads(tinyref::nn::Optimizer& opt, const std::vector<tinyref::Tensor>& params,
                       const std::vector<Dense>& grads) {
  opt.zero_grad();
  tinyref::Tensor loss = (params[0] * tinyref_oracle::to_tinyref(grads[0])).sum();
  for (size_t i = 1; i < params.size(); ++i) loss = loss + (params[i] * tinyref_oracle::to_tinyref(grads[i])).sum();
  loss.backward();
}

// float32 updates of parameters of order 1 by steps of order lr: every result is rounded to
// ~6e-8 and the step itself carries a relative error of a few ulp; 1e-6 is ~10 ulp of 1.
constexpr double kUpdateTol = 1e-6;

TEST(Task7Optimizers, SgdWithMomentum) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (float momentum : {0.0f, 0.9f}) {
      std::vector<Dense> values, grads;
      std::vector<Tensor<float>> params = params_with_grads(rng, values);
      ch03::Sgd opt(params, 0.1f, momentum);
      const std::vector<tinyref::Tensor> ref_params = tinyref_params(values);
      tinyref::nn::SGD ref_opt(named(ref_params), 0.1, double(momentum));
      std::vector<Dense> velocity;
      for (const Dense& v : values) velocity.push_back(Dense{v.shape, std::vector<double>(v.values.size(), 0)});
      for (int step = 0; step < 3; ++step) {
        set_grads(rng, params, grads);
        opt.step();
        tinyref_set_grads(ref_opt, ref_params, grads);
        ref_opt.step();
        for (size_t i = 0; i < params.size(); ++i) {
          for (size_t j = 0; j < values[i].values.size(); ++j) {
            velocity[i].values[j] = double(momentum) * velocity[i].values[j] + grads[i].values[j];
            values[i].values[j] -= 0.1 * velocity[i].values[j];
          }
          const Dense want = tinyref_oracle::from_tinyref(ref_params[i]);
          ASSERT_TRUE(tinyref_oracle::agree(values[i], want, 1e-12, "SGD's update"));
          ASSERT_TRUE(strided_testing::matches(want, read(params[i].value()), kUpdateTol, kUpdateTol,
                                               "parameter " + std::to_string(i) + " after SGD step " +
                                                   std::to_string(step + 1) + ", momentum " +
                                                   std::to_string(momentum)));
        }
      }
    }
  }
}

TEST(Task7Optimizers, AdamWithBiasCorrection) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    std::vector<Dense> values, grads;
    std::vector<Tensor<float>> params = params_with_grads(rng, values);
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    ch03::Adam opt(params, float(lr));
    const std::vector<tinyref::Tensor> ref_params = tinyref_params(values);
    tinyref::nn::Adam ref_opt(named(ref_params), lr, b1, b2, eps);
    std::vector<Dense> m, v;
    for (const Dense& p : values) {
      m.push_back(Dense{p.shape, std::vector<double>(p.values.size(), 0)});
      v.push_back(m.back());
    }
    for (int t = 1; t <= 4; ++t) {
      set_grads(rng, params, grads);
      opt.step();
      tinyref_set_grads(ref_opt, ref_params, grads);
      ref_opt.step();
      for (size_t i = 0; i < params.size(); ++i) {
        for (size_t j = 0; j < values[i].values.size(); ++j) {
          const double g = grads[i].values[j];
          m[i].values[j] = b1 * m[i].values[j] + (1 - b1) * g;
          v[i].values[j] = b2 * v[i].values[j] + (1 - b2) * g * g;
          const double m_hat = m[i].values[j] / (1 - std::pow(b1, t));
          const double v_hat = v[i].values[j] / (1 - std::pow(b2, t));
          values[i].values[j] -= lr * m_hat / (std::sqrt(v_hat) + eps);
        }
        const Dense want = tinyref_oracle::from_tinyref(ref_params[i]);
        ASSERT_TRUE(tinyref_oracle::agree(values[i], want, 1e-12, "Adam's update"));
        ASSERT_TRUE(strided_testing::matches(want, read(params[i].value()), kUpdateTol, kUpdateTol,
                                             "parameter " + std::to_string(i) + " after Adam step " +
                                                 std::to_string(t)));
      }
    }
  }
}

TEST(Task7Optimizers, ZeroGradAndParametersWithoutGradient) {
  std::mt19937_64 rng(testing_util::seeds().front());
  std::vector<Dense> values, grads;
  std::vector<Tensor<float>> params = params_with_grads(rng, values);
  set_grads(rng, params, grads);
  params[1].zero_grad();  // this one got no gradient in this step
  ch03::Adam opt(params, 0.01f);
  opt.step();
  EXPECT_NE(read(params[0].value()).values, values[0].values) << "a parameter with a gradient moves";
  EXPECT_EQ(read(params[1].value()).values, values[1].values) << "a parameter without gradient stays";
  set_grads(rng, params, grads);
  opt.zero_grad();
  EXPECT_FALSE(params[0].has_grad() || params[1].has_grad()) << "zero_grad clears every parameter's gradient";
}

TEST(Task7Optimizers, StepsUpdateTheModelAndRecordNoGraph) {
  std::mt19937_64 rng(testing_util::seeds().front());
  ch03::Linear layer(4, 2, rng);
  const std::vector<float> before = layer.weight.value().to_vector();
  ch03::Sgd opt(layer.parameters(), 0.5f);
  const Dense x = dense::random(rng, {3, 4});
  ch03::sum(layer(Tensor<float>(to_tensor(x)))).backward();
  opt.step();
  EXPECT_NE(layer.weight.value().to_vector(), before) << "the optimizer must update the layer's own weight";
  EXPECT_TRUE(layer.weight.is_leaf()) << "after a step the weight is still a leaf (no graph recorded)";
  EXPECT_TRUE(layer.weight.requires_grad());
}

}  // namespace
