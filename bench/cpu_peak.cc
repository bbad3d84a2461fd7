#include "bench/cpu_peak.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace bench {

namespace {

// Twelve independent chains: an FMA's latency (4 cycles) times the FMA units (2) is 8 in flight,
// with room to spare. Returns a sum of the chains so the compiler keeps them.
constexpr int kChains = 12;

__attribute__((target("avx512f"))) float fma_chains_avx512(int64_t iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16  // the chains live in registers only when unrolled
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  alignas(64) float lanes[16];
  float sum = 0;
  for (int c = 0; c < kChains; ++c) {
    _mm512_store_ps(lanes, acc[c]);
    for (float x : lanes) sum += x;
  }
  return sum;
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t iterations) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16  // the chains live in registers only when unrolled
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  alignas(32) float lanes[8];
  float sum = 0;
  for (int c = 0; c < kChains; ++c) {
    _mm256_store_ps(lanes, acc[c]);
    for (float x : lanes) sum += x;
  }
  return sum;
}

// SSE has no FMA: a multiply and an add, each a FLOP.
float mul_add_chains_sse(int64_t iterations) {
  __m128 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm_set1_ps(static_cast<float>(c));
  const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16  // the chains live in registers only when unrolled
    for (int c = 0; c < kChains; ++c) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], a), b);
  }
  alignas(16) float lanes[4];
  float sum = 0;
  for (int c = 0; c < kChains; ++c) {
    _mm_store_ps(lanes, acc[c]);
    for (float x : lanes) sum += x;
  }
  return sum;
}

}  // namespace

CpuPeak measure_cpu_peak(int threads) {
  CpuPeak peak;
  peak.threads = threads;
  int lanes = 4;
  float (*chains)(int64_t) = mul_add_chains_sse;
  peak.isa = "sse";
  if (__builtin_cpu_supports("avx512f")) {
    chains = fma_chains_avx512, lanes = 16, peak.isa = "avx512";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    chains = fma_chains_avx2, lanes = 8, peak.isa = "avx2";
  }
  constexpr int64_t kIterations = 20'000'000;  // ~0.1 s at 3 GHz
  volatile float sink = 0;
  for (int run = 0; run < 4; ++run) {  // the first warms the clocks up
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      const float s = chains(kIterations);
#pragma omp critical
      sink = sink + s;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double flops = 2.0 * lanes * kChains * static_cast<double>(kIterations) * threads;
    if (run > 0) peak.gflops = std::max(peak.gflops, flops / seconds * 1e-9);
  }
  return peak;
}

}  // namespace bench
