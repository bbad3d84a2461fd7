// What chapter 7's kernels are compared with: tinyref on the CPU (INTERP, float64), random
// inputs, and an elementwise check against per-element rounding bounds.
//
//   std::mt19937_64 rng(seed);
//   std::vector<float> x = oracle::uniform(rng, n, -1, 1);
//   std::vector<double> want = oracle::saxpy(alpha, x, y);          // tinyref, in float64
//   std::vector<double> bound = ...;                                 // from bounds.h
//   EXPECT_TRUE(oracle::within(want, got, bound, "saxpy_naive(n 1000, block 96)"));
#ifndef TESTS_07_CUDA_BY_HAND_ORACLE_H_
#define TESTS_07_CUDA_BY_HAND_ORACLE_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace oracle {

// n floats uniform in [lo, hi).
std::vector<float> uniform(std::mt19937_64& rng, int64_t n, float lo, float hi);
// n nonzero integers in [-limit, limit], as floats: any sum of up to 2^24 / limit of them is
// exact in float32, in any order, so a sum kernel has to get it exactly right.
std::vector<float> small_integers(std::mt19937_64& rng, int64_t n, int limit);
// A uniform integer in [lo, hi].
int between(std::mt19937_64& rng, int lo, int hi);

// alpha * x + y, elementwise.
std::vector<double> saxpy(float alpha, const std::vector<float>& x, const std::vector<float>& y);
// x[0] + ... + x[n-1].
double sum(const std::vector<float>& x);
// Softmax of each row of a (rows, cols) row-major matrix.
std::vector<double> softmax(int rows, int cols, const std::vector<float>& in);
// A @ B for A (M, K) and B (K, N), row-major; with absolute values: |A| @ |B|.
std::vector<double> matmul(int M, int N, int K, const std::vector<float>& A, const std::vector<float>& B,
                           bool absolute = false);

// |want[i] - got[i]| <= bound[i] for every i (NaN only where NaN is wanted). On failure: how
// many differ, the first (index, wanted, got, bound) and the largest error against its bound.
::testing::AssertionResult within(const std::vector<double>& want, const std::vector<float>& got,
                                  const std::vector<double>& bound, const std::string& what);

}  // namespace oracle

#endif  // TESTS_07_CUDA_BY_HAND_ORACLE_H_
