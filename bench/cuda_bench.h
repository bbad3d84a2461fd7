// What the CUDA benchmarks (matmul_cuda, elementwise_cuda, conv_cuda, mnist_cuda) share: the PyTorch anchor
// run as a child process, the SKIPPED exit where tinyref cannot run on CUDA, waiting for queued
// GPU work, and batched timing.
//
//   BenchFlags anchor;  add_bench_flags(app, flags);
//   return run_cuda_bench(app, argc, argv, [&] {
//     nlohmann::json torch = run_torch_anchor(anchor, "matmul", {"--n", "4096"});
//     double s = seconds_per_call([&] { return a.matmul(b).realize(); }, 5, 7);
//     ...
//   });
//
// tinyref's CUDA backend is reached through dlopen, so these programs build and run anywhere;
// where there is no driver, no GPU or no CUDA backend they print `SKIPPED <name>: <why>` and exit 0.
#ifndef BENCH_CUDA_BENCH_H_
#define BENCH_CUDA_BENCH_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "tinyref/tensor.h"

namespace bench {

struct BenchFlags {
  std::string python = "python3";  // on the GPU machine, the python3 on PATH has PyTorch
  std::string script = "bench/anchors/torch_cuda.py";  // a runfile under bazel run; else from the repo root
  // The tinyref device measured. Only "CUDA" gives a meaningful number; another (with a fake
  // anchor script) runs the benchmark's own code on a machine without a GPU.
  std::string device = "CUDA";
};
void add_bench_flags(CLI::App& app, BenchFlags& flags);
// --reps and --samples, what seconds_per_call takes (their defaults are the variables' values).
void add_timing_flags(CLI::App& app, int& reps, int& samples);

// Parses the command line, then runs body unless tinyref cannot use flags.device here (then
// prints SKIPPED with the reason and returns 0). Errors print `NAME: message` and return 1; bad
// arguments return 2.
int run_cuda_bench(CLI::App& app, const BenchFlags& flags, int argc, char** argv, const std::function<int()>& body);

// Runs the anchor script's `workload` with extra arguments, echoes its JSON line as
// `pytorch {...}`, and returns it (the line whose "workload" is `line_workload`, by default the
// same name). Throws tinyref::Error when the script fails.
nlohmann::json run_torch_anchor(const BenchFlags& flags, const std::string& workload,
                                const std::vector<std::string>& args, const std::string& line_workload = "");

// Blocks until the GPU work that fills t is done. tinyref's realize() only queues kernels on the
// stream; reading one element back waits for everything queued before it.
void wait_for(const tinyref::Tensor& t);

// Median seconds per call of `run`, which queues work and returns the tensor it fills: one
// untimed call first (compiles), then `samples` samples of `reps` calls back to back with one
// wait at the end, so that read-out is shared by reps calls and host work overlaps the GPU's.
double seconds_per_call(const std::function<tinyref::Tensor()>& run, int reps, int samples);

// n float32 values uniform in [-1, 1), the same for the same seed on any machine and thread count.
std::vector<float> uniform_values(int64_t n, uint64_t seed);

// The largest relative error (to sum |a b| over the terms) a sum of `terms` products may show
// where the inputs were rounded to TF32: 2 * 2^-11 + 2 terms 2^-24 (derived in
// tinyref/codegen/tensor_core_test.cc). Float32 stays within it too.
double tf32_relative_bound(int64_t terms);

// "must (>= 0.4): met" style verdict lines for the thresholds.
std::string verdict(bool met);

}  // namespace bench

#endif  // BENCH_CUDA_BENCH_H_
