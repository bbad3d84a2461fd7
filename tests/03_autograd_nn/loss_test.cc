// Task 5: log_softmax and cross_entropy: values, gradients, and numerical stability (large
// logits must not produce inf or NaN).
#include <cmath>
#include <random>

#include "ch03/nn.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/03_autograd_nn/grad_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch02::FloatTensor;
using ch03::Tensor;
using dense::Dense;
using grad_testing::Input;
using strided_testing::read;

// The oracle, in double, along `axis` (itself shifted by the max: double overflows too).
Dense log_softmax_ref(const Dense& x, int axis) {
  const Dense m = dense::reduce(x, {axis}, true, dense::Reduce::kMax);
  const Dense shifted = dense::zip(x, m, std::minus<>());
  const Dense lse = dense::map(dense::reduce(dense::map(shifted, [](double v) { return std::exp(v); }), {axis},
                                             true, dense::Reduce::kSum),
                               [](double v) { return std::log(v); });
  return dense::zip(shifted, lse, std::minus<>());
}

Dense cross_entropy_ref(const Dense& logits, const std::vector<int>& labels) {
  const Dense lp = log_softmax_ref(logits, 1);
  const int64_t classes = logits.shape[1];
  double sum = 0;
  for (size_t b = 0; b < labels.size(); ++b) sum -= lp.values[b * classes + labels[b]];
  return Dense{{}, {sum / static_cast<double>(labels.size())}};
}

std::vector<int> random_labels(std::mt19937_64& rng, int64_t batch, int64_t classes) {
  std::vector<int> labels(batch);
  for (int& l : labels) l = static_cast<int>(rng() % classes);
  return labels;
}

TEST(Task5SoftmaxCrossEntropy, LogSoftmaxAlongAnyAxis) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape shape = grad_testing::small_shape(rng, 1);
    const int axis = static_cast<int>(rng() % shape.size()) - (rng() % 2 ? int(shape.size()) : 0);
    const std::string name = "log_softmax(x, " + std::to_string(axis) + ")";
    grad_testing::check_gradients(name, [axis](const auto& x) { return ch03::log_softmax(x[0], axis); },
                                  [axis](const std::vector<Dense>& d) {
                                    return log_softmax_ref(d[0], axis < 0 ? axis + int(d[0].shape.size()) : axis);
                                  },
                                  [axis](const auto& t) { return t[0].log_softmax(axis); }, {Input{shape, -3, 3}}, rng);
    if (HasFatalFailure()) return;
    grad_testing::gradcheck64(name, [axis](const auto& x) { return ch03::log_softmax(x[0], axis); },
                              {Input{shape, -3, 3}}, rng);
  }
}

TEST(Task5SoftmaxCrossEntropy, CrossEntropyValueAndGradient) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t batch = 1 + rng() % 6, classes = 2 + rng() % 9;
    const std::vector<int> labels = random_labels(rng, batch, classes);
    grad_testing::check_gradients("cross_entropy", [&](const auto& x) { return ch03::cross_entropy(x[0], labels); },
                                  [&](const std::vector<Dense>& d) { return cross_entropy_ref(d[0], labels); },
                                  [&](const auto& t) {
                                    return t[0].cross_entropy(tinyref::Tensor::from_vector<int32_t>(
                                        labels, {int64_t(labels.size())}, "INTERP"));
                                  },
                                  {Input{{batch, classes}, -3, 3}}, rng);
    if (HasFatalFailure()) return;
    grad_testing::gradcheck64("cross_entropy", [&](const auto& x) { return ch03::cross_entropy(x[0], labels); },
                              {Input{{batch, classes}, -3, 3}}, rng);
  }
}

TEST(Task5SoftmaxCrossEntropy, UniformLogitsCostLogC) {
  const Tensor<float> logits(FloatTensor::zeros({4, 10}), true);
  const Tensor<float> loss = ch03::cross_entropy(logits, {0, 3, 9, 3});
  EXPECT_TRUE(testing_util::close(std::log(10.0), loss.value().item(), 1e-6, 0, "cross_entropy of zero logits"));
  EXPECT_EQ(loss.shape(), ch02::Shape{}) << "the loss is a scalar";
}

// exp(89) already overflows float: logits of 100 to 10000 break any formula without the
// log-sum-exp shift. The expected values are computed in double with the shift; the expected
// gradient is (softmax - one_hot) / B, in double.
TEST(Task5SoftmaxCrossEntropy, LargeLogitsStayFinite) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (double scale : {100.0, 1e4}) {
      const int64_t batch = 3, classes = 5;
      const Dense raw = strided_testing::round_to<float>(dense::map(dense::random(rng, {batch, classes}),
                                                                    [scale](double v) { return v * scale; }));
      const std::vector<int> labels = random_labels(rng, batch, classes);
      const Tensor<float> logits(FloatTensor::from_vector(raw.shape, {raw.values.begin(), raw.values.end()}), true);
      const Tensor<float> loss = ch03::cross_entropy(logits, labels);
      const std::string what = "cross_entropy of logits up to " + std::to_string(int(scale));
      ASSERT_TRUE(std::isfinite(loss.value().item())) << what << " gave " << loss.value().item();
      // Relative 1e-5: the loss is a difference of numbers up to 2 * scale, rounded in float.
      EXPECT_TRUE(testing_util::close(cross_entropy_ref(raw, labels).values[0], loss.value().item(), 1e-5,
                                      1e-5 * scale, what));
      loss.backward();
      Dense want = dense::map(log_softmax_ref(raw, 1), [](double v) { return std::exp(v); });
      for (int64_t b = 0; b < batch; ++b) want.values[b * classes + labels[b]] -= 1;
      want = dense::map(want, [batch](double v) { return v / static_cast<double>(batch); });
      const Dense got = read(logits.grad());
      for (double g : got.values) ASSERT_TRUE(std::isfinite(g)) << what << ": a gradient is " << g;
      EXPECT_TRUE(strided_testing::matches(want, got, 1e-5, 1e-6, "gradient of " + what));
    }
  }
}

TEST(Task5SoftmaxCrossEntropy, BadLabelsThrow) {
  const Tensor<float> logits(FloatTensor::zeros({2, 3}), true);
  EXPECT_THROW(ch03::cross_entropy(logits, {0}), std::invalid_argument) << "one label for a batch of 2";
  EXPECT_THROW(ch03::cross_entropy(logits, {0, 3}), std::invalid_argument) << "label 3 of 3 classes";
  EXPECT_THROW(ch03::cross_entropy(logits, {-1, 0}), std::invalid_argument) << "label -1";
  EXPECT_THROW(ch03::cross_entropy(Tensor<float>(FloatTensor::zeros({6})), {0}), std::invalid_argument)
      << "1-d logits";
}

}  // namespace
