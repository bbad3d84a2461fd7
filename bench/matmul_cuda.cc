// matmul_cuda: an n x n x n float32 matmul (n = 4096) by tinyref's generated CUDA kernel against
// cuBLAS float32 without TF32 (PyTorch's torch.mm, allow_tf32 = False), on the same GPU in the
// same run. The bar: at least 0.4 of cuBLAS (must), 0.8 (goal). Then the same on TF32
// tensor cores: tinyref with TT_TF32=1 against cuBLAS with allow_tf32 = True (goal: 0.7).
//
//   bazel run --config=opt //bench:matmul_cuda            # on the GPU machine: devbin/run_all.sh
//   pytorch {"workload": "matmul", "tflops": 51.4, ...}
//   RESULT name=matmul_cuda ours=... anchor=51.4 ratio=...   (TFLOP/s; ratio = ours / cuBLAS)
//   RESULT name=matmul_cuda_tf32 ours=... anchor=... ratio=...
//
// Timing (the same as the anchor's, bench/anchors/torch_cuda.py): after one untimed call, samples
// of `reps` calls back to back with one wait at the end; the median per call. tinyref's calls
// include its host work (scheduling a new lazy graph each call), which overlaps the GPU's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/cuda_bench.h"
#include "tinyref/env.h"
#include "tinyref/error.h"
#include "tinyref/tensor.h"

namespace {

using tinyref::Tensor;

constexpr double kMustRatio = 0.4, kGoalRatio = 0.8, kTf32GoalRatio = 0.7;

// The largest error of c = a @ b over a spread of entries (every row and column is hit), each
// relative to sum_k |a_ik b_kj|, the scale float32 rounding errors grow with. Checking all n^2
// entries on the host would take minutes; a wrong index or tile shows up in any sample.
double worst_relative_error(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c,
                            int64_t n) {
  double worst = 0;
  for (int64_t s = 0; s < 4 * n; ++s) {
    const int64_t i = s % n, j = (s * 7919 + s / n) % n;  // 7919 is prime, so j runs through all columns
    double want = 0, scale = 0;
    for (int64_t k = 0; k < n; ++k) {
      const double p = static_cast<double>(a[i * n + k]) * b[k * n + j];
      want += p;
      scale += std::abs(p);
    }
    worst = std::max(worst, std::abs(c[i * n + j] - want) / (scale + 1e-30));
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinyref's generated CUDA matmul vs cuBLAS float32 (no TF32), n x n x n", "matmul_cuda"};
  int64_t n = 4096;
  int reps = 5, samples = 7;
  bench::BenchFlags flags;
  app.add_option("--n", n, "matrix size")->check(CLI::Range(int64_t{64}, int64_t{16384}))->capture_default_str();
  bench::add_timing_flags(app, reps, samples);
  bench::add_bench_flags(app, flags);
  return bench::run_cuda_bench(app, flags, argc, argv, [&] {
    const std::string ns = std::to_string(n);
    const nlohmann::json torch = bench::run_torch_anchor(
        flags, "matmul", {"--n", ns, "--reps", std::to_string(reps), "--samples", std::to_string(samples)});
    const double anchor_tflops = torch.at("tflops").get<double>();

    const std::vector<float> av = bench::uniform_values(n * n, 1), bv = bench::uniform_values(n * n, 2);
    Tensor a = Tensor::from_vector(av, {n, n}, flags.device).realize();
    Tensor b = Tensor::from_vector(bv, {n, n}, flags.device).realize();
    tinyref::ScopedEnv tf32("TT_TF32", "0");  // float32 first, whatever the run was started with
    // Check first: a fast wrong answer is no result. 1e-4 of the scale is loose for float32
    // (4096 terms round to a few 1e-6) but far below what a wrong element or tile gives.
    const double err = worst_relative_error(av, bv, a.matmul(b).to_vector<float>(), n);
    TT_CHECK(err < 1e-4, "matmul_cuda: tinyref's result differs from float64 by " << err << " (relative)");

    const double seconds = bench::seconds_per_call([&] { return a.matmul(b).realize(); }, reps, samples);
    const double ours = 2.0 * static_cast<double>(n * n * n) / seconds * 1e-12;
    std::printf("tinyref %s: %.2f TFLOP/s (%.3f ms), cuBLAS float32: %.2f TFLOP/s; kernels: %d; "
                "worst relative error %.2g\n",
                flags.device.c_str(), ours, seconds * 1e3, anchor_tflops, tinyref::count_kernels({a.matmul(b)}), err);
    bench::print_result("matmul_cuda", ours, anchor_tflops, " unit=TFLOP/s n=" + ns);
    std::printf("must (>= %.1f of cuBLAS): %s; goal (>= %.1f): %s\n", kMustRatio,
                bench::verdict(ours / anchor_tflops >= kMustRatio).c_str(), kGoalRatio,
                bench::verdict(ours / anchor_tflops >= kGoalRatio).c_str());

    // TF32: inputs rounded to 10 mantissa bits (unit roundoff 2^-11).
    const nlohmann::json torch_tf32 = bench::run_torch_anchor(
        flags, "matmul", {"--n", ns, "--reps", std::to_string(reps), "--samples", std::to_string(samples), "--tf32"});
    const double anchor_tf32 = torch_tf32.at("tflops").get<double>();
    tf32.set("1");
    const double tf32_bound = bench::tf32_relative_bound(n);
    const double err_tf32 = worst_relative_error(av, bv, a.matmul(b).to_vector<float>(), n);
    TT_CHECK(err_tf32 < tf32_bound, "matmul_cuda: tinyref's TF32 result differs from float64 by " << err_tf32 << " (relative)");
    const double seconds_tf32 = bench::seconds_per_call([&] { return a.matmul(b).realize(); }, reps, samples);
    const double ours_tf32 = 2.0 * static_cast<double>(n * n * n) / seconds_tf32 * 1e-12;
    std::printf("tinyref TT_TF32=1: %.2f TFLOP/s (%.3f ms), cuBLAS TF32: %.2f TFLOP/s; worst relative error %.2g "
                "(TF32 bound %.2g)\n", ours_tf32, seconds_tf32 * 1e3, anchor_tf32, err_tf32, tf32_bound);
    bench::print_result("matmul_cuda_tf32", ours_tf32, anchor_tf32, " unit=TFLOP/s n=" + ns);
    std::printf("goal (>= %.1f of cuBLAS TF32): %s\n", kTf32GoalRatio,
                bench::verdict(ours_tf32 / anchor_tf32 >= kTf32GoalRatio).c_str());
    return 0;
  });
}
