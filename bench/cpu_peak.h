// The machine's float32 peak, measured in the run that quotes it: every thread runs chains of
// fused multiply-adds on the widest vectors its core has (AVX-512, else AVX2 + FMA, else SSE),
// independent enough to keep every FMA unit busy. A benchmark's floor is its FLOPs at this rate.
//
//   CpuPeak p = measure_cpu_peak(2);   // {.gflops = 412.7, .isa = "avx512", .threads = 2}
//   double floor_seconds = 40.6e9 / (p.gflops * 1e9);
//
// No GEMM reaches it (Eigen's 1024^3 float32 matmul gets about 60% of it on a 2-core Zen 5),
// so floor fractions read as "how far from the hardware", not "how far from a good library".
#ifndef BENCH_CPU_PEAK_H_
#define BENCH_CPU_PEAK_H_

#include <string>

namespace bench {

struct CpuPeak {
  double gflops = 0;  // float32, all threads together
  std::string isa;    // the vectors it used: "avx512", "avx2", "sse"
  int threads = 1;
};

// The best of a few ~0.1 s runs on `threads` OpenMP threads.
CpuPeak measure_cpu_peak(int threads);

}  // namespace bench

#endif  // BENCH_CPU_PEAK_H_
