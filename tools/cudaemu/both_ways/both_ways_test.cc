// kernels.cu built twice, by nvcc for the GPU and through the emulator for the CPU, run on the
// same inputs: the exact kernels must give the same bits, softmax within 8 units in the last
// place (CUDA's expf is within 2 ulp of exact, glibc's within 1: two exponentials may be 3 ulp
// apart, their sums as much, and a quotient of the two adds both and a rounding). Without a GPU the
// comparison skips (counted); the emulated half is still checked against plain loops here.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"

#define BOTH_WAYS_NS native
#include "tools/cudaemu/both_ways/kernels.h"
#undef BOTH_WAYS_NS
#define BOTH_WAYS_NS emulated
#include "tools/cudaemu/both_ways/kernels.h"
#undef BOTH_WAYS_NS

namespace {

// Distance in units in the last place between two finite floats of the same sign (else large).
int64_t ulps(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if ((ia < 0) != (ib < 0)) return a == b ? 0 : INT64_MAX;
  return std::llabs(static_cast<int64_t>(ia) - ib);
}

// What each kernel of kernels.cu computes, as plain loops in double (kernels.cu's run_kernels
// says which inputs each gets).
std::vector<std::vector<double>> references(unsigned seed) {
  using emulated::inputs;
  const int n = 5003;
  const std::vector<float> x = inputs(seed, n), y = inputs(seed + 1, n);
  std::vector<std::vector<double>> r(8);
  for (int i = 0; i < n; ++i) r[0].push_back(0.75f * x[i] + y[i]), r[1].push_back(-1.5f * x[i]);
  for (int b = 0; b < (n + 255) / 256; ++b) {
    double s = 0;
    for (int i = 256 * b; i < std::min(n, 256 * b + 256); ++i) s += x[i];
    r[2].push_back(s), r[3].push_back(s);
  }
  r[4].assign(16, 0);
  for (float u : inputs(seed + 2, n)) r[4][static_cast<int>(0.5f * (u + 1.0f) * 16.0f) & 15] += 1;
  const std::vector<float> sx = inputs(seed + 3, 37 * 300);
  for (int row = 0; row < 37; ++row) {
    double m = -INFINITY, sum = 0;
    for (int j = 0; j < 300; ++j) m = std::max(m, double(sx[row * 300 + j]));
    for (int j = 0; j < 300; ++j) sum += std::exp(sx[row * 300 + j] - m);
    for (int j = 0; j < 300; ++j) r[5].push_back(std::exp(sx[row * 300 + j] - m) / sum);
  }
  const std::vector<float> A = inputs(seed + 4, 45 * 70), B = inputs(seed + 5, 70 * 33);
  for (int i = 0; i < 45; ++i)
    for (int j = 0; j < 33; ++j) {
      double s = 0;
      for (int k = 0; k < 70; ++k) s += double(A[i * 70 + k]) * B[k * 33 + j];
      r[6].push_back(s);
    }
  const std::vector<float> t = inputs(seed + 6, 70 * 45);
  for (int j = 0; j < 45; ++j)
    for (int i = 0; i < 70; ++i) r[7].push_back(t[i * 45 + j]);
  return r;
}

TEST(BothWays, EmulatedKernelsMatchPlainLoops) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::string error;
    const std::vector<emulated::Output> out = emulated::run_kernels(static_cast<unsigned>(seed), &error);
    ASSERT_EQ(error, "");
    const std::vector<std::vector<double>> want = references(static_cast<unsigned>(seed));
    ASSERT_EQ(out.size(), want.size());
    for (size_t k = 0; k < out.size(); ++k) {
      // float32 sums of up to 256 values in [-1, 1) against double: 1e-5 absolute is ~100x their rounding.
      const std::vector<double> got(out[k].values.begin(), out[k].values.end());
      EXPECT_TRUE(testing_util::all_close(want[k], got, 1e-5, 1e-5, out[k].kernel));
    }
  }
}

TEST(BothWays, NativeAndEmulatedGiveTheSameResults) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::string native_error, emulated_error;
    const std::vector<native::Output> gpu = native::run_kernels(static_cast<unsigned>(seed), &native_error);
    if (native_error == "no CUDA device" || native_error.rfind("built without CUDA", 0) == 0)
      GTEST_SKIP() << native_error << ": the native half runs on the GPU machine (tools/cuda/run_all.sh)";
    ASSERT_EQ(native_error, "");
    const std::vector<emulated::Output> cpu = emulated::run_kernels(static_cast<unsigned>(seed), &emulated_error);
    ASSERT_EQ(emulated_error, "");
    ASSERT_EQ(gpu.size(), cpu.size());
    for (size_t k = 0; k < gpu.size(); ++k) {
      const auto& g = gpu[k].values;
      const auto& c = cpu[k].values;
      ASSERT_EQ(gpu[k].kernel, cpu[k].kernel);
      ASSERT_EQ(g.size(), c.size()) << gpu[k].kernel;
      const int64_t allowed = gpu[k].exact ? 0 : 8;
      int64_t worst = 0;
      size_t differ = 0, first = g.size();
      for (size_t i = 0; i < g.size(); ++i) {
        const int64_t d = ulps(g[i], c[i]);
        worst = std::max(worst, d);
        if (d > 0) ++differ, first = std::min(first, i);
      }
      std::printf("both ways: %-17s %5zu values, %5zu differ, at most %lld ulp apart (allowed %lld)\n",
                  gpu[k].kernel.c_str(), g.size(), differ, static_cast<long long>(worst), static_cast<long long>(allowed));
      EXPECT_LE(worst, allowed) << gpu[k].kernel << ": first difference at " << first << ": GPU " << g[first]
                                << ", emulator " << c[first];
    }
  }
}

}  // namespace
