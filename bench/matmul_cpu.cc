// matmul_cpu: a 1024x1024x1024 float32 matmul on the CPU backend against Eigen, in the same
// run and on the same threads (OMP_NUM_THREADS, default 2). Reports the median of several
// runs of each; the goal (issue 18) is Eigen's GFLOP/s or more: the optimizer's register tile,
// cache blocks and packed B panels (codegen/packing.h) against Eigen's hand-written GEMM.
//
//   bazel run -c opt //bench:matmul_cpu     # TT_CPU_ISA=avx2 for the AVX2 kernels on an AVX-512 CPU
//   RESULT name=matmul_cpu ours=212.2 anchor=191.0 ratio=1.11   (GFLOP/s; ratio = ours / Eigen)
#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tinyref/tensor.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  setenv("OMP_NUM_THREADS", "2", 0);  // the benchmark's stated setting, unless overridden
  const int n = 1024, runs = 9;
  const double flops = 2.0 * n * n * n;
  tinyref::Tensor::manual_seed(0);
  tinyref::Tensor a = tinyref::Tensor::randn({n, n}, tinyref::DType::kFloat32, "CPU").realize();
  tinyref::Tensor b = tinyref::Tensor::randn({n, n}, tinyref::DType::kFloat32, "CPU").realize();
  std::vector<float> av = a.to_vector<float>(), bv = b.to_vector<float>();

  Eigen::setNbThreads(std::atoi(std::getenv("OMP_NUM_THREADS")));
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Mat ea = Eigen::Map<Mat>(av.data(), n, n), eb = Eigen::Map<Mat>(bv.data(), n, n), ec(n, n);

  std::vector<double> ours, eigen;
  tinyref::Tensor c;
  for (int r = 0; r < runs + 1; ++r) {  // the first run of each compiles / warms up
    auto t0 = std::chrono::steady_clock::now();
    c = a.matmul(b).realize();
    if (r > 0) ours.push_back(flops / seconds_since(t0) * 1e-9);
    t0 = std::chrono::steady_clock::now();
    ec.noalias() = ea * eb;
    if (r > 0) eigen.push_back(flops / seconds_since(t0) * 1e-9);
  }
  // Check the result against Eigen before reporting a speed.
  std::vector<float> cv = c.to_vector<float>();
  double worst = 0;
  for (int i = 0; i < n * n; ++i) worst = std::max(worst, static_cast<double>(std::abs(cv[i] - ec.data()[i])));
  if (worst > 1e-2) {
    std::printf("matmul_cpu: result differs from Eigen by %g\n", worst);
    return 1;
  }
  const double o = median(ours), e = median(eigen);
  std::printf("tinyref CPU: %.1f GFLOP/s, Eigen: %.1f GFLOP/s (median of %d; max |diff| %.2g)\n", o, e, runs, worst);
  std::printf("RESULT name=matmul_cpu ours=%.1f anchor=%.1f ratio=%.2f\n", o, e, o / e);
  return 0;
}
