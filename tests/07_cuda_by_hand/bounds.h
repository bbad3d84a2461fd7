// How far a correct float32 kernel may be from the exact answer, derived from how float32
// arithmetic rounds: u = 2^-24, the unit roundoff (|fl(x) - x| <= u |x| for every operation,
// away from underflow). Chapter 7's tests and its benchmark's checks use these, never a tuned
// number.
//
//   double b = bounds::dot(K, abs_dot);      // one element of C = A @ B, abs_dot = sum |a||b|
//   EXPECT_LE(std::fabs(got - exact), b);
#ifndef TESTS_07_CUDA_BY_HAND_BOUNDS_H_
#define TESTS_07_CUDA_BY_HAND_BOUNDS_H_

#include <cmath>
#include <cstdint>

namespace bounds {

constexpr double kU = 1.0 / (1 << 24);   // float32's unit roundoff
constexpr double kTiny = 0x1p-149;       // the smallest subnormal: rounding below FLT_MIN is absolute

// gamma_n = n u / (1 - n u): the relative error of n roundings in a row (Higham, Accuracy and
// Stability of Numerical Algorithms, lemma 3.1).
inline double gamma(int64_t n) { return n * kU / (1 - n * kU); }

// alpha * x + y with exact result r, product p = alpha * x: one FMA rounds once (u |r|); a
// product then a sum rounds twice: u (1 + u) |p| + u |r|. The larger of the two.
inline double saxpy(double p, double r) { return kU * ((1 + kU) * std::fabs(p) + std::fabs(r)) + kTiny; }

// A dot product of K terms in any order, fused or not: gamma_(K+1) times abs_dot = sum |a_k b_k|
// (Higham, section 3.1; the +1 covers each product's own rounding).
inline double dot(int64_t K, double abs_dot) { return gamma(K + 1) * abs_dot + kTiny; }

// Softmax, relative to each output y = e / s, e = exp(x - m), s = the row's sum of e, for a
// row of `cols` values whose largest |x - m| is `range`: x - m rounds once (u range after exp);
// expf errs by at most 2 ulp (4 u; CUDA's documented bound, glibc's is smaller), so e is within
// (4 + range) u. Summing cols positive terms adds (cols - 1) u; the online rung rescales its
// running sum up to once per element, each rescale one more expf and two roundings:
// (6 + range) u; the divide is two roundings. Altogether (cols (range + 8) + 2 range + 16) u.
// Outputs below FLT_MIN lose relative accuracy: 1e-37 absolute covers them.
inline double softmax_rtol(int64_t cols, double range) { return (cols * (range + 8) + 2 * range + 16) * kU; }
constexpr double kSoftmaxAtol = 1e-37;

}  // namespace bounds

#endif  // TESTS_07_CUDA_BY_HAND_BOUNDS_H_
