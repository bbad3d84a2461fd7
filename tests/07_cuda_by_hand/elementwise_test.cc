// Tasks 1-3: the saxpy ladder, y <- alpha * x + y in place, against tinyref (float64) on random
// sizes: the tails (n one past a block, n not a multiple of 4), several blocks, grids smaller
// than the data (the grid-stride rungs), block sizes that are not powers of two, n = 0.
// Each element must be within bounds::saxpy (one or two roundings); a wrong element, a missed
// or doubled update is off by far more.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ch07/elementwise.h"
#include "gtest/gtest.h"
#include "tests/07_cuda_by_hand/bounds.h"
#include "tests/07_cuda_by_hand/device.h"
#include "tests/07_cuda_by_hand/launch_cases.h"
#include "tests/07_cuda_by_hand/oracle.h"
#include "tests/testing/testing.h"

namespace {

using ch07::Launch;
using launch_cases::Case;
using launch_cases::describe;

// Sizes around every edge a grid has, for one block size, then a few random ones.
std::vector<Case> cases(std::mt19937_64& rng, bool capped_grid) {
  std::vector<Case> out;
  const int blocks[] = {1, 32, 96, 100, 256, 1024};
  for (int block : blocks) {
    for (int n : {1, 3, 4, 5, block - 1, block, block + 1, 3 * block + 7}) {
      if (n < 1) continue;
      out.push_back({n, {block, 0}});
    }
  }
  for (int i = 0; i < 6; ++i) {
    Launch launch{oracle::between(rng, 1, 8) * 32 - oracle::between(rng, 0, 1) * 3, 0};  // 29..256
    if (capped_grid) launch.max_blocks = oracle::between(rng, 1, 4);
    out.push_back({oracle::between(rng, 1, 20000), launch});
  }
  return out;
}

std::vector<double> saxpy_bound(float alpha, const std::vector<float>& x, const std::vector<double>& want) {
  std::vector<double> bound(want.size());
  for (size_t i = 0; i < want.size(); ++i) bound[i] = bounds::saxpy(double{alpha} * x[i], want[i]);
  return bound;
}

// Runs one rung on one case and compares with tinyref.
void check_case(const char* rung_name, ch07::SaxpyLauncher rung, const Case& c, std::mt19937_64& rng) {
  const float alpha = oracle::uniform(rng, 1, -2, 2)[0];
  const std::vector<float> x = oracle::uniform(rng, c.n, -1, 1), y = oracle::uniform(rng, c.n, -1, 1);
  device::Floats dx(x), dy(y);
  const std::string what = describe(rung_name, c);
  ASSERT_TRUE(device::run([&] { rung(c.n, alpha, dx.get(), dy.get(), c.launch); }, what));
  const std::vector<double> want = oracle::saxpy(alpha, x, y);
  ASSERT_TRUE(oracle::within(want, dy.read(), saxpy_bound(alpha, x, want), what));
}

void check_rung(const char* rung_name, ch07::SaxpyLauncher rung, bool capped_grid) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const Case& c : cases(rng, capped_grid)) {
      check_case(rung_name, rung, c, rng);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// n = 0 launches nothing (a grid of 0 blocks is a CUDA error), and bad arguments throw.
void check_edges(const char* rung_name, ch07::SaxpyLauncher rung) {
  device::Floats x(4, 1.0f), y(4, 2.0f);
  ASSERT_TRUE(device::run([&] { rung(0, 3.0f, x.get(), y.get(), {}); }, std::string(rung_name) + "(n 0)"));
  EXPECT_EQ(y.read(), std::vector<float>(4, 2.0f)) << rung_name << "(n 0) must not touch y";
  EXPECT_THROW(rung(-1, 1.0f, x.get(), y.get(), {}), std::invalid_argument) << rung_name << "(n -1)";
  EXPECT_THROW(rung(4, 1.0f, x.get(), y.get(), {0, 0}), std::invalid_argument) << rung_name << ": block 0";
  EXPECT_THROW(rung(4, 1.0f, x.get(), y.get(), {2048, 0}), std::invalid_argument) << rung_name << ": block 2048";
}

using Task1SaxpyNaive = device::DeviceTest;
using Task2SaxpyGridStride = device::DeviceTest;
using Task3SaxpyFloat4 = device::DeviceTest;

TEST_F(Task1SaxpyNaive, MatchesTinyrefOnEveryTail) {
  check_rung("saxpy_naive", ch07::saxpy_naive, /*capped_grid=*/false);
}

TEST_F(Task1SaxpyNaive, EmptyAndBadArguments) { check_edges("saxpy_naive", ch07::saxpy_naive); }

TEST_F(Task2SaxpyGridStride, GridFor) {
  EXPECT_EQ(ch07::grid_for(1000, {256, 0}), 4) << "1000 items, blocks of 256, no cap";
  EXPECT_EQ(ch07::grid_for(1024, {256, 0}), 4) << "1024 items, blocks of 256, no cap";
  EXPECT_EQ(ch07::grid_for(1025, {256, 0}), 5) << "1025 items, blocks of 256, no cap";
  EXPECT_EQ(ch07::grid_for(1000, {256, 2}), 2) << "1000 items, blocks of 256, at most 2";
  EXPECT_EQ(ch07::grid_for(100, {256, 8}), 1) << "100 items, blocks of 256, at most 8";
  EXPECT_EQ(ch07::grid_for(0, {256, 8}), 0) << "no items";
  EXPECT_EQ(ch07::grid_for(int64_t{1} << 32, {1024, 0}), 1 << 22) << "2^32 items, blocks of 1024";
}

TEST_F(Task2SaxpyGridStride, MatchesTinyrefWithSmallGrids) {
  check_rung("saxpy_grid_stride", ch07::saxpy_grid_stride, /*capped_grid=*/true);
}

TEST_F(Task2SaxpyGridStride, EmptyAndBadArguments) { check_edges("saxpy_grid_stride", ch07::saxpy_grid_stride); }

TEST_F(Task3SaxpyFloat4, MatchesTinyrefOnEveryRemainderOf4) {
  check_rung("saxpy_float4", ch07::saxpy_float4, /*capped_grid=*/true);
}

TEST_F(Task3SaxpyFloat4, EmptyBadArgumentsAndMisalignedPointers) {
  check_edges("saxpy_float4", ch07::saxpy_float4);
  device::Floats x(9, 1.0f), y(9, 2.0f);
  EXPECT_THROW(ch07::saxpy_float4(8, 1.0f, x.get() + 1, y.get(), {}), std::invalid_argument)
      << "saxpy_float4 with x 4 bytes past a 16-byte boundary";
  EXPECT_THROW(ch07::saxpy_float4(8, 1.0f, x.get(), y.get() + 1, {}), std::invalid_argument)
      << "saxpy_float4 with y 4 bytes past a 16-byte boundary";
}

}  // namespace
