// Task 8: the composed front end. matmul, softmax, log_softmax and cross_entropy are written
// with primitives only; their values and gradients must match tinyref's and central
// differences without a line of backward code. The given layers and optimizers run on top.
#include <cmath>
#include <random>

#include "ch04/nn.h"
#include "ch04/tensor.h"
#include "gtest/gtest.h"
#include "tests/04_lazy_tensors/lazy_testing.h"
#include "tests/testing/testing.h"
#include "tinyref/nn/layers.h"
#include "tinyref/nn/optim.h"

namespace {

using ch04::DType;
using ch04::Tensor;
using lazy_testing::check_gradients;
using R = tinyref::Tensor;
using Ts = std::vector<Tensor>;
using Rs = std::vector<R>;

int64_t size_in(std::mt19937_64& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

TEST(Task8Compose, MatmulValuesAndGradients) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t n = size_in(rng, 1, 4), k = size_in(rng, 1, 5), m = size_in(rng, 1, 4);
    check_gradients("(n, k) @ (k, m)", [](const Ts& x) { return x[0].matmul(x[1]); },
                    [](const Rs& x) { return x[0].matmul(x[1]); }, {{{n, k}}, {{k, m}}}, rng);
    check_gradients("batched (2, n, k) @ (k, m)", [](const Ts& x) { return x[0].matmul(x[1]); },
                    [](const Rs& x) { return x[0].matmul(x[1]); }, {{{2, n, k}}, {{k, m}}}, rng);
    check_gradients("linear: x @ w^T + b", [](const Ts& x) { return x[0].linear(x[1], x[2]); },
                    [](const Rs& x) { return x[0].linear(x[1], x[2]); }, {{{n, k}}, {{m, k}}, {{m}}}, rng);
  }
}

TEST(Task8Compose, MatmulOfNonSquareTransposes) {
  // A swapped transpose in matmul shows on shapes where it cannot hide: (2, 3) @ (3, 4).
  const Tensor a = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::kFloat64);
  const Tensor b = Tensor::arange(12, DType::kFloat64).reshape({3, 4});
  const std::vector<double> want = {32, 38, 44, 50, 68, 83, 98, 113};
  EXPECT_EQ(a.matmul(b).to_vector(), want) << "[[1 2 3] [4 5 6]] @ [[0 1 2 3] [4 5 6 7] [8 9 10 11]]";
  EXPECT_EQ(b.transpose().matmul(a.transpose()).to_vector(), (std::vector<double>{32, 68, 38, 83, 44, 98, 50, 113}))
      << "(b^T @ a^T) = (a @ b)^T";
  try {
    a.matmul(a);
    ADD_FAILURE() << "(2, 3) @ (2, 3) should throw ch04::ShapeError";
  } catch (const ch04::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("matmul") != std::string::npos && msg.find("(2, 3)") != std::string::npos) << msg;
  }
}

TEST(Task8Compose, SoftmaxAndLogSoftmax) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape s = {size_in(rng, 1, 4), size_in(rng, 2, 5)};
    check_gradients("softmax over the last axis", [](const Ts& x) { return x[0].softmax(); },
                    [](const Rs& x) { return x[0].softmax(); }, {{s, -3, 3}}, rng);
    check_gradients("softmax over axis 0", [](const Ts& x) { return x[0].softmax(0); },
                    [](const Rs& x) { return x[0].softmax(0); }, {{s, -3, 3}}, rng);
    check_gradients("log_softmax", [](const Ts& x) { return x[0].log_softmax(1); },
                    [](const Rs& x) { return x[0].log_softmax(1); }, {{s, -3, 3}}, rng);
  }
}

TEST(Task8Compose, SoftmaxOfLargeLogitsStaysFinite) {
  // exp(1000) overflows even float64: only the max shift keeps these finite.
  const Tensor x = Tensor::from_vector({1000, 1001, 999, -1000, 10000, 10000}, {2, 3}).requires_grad_();
  const std::vector<double> p = x.softmax().to_vector();
  const double e1 = std::exp(-1.0), e2 = std::exp(-2.0);
  const std::vector<double> want = {e1 / (1 + e1 + e2), 1 / (1 + e1 + e2), e2 / (1 + e1 + e2), 0, 0.5, 0.5};
  EXPECT_TRUE(testing_util::all_close(want, p, 1e-6, 1e-7, "softmax of logits near 1000 and 10000 (float32)"));
  const std::vector<double> lp = x.log_softmax().to_vector();
  for (double v : lp) EXPECT_TRUE(std::isfinite(v) || v == -INFINITY) << "log_softmax gave " << v;
  EXPECT_NEAR(lp[4], -std::log(2.0), 1e-6);
  x.log_softmax().sum().backward();
  for (double g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g)) << "a gradient of log_softmax is not finite: " << g;
}

TEST(Task8Compose, CrossEntropy) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t n = size_in(rng, 1, 5), c = size_in(rng, 2, 6);
    std::vector<double> labels(n);
    for (double& l : labels) l = static_cast<double>(size_in(rng, 0, c - 1));
    const std::vector<int32_t> int_labels(labels.begin(), labels.end());
    lazy_testing::GradOptions opt;
    check_gradients("cross_entropy, labels " + dense::shape_str(dense::Shape(labels.begin(), labels.end())),
                    [&](const Ts& x) { return x[0].cross_entropy(Tensor::from_vector(labels, {n}, x[0].dtype())); },
                    [&](const Rs& x) { return x[0].cross_entropy(R::from_vector(int_labels, {n}, "INTERP")); },
                    {{{n, c}, -4, 4}}, rng, opt);
  }
}

TEST(Task8Compose, CrossEntropyOfConfidentLogits) {
  // Logits of 10000: the right class's log-probability is exactly 0 or -10000-ish, never NaN.
  const Tensor logits = Tensor::from_vector({10000, 0, 0, 0, 10000, 0}, {2, 3}).requires_grad_();
  const Tensor loss = logits.cross_entropy(Tensor::from_vector({0, 2}, {2}));
  EXPECT_NEAR(loss.item(), 5000, 1e-2) << "mean of 0 (row 0 is sure of class 0) and 10000 (row 1 is wrong)";
  loss.backward();
  const std::vector<double> g = logits.grad().to_vector();
  const std::vector<double> want = {0, 0, 0, 0, 0.5, -0.5};  // (softmax - one_hot) / N
  EXPECT_TRUE(testing_util::all_close(want, g, 1e-5, 1e-6, "d cross_entropy / d logits"));
}

TEST(Task8Compose, LinearLayerStartsLikeTinyrefs) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    Tensor::manual_seed(seed);
    tinyref::Tensor::manual_seed(seed);
    const ch04::nn::Linear ours(5, 3);
    const tinyref::nn::Linear ref(5, 3, {.device = "INTERP"});
    EXPECT_EQ(ours.weight.to_vector(), ref.weight.to_doubles()) << "same seed, same draws, same order: same weights";
    EXPECT_EQ(ours.bias.to_vector(), ref.bias.to_doubles());
  }
}

// A few optimizer steps on sum(p * c) (gradient c), against tinyref's optimizers.
template <typename Ours, typename Ref>
void check_optimizer(const std::string& what, Ours make_ours, Ref make_ref) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Dense start = dense::random(rng, {3, 4});
    Tensor p = lazy_testing::to_ch04(start, DType::kFloat32).requires_grad_();
    R q = R::from_vector(std::vector<float>(start.values.begin(), start.values.end()), {3, 4}, "INTERP").requires_grad_();
    auto ours = make_ours(std::vector<Tensor>{p});
    auto ref = make_ref(tinyref::nn::NamedTensors{{"p", q}});
    for (int step = 0; step < 4; ++step) {
      const dense::Dense c = dense::random(rng, {3, 4});
      ours.zero_grad();
      (p * lazy_testing::to_ch04(c, DType::kFloat32)).sum().backward();
      ours.step();
      ref.zero_grad();
      (q * R::from_vector(std::vector<float>(c.values.begin(), c.values.end()), {3, 4}, "INTERP")).sum().backward();
      ref.step();
      ASSERT_TRUE(testing_util::all_close(q.to_doubles(), p.to_vector(), 1e-5, 1e-6,
                                          what + " after step " + std::to_string(step + 1)));
    }
  }
}

TEST(Task8Compose, SgdAndAdamStepLikeTinyrefs) {
  check_optimizer("SGD(lr 0.1)", [](std::vector<Tensor> p) { return ch04::nn::SGD(p, 0.1); },
                  [](const tinyref::nn::NamedTensors& p) { return tinyref::nn::SGD(p, 0.1); });
  check_optimizer("SGD(lr 0.05, momentum 0.9)", [](std::vector<Tensor> p) { return ch04::nn::SGD(p, 0.05, 0.9); },
                  [](const tinyref::nn::NamedTensors& p) { return tinyref::nn::SGD(p, 0.05, 0.9); });
  check_optimizer("Adam(lr 0.01)", [](std::vector<Tensor> p) { return ch04::nn::Adam(p, 0.01); },
                  [](const tinyref::nn::NamedTensors& p) { return tinyref::nn::Adam(p, 0.01); });
}

}  // namespace
