// ch07_ladder: chapter 7's four ladders on the GPU, in the protocol of llm.c's dev/cuda: every
// rung is first checked against a CPU reference (float64), then timed at several block sizes.
// Beside them, in the same run, the yardsticks: the device's copy bandwidth (cudaMemcpy device
// to device) for the memory-bound ladders, and cuBLAS SGEMM (float32, no TF32) for matmul.
//
//   ./course bench ch07_ladder                          # your chapters/07 code (needs a GPU)
//   bazel run --config=opt //bench:ch07_ladder_solution # the solution's
//   ... -- --quick                                      # small sizes: a few seconds
//
//   copy       cudaMemcpy D2D        67108864 floats   2961.4 GB/s
//   saxpy      saxpy_float4          block 256         2703.0 GB/s   0.913 of copy
//   RESULT name=ch07_ladder.saxpy_float4 ours=2703 anchor=2961 ratio=0.913
//   matmul     matmul_register_tiled 4096^3            21.30 TFLOP/s 0.418 of cuBLAS
//   RESULT name=ch07_ladder.matmul_register_tiled ours=21.3 anchor=51 ratio=0.418
//
// GB/s count the bytes a rung must move at least (saxpy: x read, y read and written, 12 bytes
// an element; sum: 4; softmax: 8; copy: 8), so a rung that reads its input twice shows it.
// Each rung's RESULT is its best block size. Without a GPU the program prints
// `SKIPPED ch07_ladder: ...` and exits 0; a rung that fails its check is not timed, and the
// program exits 1 at the end.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "ch07/elementwise.h"
#include "ch07/matmul.h"
#include "ch07/reduction.h"
#include "ch07/softmax.h"
#include "tests/07_cuda_by_hand/bounds.h"

namespace {

void check(cudaError_t status, const std::string& what) {
  if (status != cudaSuccess) throw std::runtime_error(what + ": " + cudaGetErrorString(status));
}

// n floats of device memory.
class DeviceArray {
 public:
  explicit DeviceArray(const std::vector<float>& host) : n_(host.size()) {
    check(cudaMalloc(&data_, n_ * sizeof(float)), "cudaMalloc");
    upload(host);
  }
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  float* get() const { return data_; }
  void upload(const std::vector<float>& host) {
    check(cudaMemcpy(data_, host.data(), n_ * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy to the device");
  }
  std::vector<float> download() const {
    std::vector<float> host(n_);
    check(cudaMemcpy(host.data(), data_, n_ * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
    return host;
  }

 private:
  float* data_ = nullptr;
  size_t n_;
};

std::vector<float> uniform(int64_t n, float lo, float hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// Median milliseconds per call of `run` (which queues GPU work): one untimed call, then
// `samples` samples of `reps` calls between two events.
double ms_per_call(const std::function<void()>& run, int reps, int samples) {
  run();
  check(cudaDeviceSynchronize(), "warm-up");
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  std::vector<double> per_call;
  for (int s = 0; s < samples; ++s) {
    check(cudaEventRecord(start), "cudaEventRecord");
    for (int r = 0; r < reps; ++r) run();
    check(cudaEventRecord(stop), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "timing");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    per_call.push_back(ms / reps);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return bench::median(per_call);
}

// cuBLAS, reached through dlopen: the program runs (without the SGEMM rung) where it is missing.
class Cublas {
 public:
  Cublas() {
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
      if ((lib_ = dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    }
    if (lib_ == nullptr) return;
    create_ = reinterpret_cast<decltype(create_)>(dlsym(lib_, "cublasCreate_v2"));
    destroy_ = reinterpret_cast<decltype(destroy_)>(dlsym(lib_, "cublasDestroy_v2"));
    sgemm_ = reinterpret_cast<decltype(sgemm_)>(dlsym(lib_, "cublasSgemm_v2"));
    if (create_ == nullptr || destroy_ == nullptr || sgemm_ == nullptr || create_(&handle_) != CUBLAS_STATUS_SUCCESS) {
      handle_ = nullptr;
    }
  }
  ~Cublas() {
    if (handle_ != nullptr) destroy_(handle_);
    if (lib_ != nullptr) dlclose(lib_);
  }
  bool found() const { return handle_ != nullptr; }

  // Row-major C = A @ B is column-major C^T = B^T @ A^T: cuBLAS gets B and A swapped.
  void matmul(int M, int N, int K, const float* A, const float* B, float* C) const {
    const float one = 1.0f, zero = 0.0f;
    if (sgemm_(handle_, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, N, A, K, &zero, C, N) != CUBLAS_STATUS_SUCCESS) {
      throw std::runtime_error("cublasSgemm failed");
    }
  }

 private:
  void* lib_ = nullptr;
  cublasHandle_t handle_ = nullptr;
  cublasStatus_t (*create_)(cublasHandle_t*) = nullptr;
  cublasStatus_t (*destroy_)(cublasHandle_t) = nullptr;
  cublasStatus_t (*sgemm_)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const float*,
                           const float*, int, const float*, int, const float*, float*, int) = nullptr;
};

struct Sizes {
  int n;            // saxpy, sum and copy: floats
  int rows, cols;   // softmax
  int mnk;          // matmul: M = N = K
};

class Ladder {
 public:
  Ladder(int reps, int samples, int sms) : reps_(reps), samples_(samples), sms_(sms) {}

  // Runs the rung once with its default launch and checks the result with `ok` (which says
  // what is wrong in `detail`); false, with a line saying why, when the launcher throws (an
  // unfinished task, a refused launch) or the result is wrong.
  bool checked(const char* family, const char* rung, const std::function<void()>& run,
               const std::function<bool(std::string&)>& ok) {
    std::string detail;
    try {
      run();
      if (ok(detail)) return true;
    } catch (const std::exception& e) {
      detail = e.what();
    }
    std::printf("%-8s %-24s WRONG: %s (not timed)\n", family, rung, detail.c_str());
    failures_++;
    return false;
  }

  // Times `run(launch)` at each block size (none: the kernel's own block shape); prints each,
  // then the RESULT line of the best.
  void time(const char* family, const char* rung, const std::vector<int>& blocks, double units_per_call,
            const char* unit, double anchor, const char* anchor_name, const std::function<void(ch07::Launch)>& run) {
    double best = 0;
    for (size_t b = 0; b < std::max<size_t>(blocks.size(), 1); ++b) {
      // Grid-stride rungs: enough blocks to fill every SM (2048 threads each on sm_80+).
      ch07::Launch launch;
      if (!blocks.empty()) launch = {blocks[b], sms_ * (2048 / blocks[b])};
      const double ms = ms_per_call([&] { run(launch); }, reps_, samples_);
      const double rate = units_per_call / (ms * 1e-3);
      best = std::max(best, rate);
      const std::string shape = blocks.empty() ? "own blocks" : "block " + std::to_string(launch.block);
      std::printf("%-8s %-24s %-10s %10.3f ms %10.2f %-7s %.3f of %s\n", family, rung, shape.c_str(), ms, rate, unit,
                  anchor > 0 ? rate / anchor : 0.0, anchor_name);
    }
    bench::print_result(std::string("ch07_ladder.") + rung, best, anchor);
  }

  int failures() const { return failures_; }
  int reps() const { return reps_; }
  int samples() const { return samples_; }

 private:
  int reps_, samples_, sms_;
  int failures_ = 0;
};

const std::vector<int> kBlocks = {128, 256, 512, 1024};

double copy_gbps(int n, const Ladder& ladder) {
  DeviceArray src(uniform(n, -1, 1, 1)), dst{std::vector<float>(n)};
  const double ms = ms_per_call([&] { check(cudaMemcpy(dst.get(), src.get(), n * sizeof(float), cudaMemcpyDeviceToDevice), "copy"); },
                                ladder.reps(), ladder.samples());
  const double gbps = 8.0 * n / (ms * 1e-3) * 1e-9;
  std::printf("%-8s %-24s %d floats %10.3f ms %10.2f GB/s\n", "copy", "cudaMemcpy D2D", n, ms, gbps);
  return gbps;
}

void run_saxpy(int n, double copy, Ladder& ladder) {
  const float alpha = 0.5f;
  const std::vector<float> x = uniform(n, -1, 1, 2), y = uniform(n, -1, 1, 3);
  DeviceArray dx(x), dy(y);
  for (const auto& v : ch07::kSaxpyLadder) {
    dy.upload(y);
    const auto ok = [&](std::string& detail) {
      const std::vector<float> got = dy.download();
      for (int64_t i = 0; i < n; ++i) {
        const double p = double{alpha} * x[i], r = p + y[i];
        if (std::fabs(got[i] - r) <= bounds::saxpy(p, r)) continue;
        detail = "element " + std::to_string(i) + " is " + std::to_string(got[i]) + " instead of " + std::to_string(r);
        return false;
      }
      return true;
    };
    if (!ladder.checked("saxpy", v.name, [&] { v.run(n, alpha, dx.get(), dy.get(), {}); }, ok)) continue;
    ladder.time("saxpy", v.name, kBlocks, 12.0 * n * 1e-9, "GB/s", copy, "copy",
                [&](ch07::Launch l) { v.run(n, alpha, dx.get(), dy.get(), l); });
  }
}

// n values in {-1, 0, 1}, at most 2^24 of them nonzero, spread at random and as dense as that
// allows (all nonzero for n <= 2^24, a quarter at the default 2^26). Every partial sum, in
// whatever order the atomics take, is then an integer of magnitude at most 2^24, which float32
// holds exactly: every correct rung returns the exact sum, and the check is equality, as
// reduction_test's. (The worst-case bound of any order, gamma_(n-1) sum |x_i|, means nothing
// once n u >= 1: at 2^26 terms it would pass any answer.) A lost tail or block changes the sum.
std::vector<float> exactly_summable(int n, uint64_t seed) {
  constexpr int64_t kExactIntegers = int64_t{1} << 24;  // float32 holds every integer up to this
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution nonzero(std::min(1.0, static_cast<double>(kExactIntegers) / n));
  std::vector<float> v(n, 0.0f);
  int64_t nonzeros = 0;
  for (float& x : v) {
    if (nonzeros < kExactIntegers && nonzero(rng)) x = (rng() & 1) != 0 ? 1.0f : -1.0f, ++nonzeros;
  }
  return v;
}

void run_sum(int n, double copy, Ladder& ladder) {
  const std::vector<float> x = exactly_summable(n, 4);
  double exact = 0;
  for (float v : x) exact += v;
  DeviceArray dx(x), dsum{std::vector<float>(1)};
  const auto ok = [&](std::string& detail) {
    const float got = dsum.download()[0];
    detail = "got " + std::to_string(got) + " instead of " + std::to_string(exact) + " (exact: see exactly_summable)";
    return got == exact;
  };
  for (const auto& v : ch07::kSumLadder) {
    if (!ladder.checked("sum", v.name, [&] { v.run(n, dx.get(), dsum.get(), {}); }, ok)) continue;
    ladder.time("sum", v.name, kBlocks, 4.0 * n * 1e-9, "GB/s", copy, "copy",
                [&](ch07::Launch l) { v.run(n, dx.get(), dsum.get(), l); });
  }
}

// Checks 64 rows spread over the matrix (all of them when there are fewer).
bool softmax_rows_ok(int rows, int cols, const std::vector<float>& in, const std::vector<float>& out, std::string& detail) {
  const int step = std::max(1, rows / 64);
  for (int r = 0; r < rows; r += step) {
    const float* x = in.data() + static_cast<int64_t>(r) * cols;
    const auto [lo, hi] = std::minmax_element(x, x + cols);
    double s = 0;
    for (int c = 0; c < cols; ++c) s += std::exp(double{x[c]} - *hi);
    const double rtol = bounds::softmax_rtol(cols, double{*hi} - *lo);
    for (int c = 0; c < cols; ++c) {
      const double want = std::exp(double{x[c]} - *hi) / s;
      const float got = out[static_cast<int64_t>(r) * cols + c];
      if (!(std::fabs(got - want) <= rtol * want + bounds::kSoftmaxAtol)) {
        detail = "row " + std::to_string(r) + ", column " + std::to_string(c) + ": " + std::to_string(got) +
                 " instead of " + std::to_string(want);
        return false;
      }
    }
  }
  return true;
}

void run_softmax(int rows, int cols, double copy, Ladder& ladder) {
  const std::vector<float> in = uniform(int64_t{rows} * cols, -10, 10, 5);
  DeviceArray din(in), dout{std::vector<float>(in.size())};
  const auto ok = [&](std::string& detail) { return softmax_rows_ok(rows, cols, in, dout.download(), detail); };
  for (const auto& v : ch07::kSoftmaxLadder) {
    if (!ladder.checked("softmax", v.name, [&] { v.run(rows, cols, din.get(), dout.get(), {}); }, ok)) continue;
    ladder.time("softmax", v.name, kBlocks, 8.0 * rows * cols * 1e-9, "GB/s", copy, "copy",
                [&](ch07::Launch l) { v.run(rows, cols, din.get(), dout.get(), l); });
  }
}

// Checks 1024 elements of C at random places, and its four corners, against float64 dot products.
bool matmul_ok(int n, const std::vector<float>& A, const std::vector<float>& B, const std::vector<float>& C,
               std::string& detail) {
  std::mt19937_64 rng(6);
  std::uniform_int_distribution<int> pick(0, n - 1);
  std::vector<std::pair<int, int>> where = {{0, 0}, {0, n - 1}, {n - 1, 0}, {n - 1, n - 1}};
  for (int i = 0; i < 1024; ++i) where.emplace_back(pick(rng), pick(rng));
  for (const auto& [i, j] : where) {
    double dot = 0, abs_dot = 0;
    for (int k = 0; k < n; ++k) {
      const double p = double{A[static_cast<int64_t>(i) * n + k]} * B[static_cast<int64_t>(k) * n + j];
      dot += p, abs_dot += std::fabs(p);
    }
    const float got = C[static_cast<int64_t>(i) * n + j];
    if (!(std::fabs(got - dot) <= bounds::dot(n, abs_dot))) {
      detail = "C[" + std::to_string(i) + "][" + std::to_string(j) + "] is " + std::to_string(got) + " instead of " +
               std::to_string(dot);
      return false;
    }
  }
  return true;
}

void run_matmul(int n, Ladder& ladder) {
  const std::vector<float> A = uniform(int64_t{n} * n, -1, 1, 7), B = uniform(int64_t{n} * n, -1, 1, 8);
  DeviceArray dA(A), dB(B), dC{std::vector<float>(A.size())};
  const double tflop = 2.0 * n * n * n * 1e-12;
  const Cublas cublas;
  const auto ok = [&](std::string& detail) { return matmul_ok(n, A, B, dC.download(), detail); };
  double anchor = 0;
  if (!cublas.found()) {
    std::printf("%-8s %-24s not found (libcublas.so.13/.12): matmul ratios are 0\n", "matmul", "cuBLAS");
  } else if (ladder.checked("matmul", "cublas_sgemm", [&] { cublas.matmul(n, n, n, dA.get(), dB.get(), dC.get()); }, ok)) {
    const double ms = ms_per_call([&] { cublas.matmul(n, n, n, dA.get(), dB.get(), dC.get()); }, ladder.reps(), ladder.samples());
    anchor = tflop / (ms * 1e-3);
    std::printf("%-8s %-24s %d^3 %10.3f ms %10.2f TFLOP/s\n", "matmul", "cublas_sgemm", n, ms, anchor);
  }
  for (const auto& v : ch07::kMatmulLadder) {
    if (!ladder.checked("matmul", v.name, [&] { v.run(n, n, n, dA.get(), dB.get(), dC.get()); }, ok)) continue;
    ladder.time("matmul", v.name, {}, tflop, "TFLOP/s", anchor, "cuBLAS",
                [&](ch07::Launch) { v.run(n, n, n, dA.get(), dB.get(), dC.get()); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chapter 7's kernel ladders on the GPU, beside cudaMemcpy and cuBLAS", "ch07_ladder"};
  bool quick = false;
  int reps = 10, samples = 7;
  app.add_flag("--quick", quick, "small sizes (seconds): a smoke test, not a measurement");
  app.add_option("--reps", reps, "calls per timed sample")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--samples", samples, "timed samples (the median is reported)")->check(CLI::PositiveNumber)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("SKIPPED ch07_ladder: no CUDA device\n");
    return 0;
  }
  try {
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    // Big enough that nothing stays in the L2 cache (50 MB on an H100) between calls.
    const Sizes sizes = quick ? Sizes{1 << 20, 1024, 512, 512} : Sizes{1 << 26, 16384, 2048, 4096};
    std::printf("ch07_ladder on %s (%d SMs)%s\n", prop.name, prop.multiProcessorCount, quick ? ", --quick sizes" : "");
    Ladder ladder(reps, samples, prop.multiProcessorCount);
    const double copy = copy_gbps(sizes.n, ladder);
    run_saxpy(sizes.n, copy, ladder);
    run_sum(sizes.n, copy, ladder);
    run_softmax(sizes.rows, sizes.cols, copy, ladder);
    run_matmul(sizes.mnk, ladder);
    if (ladder.failures() > 0) {
      std::fprintf(stderr, "ch07_ladder: %d rung(s) gave wrong results (above)\n", ladder.failures());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ch07_ladder: %s\n", e.what());
    return 1;
  }
}
