// Tasks 12-16: the matmul ladder, C = A @ B, against tinyref (float64), on shapes that are not
// multiples of any tile (the last tile sticks out in every direction), one-row and one-column
// products, K shorter than a tile, K = 0 (C is all zeros), and shapes spanning several tiles of
// the register-tiled rungs (128 x 128), with rows whose length is a multiple of 4 (float4 loads)
// and rows whose length is not (float by float, or a misaligned float4).
//
// Each element must be within bounds::dot of tinyref's (K products summed in any order); C
// starts as NaN, so an element nobody writes is caught.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ch07/matmul.h"
#include "gtest/gtest.h"
#include "tests/07_cuda_by_hand/bounds.h"
#include "tests/07_cuda_by_hand/device.h"
#include "tests/07_cuda_by_hand/oracle.h"
#include "tests/testing/testing.h"

namespace {

struct Shape {
  int M, N, K;
};

std::string describe(const char* rung, const Shape& s) {
  return std::string(rung) + "(M " + std::to_string(s.M) + ", N " + std::to_string(s.N) + ", K " +
         std::to_string(s.K) + ")";
}

std::vector<Shape> shapes(std::mt19937_64& rng, bool big_tiles) {
  std::vector<Shape> out = {{1, 1, 1}, {1, 37, 5}, {19, 1, 40}, {33, 31, 17}, {32, 64, 96}, {3, 4, 0}};
  if (big_tiles) {
    out.push_back({130, 260, 9});   // 2 x 3 tiles of 128, K past one slab of 8
    out.push_back({131, 132, 20});  // rows of A and B multiples of 4, the last float4s past K
    out.push_back({129, 130, 12});  // B's rows 130 long: its float4s cannot all be aligned
    out.push_back({oracle::between(rng, 129, 200), oracle::between(rng, 1, 140), oracle::between(rng, 1, 50)});
  } else {
    out.push_back({oracle::between(rng, 33, 100), oracle::between(rng, 33, 100), oracle::between(rng, 33, 70)});
  }
  return out;
}

std::vector<double> matmul_bound(const Shape& s, const std::vector<float>& A, const std::vector<float>& B) {
  std::vector<double> bound = oracle::matmul(s.M, s.N, s.K, A, B, /*absolute=*/true);
  for (double& b : bound) b = bounds::dot(s.K, b);
  return bound;
}

void check_rung(const char* rung_name, ch07::MatmulLauncher rung, bool big_tiles) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const Shape& s : shapes(rng, big_tiles)) {
      const std::vector<float> A = oracle::uniform(rng, int64_t{s.M} * s.K, -1, 1);
      const std::vector<float> B = oracle::uniform(rng, int64_t{s.K} * s.N, -1, 1);
      device::Floats dA(A), dB(B), dC(int64_t{s.M} * s.N, NAN);
      const std::string what = describe(rung_name, s);
      ASSERT_TRUE(device::run([&] { rung(s.M, s.N, s.K, dA.get(), dB.get(), dC.get()); }, what));
      ASSERT_TRUE(oracle::within(oracle::matmul(s.M, s.N, s.K, A, B), dC.read(), matmul_bound(s, A, B), what));
    }
  }
}

// Empty products launch nothing; negative sizes throw.
void check_edges(const char* rung_name, ch07::MatmulLauncher rung) {
  device::Floats a(4, 1.0f), b(4, 1.0f), c(4, 5.0f);
  ASSERT_TRUE(device::run([&] { rung(0, 2, 2, a.get(), b.get(), c.get()); }, std::string(rung_name) + "(M 0)"));
  ASSERT_TRUE(device::run([&] { rung(2, 0, 2, a.get(), b.get(), c.get()); }, std::string(rung_name) + "(N 0)"));
  EXPECT_EQ(c.read(), std::vector<float>(4, 5.0f)) << rung_name << ": an empty C has nothing to write";
  EXPECT_THROW(rung(-1, 2, 2, a.get(), b.get(), c.get()), std::invalid_argument) << rung_name << "(M -1)";
  EXPECT_THROW(rung(2, 2, -2, a.get(), b.get(), c.get()), std::invalid_argument) << rung_name << "(K -2)";
}

using Task12MatmulNaive = device::DeviceTest;
using Task13MatmulCoalesced = device::DeviceTest;
using Task14MatmulTiled = device::DeviceTest;
using Task15MatmulRegisterTiled = device::DeviceTest;
using Task16MatmulVectorized = device::DeviceTest;

TEST_F(Task12MatmulNaive, MatchesTinyref) { check_rung("matmul_naive", ch07::matmul_naive, false); }
TEST_F(Task12MatmulNaive, EmptyAndBadArguments) { check_edges("matmul_naive", ch07::matmul_naive); }

TEST_F(Task13MatmulCoalesced, MatchesTinyref) { check_rung("matmul_coalesced", ch07::matmul_coalesced, false); }
TEST_F(Task13MatmulCoalesced, EmptyAndBadArguments) { check_edges("matmul_coalesced", ch07::matmul_coalesced); }

TEST_F(Task14MatmulTiled, MatchesTinyrefOnPartialTiles) { check_rung("matmul_tiled", ch07::matmul_tiled, false); }
TEST_F(Task14MatmulTiled, EmptyAndBadArguments) { check_edges("matmul_tiled", ch07::matmul_tiled); }

TEST_F(Task15MatmulRegisterTiled, MatchesTinyrefOnPartialTiles) {
  check_rung("matmul_register_tiled", ch07::matmul_register_tiled, true);
}
TEST_F(Task15MatmulRegisterTiled, EmptyAndBadArguments) {
  check_edges("matmul_register_tiled", ch07::matmul_register_tiled);
}

TEST_F(Task16MatmulVectorized, MatchesTinyrefOnPartialTilesAlignedOrNot) {
  check_rung("matmul_vectorized", ch07::matmul_vectorized, true);
}
TEST_F(Task16MatmulVectorized, EmptyAndBadArguments) { check_edges("matmul_vectorized", ch07::matmul_vectorized); }

}  // namespace
