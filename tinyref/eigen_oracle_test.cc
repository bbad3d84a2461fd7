// Eigen as an independent oracle: matmul and conv2d (lowered to im2col + GEMM by hand here) on
// random shapes, on every backend.
#include <Eigen/Dense>
#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<float> random_floats(std::mt19937_64& rng, int64_t n) {
  std::normal_distribution<float> d(0, 1);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

Mat as_mat(const std::vector<float>& v, int64_t rows, int64_t cols) {
  Mat m(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) m.data()[i] = v[i];
  return m;
}

class EigenOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(EigenOracle, MatmulRandomShapes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 3; ++trial) {
      const int64_t m = 1 + rng() % 67, k = 1 + rng() % 67, n = 1 + rng() % 67;
      std::vector<float> a = random_floats(rng, m * k), b = random_floats(rng, k * n);
      Mat want = as_mat(a, m, k) * as_mat(b, k, n);
      std::vector<float> got = Tensor(a, {m, k}, GetParam()).matmul(Tensor(b, {k, n}, GetParam())).to_vector<float>();
      std::vector<double> got_d(got.begin(), got.end()), want_d(want.data(), want.data() + m * n);
      // float32 dot products of length k <= 67 with N(0,1) inputs: error ~ u*sqrt(k)*|a||b|
      // ~ 6e-8 * 8 * 8 = 4e-6; 1e-4 absolute leaves a wide margin.
      std::ostringstream what;
      what << "(" << m << "x" << k << ") @ (" << k << "x" << n << ")";
      EXPECT_TRUE(testing_util::all_close(want_d, got_d, 1e-4, 1e-4, what.str()));
    }
  }
}

TEST_P(EigenOracle, Conv2dRandomShapes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
    for (int trial = 0; trial < 2; ++trial) {
      const int groups = r(1, 2), batch = r(1, 2), cin = groups * r(1, 3), cout = groups * r(1, 3);
      const int kh = r(1, 3), kw = r(1, 3), stride = r(1, 2), pad = r(0, 2), dil = r(1, 2);
      const int h = r(dil * (kh - 1) + 1, 9), w = r(dil * (kw - 1) + 1, 9);
      const int oh = (h + 2 * pad - dil * (kh - 1) - 1) / stride + 1, ow = (w + 2 * pad - dil * (kw - 1) - 1) / stride + 1;
      const int cg = cin / groups, og = cout / groups;
      std::vector<float> x = random_floats(rng, batch * cin * h * w), wt = random_floats(rng, cout * cg * kh * kw);
      std::vector<float> bias = random_floats(rng, cout);
      // im2col: one row per (output pixel), one column per (input channel of the group, ky, kx).
      std::vector<double> want(batch * cout * oh * ow);
      for (int nb = 0; nb < batch; ++nb) {
        for (int g = 0; g < groups; ++g) {
          Mat cols(oh * ow, cg * kh * kw);
          for (int oy = 0; oy < oh; ++oy) {
            for (int ox = 0; ox < ow; ++ox) {
              for (int c = 0; c < cg; ++c) {
                for (int ky = 0; ky < kh; ++ky) {
                  for (int kx = 0; kx < kw; ++kx) {
                    const int iy = oy * stride + ky * dil - pad, ix = ox * stride + kx * dil - pad;
                    const bool in = iy >= 0 && iy < h && ix >= 0 && ix < w;
                    cols(oy * ow + ox, (c * kh + ky) * kw + kx) =
                        in ? x[((nb * cin + g * cg + c) * h + iy) * w + ix] : 0.0;
                  }
                }
              }
            }
          }
          Mat wm(cg * kh * kw, og);
          for (int o = 0; o < og; ++o) {
            for (int j = 0; j < cg * kh * kw; ++j) wm(j, o) = wt[(g * og + o) * cg * kh * kw + j];
          }
          Mat out = cols * wm;
          for (int o = 0; o < og; ++o) {
            for (int p = 0; p < oh * ow; ++p) want[((nb * cout + g * og + o) * oh * ow) + p] = out(p, o) + bias[g * og + o];
          }
        }
      }
      const std::string dev = GetParam();
      Tensor y = Tensor(x, {batch, cin, h, w}, dev)
                     .conv2d(Tensor(wt, {cout, cg, kh, kw}, dev), Tensor(bias, {cout}, dev), stride, pad, dil, groups);
      ASSERT_EQ(y.shape(), (Shape{batch, cout, oh, ow}));
      std::vector<float> got = y.to_vector<float>();
      std::ostringstream what;
      what << "conv2d x(" << batch << "," << cin << "," << h << "," << w << ") w(" << cout << "," << cg << "," << kh << ","
           << kw << ") stride " << stride << " pad " << pad << " dilation " << dil << " groups " << groups;
      EXPECT_TRUE(testing_util::all_close(want, std::vector<double>(got.begin(), got.end()), 1e-4, 1e-4, what.str()));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, EigenOracle, ::testing::Values("INTERP", "CPU"));

}  // namespace
}  // namespace tinyref
