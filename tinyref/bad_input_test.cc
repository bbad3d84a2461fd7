// No silent wrong answers: inputs that once gave a number, a crash or a misleading message, each
// with what it must do now. An oracle that quietly returns 0 where PyTorch says NaN, or a loss
// for a label that is not a class, would grade a student's correct code as wrong (or a wrong
// one as right), so every case here is a user mistake that must throw a tinyref::Error naming
// what was wrong, or an edge case that must give PyTorch's answer, on every backend.
//
//   zeros({0, 3}).sum()                    0, as PyTorch (an empty sum), not a reshape error
//   loss.backward(); loss.backward()       Error: the graph was freed by the first backward
//   x.max_pool2d(2, /*stride=*/0)          Error naming the stride
//   logits.cross_entropy(labels = {0, 7})  Error naming the label 7 and the 5 classes
//   Tensor({NAN, 1}).relu()                {NaN, 1}: NaN propagates through max, clip, argmax
//   Tensor().zero_grad()                   Error (it was a segfault)
//   zeros({1 << 32, 1 << 32})              Error: 2^64 elements overflow (it was empty)
//   randn({1 << 40})                       Error naming the shape and the 4 TiB (not bad_alloc)
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/registry.h"
#include "tinyref/error.h"
#include "tinyref/nn/safetensors.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Runs `f`, expecting a tinyref::Error whose message contains every one of `words`.
template <typename F>
::testing::AssertionResult throws_naming(F f, std::initializer_list<std::string> words) {
  try {
    f();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& w : words) {
      if (msg.find(w) == std::string::npos) {
        return ::testing::AssertionFailure() << "the error \"" << msg << "\" does not mention \"" << w << "\"";
      }
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw " << typeid(e).name() << " (\"" << e.what()
                                         << "\") instead of tinyref::Error";
  }
  return ::testing::AssertionFailure() << "returned normally instead of throwing tinyref::Error";
}

// Each value is NaN exactly where `want` is, and equal elsewhere.
::testing::AssertionResult same_with_nan(const std::vector<float>& want, const std::vector<float>& got) {
  bool ok = want.size() == got.size();
  for (size_t i = 0; ok && i < want.size(); ++i) ok = std::isnan(want[i]) ? std::isnan(got[i]) : want[i] == got[i];
  if (ok) return ::testing::AssertionSuccess();
  auto text = [](const std::vector<float>& v) {
    std::string s;
    for (float x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
    return "{" + s + "}";
  };
  return ::testing::AssertionFailure() << "expected " << text(want) << ", got " << text(got);
}

// CUDA's rows run on the CUDA emulator (CUDA_EMU) where there is no GPU (CI), and say so.
class BadInput : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dev_ = GetParam() == "CUDA" ? cuda_or_emulator() : GetParam();
    if (dev_ == "CUDA_EMU") testing_util::running_emulated(dev_, "no GPU here: the CUDA rows run on the CUDA emulator (CUDA_EMU)");
  }
  const std::string& dev() const { return dev_; }
  Tensor floats(std::vector<float> v, Shape shape) const { return Tensor(v, shape, dev()); }

 private:
  std::string dev_;
};

// ---------------------------------------------------------------- empty reductions

TEST_P(BadInput, SumOverAnEmptyAxisIsZero) {
  EXPECT_EQ(Tensor::zeros({0, 3}, DType::kFloat32, dev()).sum().item(), 0.0);
  EXPECT_EQ(Tensor::zeros({0, 3}, DType::kFloat32, dev()).sum({0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
  Tensor data = Tensor::randn({0, 3}, DType::kFloat32, dev());  // a real (empty) buffer, not a constant
  EXPECT_EQ(data.sum({0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(data.sum({1}).shape(), (Shape{0}));
  // An inner dimension of 0: the product of (2, 0) and (0, 3) is (2, 3) zeros.
  Tensor a = Tensor::randn({2, 0}, DType::kFloat32, dev()), b = Tensor::randn({0, 3}, DType::kFloat32, dev());
  EXPECT_EQ(a.matmul(b).to_vector<float>(), std::vector<float>(6, 0.0f));
}

TEST_P(BadInput, MeanAndVarianceOfNothingAreNaN) {
  // PyTorch: 0/0. A mean of 0 over no elements would be a made-up number.
  EXPECT_TRUE(std::isnan(Tensor::randn({0, 3}, DType::kFloat32, dev()).mean().item()));
  EXPECT_TRUE(std::isnan(floats({2.5f}, {1}).var().item()));  // one value, correction 1: 0/0
  EXPECT_NEAR(floats({1, 2, 3, 4}, {4}).var().item(), 5.0 / 3.0, 1e-6);
}

TEST_P(BadInput, MaxOverAnEmptyAxisThrows) {
  EXPECT_TRUE(throws_naming([&] { Tensor::randn({0, 3}, DType::kFloat32, dev()).max({0}); }, {"max", "(0, 3)"}));
  EXPECT_TRUE(throws_naming([&] { Tensor::randn({2, 0}, DType::kFloat32, dev()).argmax(1); }, {"argmax", "(2, 0)"}));
}

// ---------------------------------------------------------------- autograd

TEST_P(BadInput, SecondBackwardThroughAFreedGraphThrows) {
  Tensor x = floats({1, 2, 3}, {3}).requires_grad_();
  Tensor y = x * x;
  Tensor loss = y.sum();
  loss.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 4, 6}));
  EXPECT_TRUE(throws_naming([&] { loss.backward(); }, {"backward", "second time"}));
  // A new loss built on a spent intermediate reaches the freed graph too.
  EXPECT_TRUE(throws_naming([&] { (y * 3.0).sum().backward(); }, {"backward", "second time"}));
  // A fresh graph from the leaf is fine, and its gradient adds to the first.
  (x * 2.0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{4, 6, 8}));
}

TEST_P(BadInput, AnUndefinedTensorThrowsInsteadOfCrashing) {
  Tensor t;
  EXPECT_TRUE(throws_naming([&] { t.zero_grad(); }, {"undefined"}));
  EXPECT_TRUE(throws_naming([&] { t.requires_grad_(); }, {"undefined"}));
  EXPECT_TRUE(throws_naming([&] { t.requires_grad(); }, {"undefined"}));
  EXPECT_TRUE(throws_naming([&] { t.assign(floats({1}, {1})); }, {"undefined"}));
}

// ---------------------------------------------------------------- pooling

TEST_P(BadInput, PoolingWithABadStrideOrPaddingThrows) {
  Tensor x = Tensor::randn({1, 1, 6, 6}, DType::kFloat32, dev());
  EXPECT_TRUE(throws_naming([&] { x.max_pool2d(2, 0); }, {"max_pool2d", "stride 0"}));
  EXPECT_TRUE(throws_naming([&] { x.max_pool2d(2, -1); }, {"max_pool2d", "stride -1"}));
  EXPECT_TRUE(throws_naming([&] { x.avg_pool2d(2, -2); }, {"avg_pool2d", "stride -2"}));
  EXPECT_TRUE(throws_naming([&] { x.max_pool2d(0); }, {"max_pool2d", "kernel 0"}));
  EXPECT_TRUE(throws_naming([&] { x.max_pool2d(2, 2, 1, -1); }, {"max_pool2d", "padding -1"}));
  EXPECT_TRUE(throws_naming([&] { x.avg_pool2d(2, 2, -1); }, {"avg_pool2d", "padding -1"}));
  // PyTorch: padding at most half the (dilated) window, else a window may see only padding.
  EXPECT_TRUE(throws_naming([&] { x.max_pool2d(2, 2, 1, 2); }, {"max_pool2d", "padding 2"}));
  EXPECT_TRUE(throws_naming([&] { x.avg_pool2d(3, 1, 2); }, {"avg_pool2d", "padding 2"}));
  // The edges that are allowed still work: no stride (the kernel), half-window padding.
  EXPECT_EQ(x.max_pool2d(2).shape(), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(x.max_pool2d(2, 2, 1, 1).shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(x.avg_pool2d(3, 1, 1).shape(), (Shape{1, 1, 6, 6}));
}

// ---------------------------------------------------------------- cross entropy

TEST_P(BadInput, CrossEntropyWithALabelOutsideTheClassesThrows) {
  Tensor logits = Tensor::randn({2, 5}, DType::kFloat32, dev());
  auto labels = [&](std::vector<int32_t> v) { return Tensor::from_vector(v, {2}, dev()); };
  EXPECT_TRUE(std::isfinite(logits.cross_entropy(labels({0, 4})).item()));
  if (!get_device(dev()).host_memory()) {
    GTEST_SKIP() << dev() << " keeps labels in device memory, where cross_entropy does not read them back to check "
                 << "(tensor_nn.cc, check_labels: it would wait for the device)";
  }
  EXPECT_TRUE(throws_naming([&] { logits.cross_entropy(labels({0, 5})); }, {"cross_entropy", "5", "[0, 5)"}));
  EXPECT_TRUE(throws_naming([&] { logits.cross_entropy(labels({-1, 2})); }, {"cross_entropy", "-1", "[0, 5)"}));
}

// ---------------------------------------------------------------- NaN

TEST_P(BadInput, NaNPropagatesThroughMaxLikeOps) {
  Tensor x = floats({kNaN, 1, -2, kNaN}, {4});
  EXPECT_TRUE(same_with_nan({kNaN, 1, 0, kNaN}, x.relu().to_vector<float>()));
  EXPECT_TRUE(same_with_nan({kNaN, 1, -1, kNaN}, x.clip(-1, 1).to_vector<float>()));
  EXPECT_TRUE(same_with_nan({kNaN, 1, 0, kNaN}, x.maximum(floats({0, 0, 0, 0}, {4})).to_vector<float>()));
  EXPECT_TRUE(same_with_nan({kNaN, 1, 0, kNaN}, floats({0, 0, 0, 0}, {4}).maximum(x).to_vector<float>()));
  EXPECT_TRUE(same_with_nan({kNaN, -2, -2, kNaN}, x.minimum(floats({-2, -2, -2, -2}, {4})).to_vector<float>()));
  // Reductions: a NaN anywhere makes the max NaN, first or last.
  EXPECT_TRUE(std::isnan(floats({kNaN, 1}, {2}).max().item()));
  EXPECT_TRUE(std::isnan(floats({1, kNaN}, {2}).max().item()));
  EXPECT_TRUE(std::isnan(floats({1, kNaN}, {2}).min().item()));
  EXPECT_TRUE(std::isnan(Tensor::full({}, kNaN, DType::kFloat32, dev()).maximum(floats({1}, {1})).item()));
  // argmax and argmin treat NaN as the extreme value: the first NaN's index, inside the axis.
  EXPECT_EQ(floats({1, kNaN}, {2}).argmax().item(), 1);
  EXPECT_EQ(floats({kNaN, 3, kNaN}, {3}).argmax().item(), 0);
  EXPECT_EQ(floats({1, kNaN, -5}, {3}).argmin().item(), 1);
  EXPECT_EQ(floats({1, 9, 9}, {3}).argmax().item(), 1);  // no NaN: still the first maximum
}

TEST_P(BadInput, NaNPropagatesOnTheVectorAndParallelPaths) {
  // 8-lane SIMD rows and a 2^16 reduction (parallel partial sums on the CPU, blocks on a GPU):
  // one NaN in row r at column r (and one at the very end of the long row).
  constexpr int kRows = 8, kCols = 64;
  std::vector<float> v(kRows * kCols);
  for (int i = 0; i < kRows * kCols; ++i) v[i] = static_cast<float>(i % 7) - 3;
  for (int r = 0; r < kRows; ++r) v[r * kCols + r * 7] = kNaN;
  Tensor m = floats(v, {kRows, kCols});
  std::vector<float> relu = m.relu().to_vector<float>();
  for (int i = 0; i < kRows * kCols; ++i) {
    ASSERT_EQ(std::isnan(relu[i]), std::isnan(v[i])) << "relu at " << i;
  }
  for (float row_max : m.max({1}).to_vector<float>()) EXPECT_TRUE(std::isnan(row_max));
  std::vector<float> cols = m.max({0}).to_vector<float>();
  for (int c = 0; c < kCols; ++c) EXPECT_EQ(std::isnan(cols[c]), c % 7 == 0 && c / 7 < kRows) << "column " << c;
  std::vector<float> long_row(1 << 16, 1.0f);
  long_row.back() = kNaN;
  EXPECT_TRUE(std::isnan(floats(long_row, {1 << 16}).max().item()));
  EXPECT_EQ(floats(long_row, {1 << 16}).argmax().item(), (1 << 16) - 1);
}

// ---------------------------------------------------------------- sizes

TEST_P(BadInput, ShapesWhoseSizeOverflowsThrow) {
  const int64_t big = int64_t{1} << 32;
  EXPECT_TRUE(throws_naming([&] { Tensor::zeros({big, big}, DType::kFloat32, dev()); }, {"(4294967296, 4294967296)"}));
  EXPECT_TRUE(throws_naming([&] { Tensor::ones({1, 1}, DType::kFloat32, dev()).expand({big, big}); },
                            {"(4294967296, 4294967296)"}));
  EXPECT_TRUE(throws_naming([&] { Tensor::randn({big, big}, DType::kFloat32, dev()); }, {"(4294967296, 4294967296)"}));
  EXPECT_TRUE(throws_naming([&] { floats({1}, {1}).reshape({big, big, 0}); }, {"reshape"}));
}

TEST_P(BadInput, ImpossibleAllocationsNameTheShapeAndBytes) {
  const int64_t n = int64_t{1} << 40;  // 4 TiB of float32
  EXPECT_TRUE(throws_naming([&] { Tensor::randn({n}, DType::kFloat32, dev()); }, {"randn", "(1099511627776,)", "4398046511104 bytes"}));
  EXPECT_TRUE(throws_naming([&] { Tensor::arange(0, static_cast<double>(n), 1, DType::kFloat32, dev()); },
                            {"arange", "(1099511627776,)", "bytes"}));
  EXPECT_TRUE(throws_naming([&] { Tensor::eye(int64_t{1} << 21, DType::kFloat32, dev()); }, {"eye", "(2097152, 2097152)", "bytes"}));
  if (dev() != "CUDA") {
    EXPECT_TRUE(throws_naming([&] { Buffer(get_device(dev()), DType::kFloat32, static_cast<size_t>(n)).ptr(); },
                              {"4398046511104 bytes", "float32"}));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BadInput, ::testing::Values("INTERP", "CPU", "CUDA"));

// ---------------------------------------------------------------- checkpoints

TEST(BadCheckpoint, AShapeWhoseSizeOverflowsIsRejected) {
  // A header may claim any shape: (2^32, 2^32) float32 needs 2^66 bytes, which wraps to 0 in
  // 64 bits and so "matches" an empty data section.
  const std::string path = (std::filesystem::path(::testing::TempDir()) / "overflow.safetensors").string();
  const std::string header = R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})";
  {
    std::ofstream out(path, std::ios::binary);
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
    out << header;
  }
  EXPECT_TRUE(throws_naming([&] { nn::read_safetensors(path); }, {"\"w\"", "4294967296"}));
}

}  // namespace
}  // namespace tinyref
