// Task 9: sliding windows as views (pool), and conv2d and max_pool2d composed from them.
// Windows are checked against plain loops; convolutions and pooling, values and gradients,
// against tinyref and central differences.
#include <random>

#include "ch04/nn.h"
#include "ch04/tensor.h"
#include "gtest/gtest.h"
#include "tests/04_lazy_tensors/lazy_testing.h"
#include "tests/testing/testing.h"
#include "tinyref/nn/layers.h"

namespace {

using ch04::DType;
using ch04::Tensor;
using dense::Dense;
using lazy_testing::check_gradients;
using R = tinyref::Tensor;
using Ts = std::vector<Tensor>;
using Rs = std::vector<R>;

int64_t size_in(std::mt19937_64& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// out[p, i, j, a, b] = x[p, i*s0 + a, j*s1 + b] for x of shape (P, H, W), by loops.
Dense windows(const Dense& x, int64_t k0, int64_t k1, int64_t s0, int64_t s1) {
  const int64_t p = x.shape[0], h = x.shape[1], w = x.shape[2];
  const int64_t oh = (h - k0) / s0 + 1, ow = (w - k1) / s1 + 1;
  Dense out{{p, oh, ow, k0, k1}, {}};
  for (int64_t c = 0; c < p; ++c)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t a = 0; a < k0; ++a)
          for (int64_t b = 0; b < k1; ++b) out.values.push_back(x.at({c, i * s0 + a, j * s1 + b}));
  return out;
}

TEST(Task9Conv, PoolWindowsMatchPlainLoops) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 12; ++trial) {
      const int64_t h = size_in(rng, 1, 9), w = size_in(rng, 1, 9);
      const int64_t k0 = size_in(rng, 1, h), k1 = size_in(rng, 1, w);
      const int64_t s0 = size_in(rng, 1, 4), s1 = size_in(rng, 1, 4);  // windows overlapping, touching or apart
      const Dense x = lazy_testing::random_values(rng, {2, h, w});
      const std::string what = "pool({" + std::to_string(k0) + ", " + std::to_string(k1) + "}, {" + std::to_string(s0) +
                               ", " + std::to_string(s1) + "}) of shape (2, " + std::to_string(h) + ", " + std::to_string(w) + ")";
      const Tensor got = lazy_testing::to_ch04(x).pool({k0, k1}, {s0, s1});
      const Dense want = windows(x, k0, k1, s0, s1);
      ASSERT_EQ(got.shape(), want.shape) << what;
      EXPECT_EQ(got.to_vector(), want.values) << what << ": a window reads the wrong elements";
    }
  }
}

TEST(Task9Conv, PoolIsViewsOnly) {
  const Tensor x = Tensor::randn({3, 8, 8}).realize();
  ch04::stats() = {};
  const Tensor apart = x.pool({2, 2}, {3, 3}), overlapping = x.pool({3, 3}, {1, 1});
  EXPECT_TRUE(apart.lazy()->is_view() && overlapping.lazy()->is_view()) << "windows are views of x";
  EXPECT_EQ(ch04::stats().buffers, 0) << "pool copies nothing";
  EXPECT_EQ(apart.lazy()->base(), x.lazy());
  EXPECT_EQ(overlapping.lazy()->base(), x.lazy());
}

TEST(Task9Conv, Conv2dValuesAndGradients) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 2; ++trial) {
      const int64_t n = size_in(rng, 1, 2), cin = size_in(rng, 1, 2), cout = size_in(rng, 1, 2);
      const int64_t k = size_in(rng, 1, 3), h = size_in(rng, k, 5), w = size_in(rng, k, 5);
      const int stride = static_cast<int>(size_in(rng, 1, 2)), padding = static_cast<int>(size_in(rng, 0, 1));
      const std::string what = "conv2d of (" + std::to_string(n) + ", " + std::to_string(cin) + ", " + std::to_string(h) +
                               ", " + std::to_string(w) + ") with a " + std::to_string(k) + "x" + std::to_string(k) +
                               " kernel to " + std::to_string(cout) + " channels, stride " + std::to_string(stride) +
                               ", padding " + std::to_string(padding);
      lazy_testing::GradOptions opt;
      opt.layouts = trial == 0;
      check_gradients(what, [&](const Ts& x) { return x[0].conv2d(x[1], x[2], stride, padding); },
                      [&](const Rs& x) { return x[0].conv2d(x[1], x[2], stride, padding); },
                      {{{n, cin, h, w}}, {{cout, cin, k, k}}, {{cout}}}, rng, opt);
    }
  }
}

TEST(Task9Conv, Conv2dOfAConstantInputNeedsNoInputGradient) {
  const Tensor x = Tensor::ones({1, 1, 3, 3});
  const Tensor w = Tensor::from_vector({1, 2, 3, 4}, {1, 1, 2, 2}).requires_grad_();
  const Tensor y = x.conv2d(w);
  EXPECT_EQ(y.to_vector(), (std::vector<double>{10, 10, 10, 10}));
  y.sum().backward();
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{4, 4, 4, 4})) << "each weight meets 4 windows of ones";
}

TEST(Task9Conv, MaxPool2dValuesAndGradients) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    lazy_testing::GradOptions opt;
    opt.layouts = false;  // an expanded input would tie values inside a window
    const int64_t h = size_in(rng, 2, 7), w = size_in(rng, 2, 7);
    check_gradients("max_pool2d(2) of (2, 1, " + std::to_string(h) + ", " + std::to_string(w) + ")",
                    [](const Ts& x) { return x[0].max_pool2d(2); }, [](const Rs& x) { return x[0].max_pool2d(2); },
                    {{{2, 1, h, w}}}, rng, opt);
    check_gradients("max_pool2d(3)", [](const Ts& x) { return x[0].max_pool2d(3); },
                    [](const Rs& x) { return x[0].max_pool2d(3); }, {{{1, 2, 6, 7}}}, rng, opt);
  }
}

TEST(Task9Conv, MaxPoolTiesSplitTheGradient) {
  const Tensor x = Tensor::from_vector({1, 1, 0, 5,  //
                                        1, 0, 2, 2},
                                       {1, 1, 2, 4})
                       .requires_grad_();
  x.max_pool2d(2).sum().backward();
  EXPECT_TRUE(testing_util::all_close(std::vector<double>{1.0 / 3, 1.0 / 3, 0, 1, 1.0 / 3, 0, 0, 0}, x.grad().to_vector(), 1e-6, 0,
                                      "window 0 holds three 1s (a third each); window 1's max 5 is alone"));
}

TEST(Task9Conv, Conv2dErrorsNameTheShapes) {
  const Tensor x = Tensor::zeros({1, 3, 5, 5}), w = Tensor::zeros({4, 2, 3, 3});
  try {
    x.conv2d(w);
    ADD_FAILURE() << "3 input channels and a weight for 2 should throw ch04::ShapeError";
  } catch (const ch04::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("conv2d") != std::string::npos && msg.find("(1, 3, 5, 5)") != std::string::npos &&
                msg.find("(4, 2, 3, 3)") != std::string::npos)
        << msg;
  }
  EXPECT_THROW(x.pool({6, 1}, {1, 1}), ch04::ShapeError) << "a window larger than the input";
}

TEST(Task9Conv, LayersMatchTinyrefs) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Tensor::manual_seed(seed);
    tinyref::Tensor::manual_seed(seed);
    ch04::nn::Conv2d conv(2, 3, 3);
    tinyref::nn::Conv2d ref_conv(2, 3, 3, {.device = "INTERP"});
    ASSERT_EQ(conv.weight.to_vector(), ref_conv.weight.to_doubles()) << "the same seed draws the same weights";
    ch04::nn::BatchNorm2d bn(3);
    tinyref::nn::BatchNorm2d ref_bn(3, {.device = "INTERP"});
    const Dense x = lazy_testing::random_values(rng, {4, 2, 5, 5});
    const R rx = R::from_vector(std::vector<float>(x.values.begin(), x.values.end()), x.shape, "INTERP");
    const Tensor y = bn(conv(lazy_testing::to_ch04(x, DType::kFloat32)).relu());
    const R ry = ref_bn(ref_conv(rx).relu());
    EXPECT_TRUE(testing_util::all_close(ry.to_doubles(), y.to_vector(), 1e-4, 1e-5, "batchnorm(relu(conv(x)))"));
    const Dense c = lazy_testing::random_values(rng, {4, 3, 3, 3});
    (y * lazy_testing::to_ch04(c, DType::kFloat32)).sum().backward();
    (ry * R::from_vector(std::vector<float>(c.values.begin(), c.values.end()), c.shape, "INTERP")).sum().backward();
    EXPECT_TRUE(testing_util::all_close(ref_conv.weight.grad().to_doubles(), conv.weight.grad().to_vector(), 1e-3, 1e-4,
                                        "the convolution's weight gradient through batchnorm"));
    EXPECT_TRUE(testing_util::all_close(ref_bn.running_var.to_doubles(), bn.running_var.to_vector(), 1e-5, 1e-6,
                                        "batchnorm's running variance after one batch"));
  }
}

}  // namespace
