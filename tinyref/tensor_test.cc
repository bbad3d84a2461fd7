// Front-end behaviour on every backend: creation, elementwise math, broadcasting, reductions,
// movement, dtypes and read-out, each against values computed here with plain loops.
#include "tinyref/tensor.h"

#include <cmath>
#include <functional>
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

TEST_P(TensorTest, CreationAndReadOut) {
  const std::string dev = GetParam();
  EXPECT_EQ(Tensor::zeros({2, 2}, DType::kFloat32, dev).to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
  EXPECT_EQ(Tensor::full({3}, 7, DType::kInt32, dev).to_vector<int32_t>(), (std::vector<int32_t>{7, 7, 7}));
  EXPECT_EQ(Tensor::arange(2, 8, 2, DType::kInt32, dev).to_vector<int32_t>(), (std::vector<int32_t>{2, 4, 6}));
  EXPECT_EQ(Tensor::eye(2, DType::kFloat32, dev).to_vector<float>(), (std::vector<float>{1, 0, 0, 1}));
  EXPECT_EQ(Tensor::scalar(3.5, DType::kFloat64, dev).item(), 3.5);
  Tensor::manual_seed(42);
  std::vector<float> r1 = Tensor::rand({100}, DType::kFloat32, dev).to_vector<float>();
  Tensor::manual_seed(42);
  std::vector<float> r2 = Tensor::rand({100}, DType::kFloat32, dev).to_vector<float>();
  EXPECT_EQ(r1, r2);  // seeded: the same values again
  for (float v : r1) EXPECT_TRUE(v >= 0 && v < 1);
  // 10^4 normal samples: the mean is within 4 standard errors (0.04) of 0.
  Tensor n = Tensor::randn({10000}, DType::kFloat32, dev);
  EXPECT_NEAR(n.mean().item(), 0.0, 0.04);
  EXPECT_NEAR(n.std().item(), 1.0, 0.04);
  Tensor u8 = Tensor::from_vector(std::vector<uint8_t>{1, 200, 255}, {3}, dev);
  EXPECT_EQ((u8.cast(DType::kInt32) + 1).to_vector<int32_t>(), (std::vector<int32_t>{2, 201, 256}));
  EXPECT_EQ(Tensor::from_vector(std::vector<bool>{true, false}, {2}, dev).cast(DType::kFloat32).to_vector<float>(),
            (std::vector<float>{1, 0}));
  EXPECT_EQ(Tensor({-1.5f, 2.7f}, {2}, dev).cast(DType::kInt32).to_vector<int32_t>(), (std::vector<int32_t>{-1, 2}));
  EXPECT_EQ(Tensor({0, 2}, {2}, dev).cast(DType::kBool).to_vector<bool>(), (std::vector<bool>{false, true}));
}

TEST_P(TensorTest, MovementSlicingCat) {
  const std::string dev = GetParam();
  Tensor a = Tensor::arange(0, 12, 1, DType::kFloat32, dev).reshape({3, 4});
  EXPECT_EQ(a.slice({{1, 3}, {std::nullopt, std::nullopt, 2}}).to_vector<float>(), (std::vector<float>{4, 6, 8, 10}));
  EXPECT_EQ(a.slice({{std::nullopt, std::nullopt, -1}}).to_vector<float>()[0], 8);
  EXPECT_EQ(a.slice({{-1}}).to_vector<float>(), (std::vector<float>{8, 9, 10, 11}));
  EXPECT_EQ(a[1].to_vector<float>(), (std::vector<float>{4, 5, 6, 7}));
  EXPECT_EQ(a.flip({1})[0].to_vector<float>(), (std::vector<float>{3, 2, 1, 0}));
  EXPECT_EQ(a.pad({{0, 0}, {1, 0}}, -1)[0].to_vector<float>(), (std::vector<float>{-1, 0, 1, 2, 3}));
  Tensor c = Tensor::cat({a, a * 10.0}, 1);
  EXPECT_EQ(c.shape(), (Shape{3, 8}));
  EXPECT_EQ(c[2].to_vector<float>(), (std::vector<float>{8, 9, 10, 11, 80, 90, 100, 110}));
  EXPECT_EQ(Tensor::stack({a[0], a[2]}, 0).shape(), (Shape{2, 4}));
  EXPECT_EQ(a[0].repeat({2}).to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(a.flatten().shape(), (Shape{12}));
  EXPECT_EQ(a.unsqueeze(0).squeeze(0).shape(), (Shape{3, 4}));
  EXPECT_EQ(a.permute({1, 0}).reshape({-1}).to_vector<float>()[1], 4);
}

TEST_P(TensorTest, ReductionsSoftmaxLoss) {
  const std::string dev = GetParam();
  Tensor x({1, 2, 3, 4, 5, 9}, {2, 3}, dev);
  EXPECT_EQ(x.mean({1}).to_vector<float>(), (std::vector<float>{2, 6}));
  EXPECT_EQ(x.min({0}).to_vector<float>(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(x.argmin(0).to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 0}));
  EXPECT_NEAR(x.var({1}).to_vector<float>()[1], 7.0, 1e-5);
  std::vector<float> sm = x.softmax(1).to_vector<float>();
  const double z = std::exp(4.0) + std::exp(5.0) + std::exp(9.0);
  EXPECT_NEAR(sm[5], std::exp(9.0) / z, 1e-6);
  EXPECT_NEAR(x.logsumexp(1).to_vector<float>()[1], std::log(z), 1e-5);
  Tensor target = Tensor::from_vector(std::vector<int32_t>{2, 0}, {2}, dev);
  const double z0 = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const double want = -0.5 * ((3 - std::log(z0)) + (4 - std::log(z)));
  EXPECT_NEAR(x.cross_entropy(target).item(), want, 1e-5);
}

// Pooling against plain loops on a 1x1x5x6 image.
TEST_P(TensorTest, PoolingMatchesLoops) {
  const std::string dev = GetParam();
  std::vector<float> img(30);
  for (int i = 0; i < 30; ++i) img[i] = static_cast<float>((i * 7) % 11);
  Tensor x(img, {1, 1, 5, 6}, dev);
  std::vector<float> mp = x.max_pool2d(2).to_vector<float>(), ap = x.avg_pool2d(3, 1).to_vector<float>();
  ASSERT_EQ(mp.size(), 2u * 3u);
  for (int oy = 0; oy < 2; ++oy) {
    for (int ox = 0; ox < 3; ++ox) {
      float m = -1;
      for (int i = 0; i < 2; ++i) for (int j = 0; j < 2; ++j) m = std::max(m, img[(oy * 2 + i) * 6 + ox * 2 + j]);
      EXPECT_EQ(mp[oy * 3 + ox], m);
    }
  }
  ASSERT_EQ(ap.size(), 3u * 4u);
  for (int oy = 0; oy < 3; ++oy) {
    for (int ox = 0; ox < 4; ++ox) {
      float s = 0;
      for (int i = 0; i < 3; ++i) for (int j = 0; j < 3; ++j) s += img[(oy + i) * 6 + ox + j];
      EXPECT_NEAR(ap[oy * 4 + ox], s / 9, 1e-5);
    }
  }
  EXPECT_EQ(x.max_pool2d(3, 2, 1, 1).shape(), (Shape{1, 1, 3, 3}));
}

TEST_P(TensorTest, ErrorsNameTheOpAndShapes) {
  const std::string dev = GetParam();
  Tensor a = Tensor::zeros({2, 3}, DType::kFloat32, dev), b = Tensor::zeros({4}, DType::kFloat32, dev);
  auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message([&] { a + b; }).find("add: shapes (2, 3) and (4,) do not broadcast"), std::string::npos);
  EXPECT_NE(message([&] { a.matmul(a); }).find("matmul: (2, 3) @ (2, 3)"), std::string::npos);
  EXPECT_NE(message([&] { a.sum({2}); }).find("sum: axis 2 is out of range for shape (2, 3)"), std::string::npos);
  EXPECT_NE(message([&] { a.reshape({4, 2}); }).find("reshape"), std::string::npos);
  EXPECT_NE(message([&] { a.slice({{0, 5}}); }).find("out of range"), std::string::npos);
  EXPECT_NE(message([&] { a[2]; }).find("index: 2 is out of range"), std::string::npos);
  EXPECT_NE(message([&] { a.to_vector<int32_t>(); }).find("float32"), std::string::npos);
  EXPECT_NE(message([&] { a.idiv(a); }).find("idiv: needs integer"), std::string::npos);
  EXPECT_NE(message([&] { Tensor::zeros({2}, DType::kFloat32, "TPU"); }).find("unknown device 'TPU'"), std::string::npos);
  EXPECT_NE(message([&] { a.conv2d(a); }).find("conv2d"), std::string::npos);
  EXPECT_NE(message([&] { a.item(); }).find("item: needs exactly one element"), std::string::npos);
  EXPECT_NE(message([&] { Tensor t; t.shape(); }).find("undefined Tensor"), std::string::npos);
  EXPECT_THROW(a.permute({0, 0}), Error);
  EXPECT_THROW(a.expand({3, 3}), Error);
  EXPECT_THROW(Tensor(std::vector<float>{1, 2}, {3}, dev), Error);
}

INSTANTIATE_TEST_SUITE_P(Devices, TensorTest, ::testing::Values("INTERP", "CPU"));

TEST(Devices, TtDeviceChoosesTheDefault) {
  testing_util::ScopedEnv device("TT_DEVICE", "INTERP");
  EXPECT_EQ(Tensor::zeros({2}).device(), "INTERP");
  device.set("NOPE");
  EXPECT_THROW(Tensor::zeros({2}), Error);
  device.set(nullptr);
  EXPECT_EQ(Tensor::zeros({2}).device(), "CPU");
  // Ops across devices need an explicit copy.
  Tensor a = Tensor::ones({2}, DType::kFloat32, "CPU"), b = Tensor::ones({2}, DType::kFloat32, "INTERP");
  EXPECT_THROW(a + b, Error);
  EXPECT_EQ((a + b.to("CPU")).to_vector<float>(), (std::vector<float>{2, 2}));
}

}  // namespace
}  // namespace tinyref
