// compile_cache: runs a small training step (MLP forward, backward, SGD update) in two fresh
// processes sharing one empty kernel cache folder. The first compiles every kernel; the second
// must compile none (the CPU backend finds each one on disk by the hash of its source).
//
//   bazel run -c opt //bench:compile_cache
//   RESULT name=compile_cache ours=0 anchor=23 ratio=0.00   (compiles in run 2; run 1; ratio)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tinyref/backends/device.h"
#include "tinyref/tensor.h"

namespace {

// The child: one training step of a 784-64-10 MLP on a random batch, on the CPU backend.
int train_step() {
  using tinyref::DType;
  using tinyref::Tensor;
  const auto t0 = std::chrono::steady_clock::now();
  Tensor::manual_seed(1);
  Tensor x = Tensor::randn({32, 784}, DType::kFloat32, "CPU");
  Tensor y = Tensor::randint({32}, 0, 10, "CPU");
  Tensor w1 = (Tensor::randn({784, 64}, DType::kFloat32, "CPU") * 0.05).realize().requires_grad_();
  Tensor b1 = Tensor::zeros({64}, DType::kFloat32, "CPU").contiguous().realize().requires_grad_();
  Tensor w2 = (Tensor::randn({64, 10}, DType::kFloat32, "CPU") * 0.1).realize().requires_grad_();
  Tensor loss = (x.matmul(w1) + b1).relu().matmul(w2).cross_entropy(y);
  loss.backward();
  std::vector<Tensor> step = {loss};
  for (Tensor p : {w1, b1, w2}) step.push_back(p.detach() - p.grad() * 0.1);
  tinyref::realize_all(step);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("compiles=%lld kernels=%lld loss=%.6f seconds=%.3f\n",
              static_cast<long long>(tinyref::stats().compiler_runs),
              static_cast<long long>(tinyref::stats().kernels_launched), loss.item(), s);
  return 0;
}

struct RunResult {
  long long compiles = -1, kernels = -1;
  double loss = 0, seconds = 0;
};

RunResult run_child(const std::string& cache) {
  const std::string cmd = "TT_CACHE_DIR='" + cache + "' TT_BENCH_CHILD=1 /proc/" + std::to_string(::getpid()) + "/exe";
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  if (std::fscanf(p, "compiles=%lld kernels=%lld loss=%lf seconds=%lf", &r.compiles, &r.kernels, &r.loss, &r.seconds) != 4) {
    r.compiles = -1;
  }
  ::pclose(p);
  return r;
}

}  // namespace

int main() {
  if (std::getenv("TT_BENCH_CHILD") != nullptr) return train_step();
  char tmpl[] = "/tmp/tinyref_compile_cache_XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) return 1;
  RunResult first = run_child(dir), second = run_child(dir);
  std::filesystem::remove_all(dir);
  if (first.compiles < 0 || second.compiles < 0 || first.loss != second.loss) {
    std::printf("compile_cache: a child run failed (compiles %lld / %lld)\n", first.compiles, second.compiles);
    return 1;
  }
  std::printf("run 1 (empty cache): %lld kernels run, %lld compiled, %.2f s\n", first.kernels, first.compiles, first.seconds);
  std::printf("run 2 (same cache):  %lld kernels run, %lld compiled, %.2f s\n", second.kernels, second.compiles, second.seconds);
  std::printf("RESULT name=compile_cache ours=%lld anchor=%lld ratio=%.2f\n", second.compiles, first.compiles,
              first.compiles > 0 ? static_cast<double>(second.compiles) / first.compiles : 0.0);
  return second.compiles == 0 ? 0 : 1;
}
