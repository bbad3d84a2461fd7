#include "bench/cuda_bench.h"

#include <chrono>
#include <cstdio>
#include <exception>

#include "bench/bench_util.h"
#include "tinyref/env.h"
#include "tinyref/error.h"

namespace bench {

using nlohmann::json;
using tinyref::Tensor;

void add_bench_flags(CLI::App& app, BenchFlags& flags) {
  app.add_option("--python", flags.python, "Python with PyTorch and CUDA (looked up in PATH)")->capture_default_str();
  app.add_option("--anchor", flags.script, "the PyTorch anchor script")->capture_default_str();
  app.add_option("--device", flags.device, "tinyref device (another than CUDA only to try the benchmark's code)")
      ->capture_default_str();
}

double tf32_relative_bound(int64_t terms) { return 2.0 / 2048 + 2.0 * static_cast<double>(terms) / 16777216; }

void add_timing_flags(CLI::App& app, int& reps, int& samples) {
  app.add_option("--reps", reps, "calls per timed sample")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--samples", samples, "timed samples (the median is reported)")->check(CLI::PositiveNumber)->capture_default_str();
}

namespace {

// Why tinyref cannot compute on `device` here, or "" when it can: a real round trip (a kernel
// and a read-back), as the registry may know CUDA while the driver or the GPU is missing.
std::string unavailable(const std::string& device) {
  try {
    const std::vector<float> got = (Tensor::zeros({4}, tinyref::DType::kFloat32, device) + 1).contiguous().to_vector<float>();
    for (float v : got) {
      if (v != 1.0f) return "a test kernel on CUDA returned a wrong value";
    }
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

int run_cuda_bench(CLI::App& app, const BenchFlags& flags, int argc, char** argv, const std::function<int()>& body) {
  const std::string name = app.get_name();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\n\n%s", name.c_str(), e.what(), app.help().c_str());
    return 2;
  }
  if (const std::string why = unavailable(flags.device); !why.empty()) {
    std::printf("SKIPPED %s: tinyref cannot run on %s here: %s\n", name.c_str(), flags.device.c_str(), why.c_str());
    return 0;
  }
  // The settings that change which kernels the search tries, so that a log says what it measured.
  std::printf("tinyref on %s: TT_TF32=%s TT_ASYNC=%s TT_WGMMA=%s\n", flags.device.c_str(),
              tinyref::env_string("TT_TF32", "unset").c_str(), tinyref::env_string("TT_ASYNC", "1").c_str(),
              tinyref::env_string("TT_WGMMA", "0").c_str());
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
    return 1;
  }
}

json run_torch_anchor(const BenchFlags& flags, const std::string& workload, const std::vector<std::string>& args,
                      const std::string& line_workload) {
  std::vector<std::string> argv = {flags.python, flags.script, "--workload", workload};
  argv.insert(argv.end(), args.begin(), args.end());
  std::fprintf(stderr, "running the PyTorch anchor: %s %s --workload %s ...\n", flags.python.c_str(),
               flags.script.c_str(), workload.c_str());
  const json line = line_for(spawn(argv, {}), line_workload.empty() ? workload : line_workload,
                             "the PyTorch anchor (" + flags.script + ")");
  std::printf("pytorch %s\n", line.dump().c_str());
  return line;
}

void wait_for(const Tensor& t) { (void)t.reshape({-1})[0].item(); }

double seconds_per_call(const std::function<Tensor()>& run, int reps, int samples) {
  Tensor last = run();
  wait_for(last);
  std::vector<double> per_call;
  for (int s = 0; s < samples; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) last = run();
    wait_for(last);
    per_call.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps);
  }
  return median(per_call);
}

std::vector<float> uniform_values(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  // splitmix64 of (seed, index): counter-based, so the loop parallelizes and the values do not
  // depend on the thread count (256M values from std::mt19937 would take seconds).
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(i) + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    v[static_cast<size_t>(i)] = static_cast<float>(static_cast<double>(z >> 40) / 16777216.0 * 2.0 - 1.0);
  }
  return v;
}

std::string verdict(bool met) { return met ? "met" : "NOT met"; }

}  // namespace bench
