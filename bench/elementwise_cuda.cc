// elementwise_cuda: (a*b+c).relu() on 256M float32 values (1 GiB each), one fused tinyref kernel
// on CUDA, against the device's copy bandwidth (PyTorch's dst.copy_(src) on 256M values) measured
// in the same run. Both count the bytes read and written: ours moves 3 inputs and 1 output
// (16 bytes a value), the copy 8. The bar: at least 0.7 of the copy bandwidth.
//
//   bazel run --config=opt //bench:elementwise_cuda      # on the GPU machine: devbin/run_all.sh
//   pytorch {"workload": "copy", "gbps": 2997, ...}
//   RESULT name=elementwise_cuda ours=... anchor=2997 ratio=...   (GB/s; ratio = ours / copy)
//
// Timing as in matmul_cuda and the anchor: samples of `reps` calls back to back, one wait each,
// the median per call.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/cuda_bench.h"
#include "tinyref/error.h"
#include "tinyref/tensor.h"

namespace {

using tinyref::Tensor;

constexpr double kMustRatio = 0.7;

Tensor chain(const Tensor& a, const Tensor& b, const Tensor& c) { return (a * b + c).relu(); }

// The largest error against float64, relative to |a*b| + |c| (NVRTC may contract a*b+c into one
// fma, which rounds once instead of twice: both are right).
double worst_error(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c,
                   const std::vector<float>& out) {
  double worst = 0;
  const int64_t n = static_cast<int64_t>(out.size());
#pragma omp parallel for reduction(max : worst)
  for (int64_t i = 0; i < n; ++i) {
    const double ab = static_cast<double>(a[i]) * b[i];
    const double want = std::max(ab + c[i], 0.0);
    worst = std::max(worst, std::abs(out[i] - want) / (std::abs(ab) + std::abs(c[i]) + 1e-30));
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinyref's fused (a*b+c).relu() on CUDA vs the device's copy bandwidth", "elementwise_cuda"};
  int64_t n = int64_t{256} << 20;
  int reps = 10, samples = 9;
  bench::BenchFlags flags;
  app.add_option("--elements", n, "float32 values per tensor")->check(CLI::Range(int64_t{1} << 10, int64_t{1} << 31))->capture_default_str();
  bench::add_timing_flags(app, reps, samples);
  bench::add_bench_flags(app, flags);
  return bench::run_cuda_bench(app, flags, argc, argv, [&] {
    const nlohmann::json torch = bench::run_torch_anchor(
        flags, "copy",
        {"--elements", std::to_string(n), "--reps", std::to_string(reps), "--samples", std::to_string(samples)});
    const double copy_gbps = torch.at("gbps").get<double>();

    const std::vector<float> av = bench::uniform_values(n, 1), bv = bench::uniform_values(n, 2),
                             cv = bench::uniform_values(n, 3);
    Tensor a = Tensor::from_vector(av, {n}, flags.device).realize();
    Tensor b = Tensor::from_vector(bv, {n}, flags.device).realize();
    Tensor c = Tensor::from_vector(cv, {n}, flags.device).realize();
    // One kernel is the point of the benchmark; more would still be timed, but the bytes counted
    // below are the fused kernel's, so say so on the RESULT line.
    const int kernels = tinyref::count_kernels({chain(a, b, c)});
    const double err = worst_error(av, bv, cv, chain(a, b, c).to_vector<float>());
    TT_CHECK(err < 1e-6, "elementwise_cuda: tinyref's result differs from float64 by " << err << " (relative)");

    const double seconds = bench::seconds_per_call([&] { return chain(a, b, c).realize(); }, reps, samples);
    const double moved = 4.0 * 4.0 * static_cast<double>(n);  // a, b, c read; the output written
    const double ours = moved / seconds * 1e-9;
    std::printf("tinyref %s: %.3f ms a call, %.0f GB/s effective; copy (torch): %.0f GB/s; kernels: %d; "
                "worst relative error %.2g\n",
                flags.device.c_str(), seconds * 1e3, ours, copy_gbps, kernels, err);
    bench::print_result("elementwise_cuda", ours, copy_gbps,
                        " unit=GB/s elements=" + std::to_string(n) + " kernels=" + std::to_string(kernels));
    std::printf("must (>= %.1f of the copy bandwidth, one kernel): %s\n", kMustRatio,
                bench::verdict(ours / copy_gbps >= kMustRatio && kernels == 1).c_str());
    return 0;
  });
}
