// Your blocked matmul (ch02.8) against Eigen, on this machine, in the same run.
//
//   bazel run --config=opt //tests/02_strided_tensors:matmul_bench               # your code
//   bazel run --config=opt //tests/02_strided_tensors:matmul_bench_solution      # the solution
//   ... -- --size 512 --threads 1 --runs 9
//
// Both products are first checked against each other (a fast wrong answer is worth nothing),
// then timed: the median of --runs runs after one warm-up, with the same number of OpenMP
// threads for both. Eigen is compiled here with the same flags as your code, so the ratio
// compares the algorithms, not the compilers. The last line is machine-readable:
//   RESULT name=ch02_matmul ours=<GFLOP/s> anchor=<Eigen GFLOP/s> ratio=<ours/anchor> ...
#include <omp.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ch02/ops.h"

namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double median_seconds(int runs, const std::function<void()>& work) {
  work();  // warm-up: first-touch page faults, OpenMP thread start-up
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    work();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--size N] [--threads T] [--runs R]\n", argv0);
  return 2;
}

}  // namespace

int run(int argc, char** argv) {
  int64_t n = 1024;
  int threads = 2, runs = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    if (arg == "--size") n = std::atoll(argv[++i]);
    else if (arg == "--threads") threads = std::atoi(argv[++i]);
    else if (arg == "--runs") runs = std::atoi(argv[++i]);
    else return usage(argv[0]);
  }
  if (n < 1 || threads < 1 || runs < 1) return usage(argv[0]);
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);

  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(n * n), b(n * n);
  for (float& v : a) v = u(rng);
  for (float& v : b) v = u(rng);
  const auto ta = ch02::FloatTensor::from_vector({n, n}, a);
  const auto tb = ch02::FloatTensor::from_vector({n, n}, b);
  const Eigen::Map<const RowMajor> ea(a.data(), n, n), eb(b.data(), n, n);
  RowMajor ec(n, n);

  ch02::FloatTensor ours = ch02::matmul(ta, tb);
  ec.noalias() = ea * eb;
  // |error| <= (K+1) u sum|a||b|; with values in [-1, 1], sum|a||b| <= K.
  const double bound = (n + 1) * std::ldexp(1.0, -24) * n;
  double worst = 0;
  const std::vector<float> got = ours.to_vector();
  for (int64_t i = 0; i < n * n; ++i) worst = std::max(worst, double(std::fabs(got[i] - ec.data()[i])));
  if (ours.shape() != ch02::Shape{n, n} || !(worst <= bound)) {
    std::fprintf(stderr, "matmul disagrees with Eigen: largest difference %g (allowed %g)\n", worst, bound);
    return 1;
  }

  const double flops = 2.0 * n * n * n;
  const double t_ours = median_seconds(runs, [&] { ours = ch02::matmul(ta, tb); });
  const double t_eigen = median_seconds(runs, [&] { ec.noalias() = ea * eb; });
  const double ours_gf = flops / t_ours / 1e9, eigen_gf = flops / t_eigen / 1e9;

  // The naive loops for scale, on a smaller product so that they finish quickly.
  const int64_t m = std::min<int64_t>(n, 256);
  const auto sa = ta.slice(0, 0, m).slice(1, 0, m).contiguous();
  const auto sb = tb.slice(0, 0, m).slice(1, 0, m).contiguous();
  double naive_gf = 0;
  try {
    naive_gf = 2.0 * m * m * m / median_seconds(3, [&] { (void)ch02::matmul_naive(sa, sb); }) / 1e9;
  } catch (const std::exception&) {
    // ch02.7 not done: leave it out.
  }

  std::printf("%lld x %lld x %lld float32, %d thread(s), median of %d runs\n", (long long)n,
              (long long)n, (long long)n, threads, runs);
  if (naive_gf > 0) std::printf("  matmul_naive (%lld^3) %8.2f GFLOP/s\n", (long long)m, naive_gf);
  std::printf("  matmul (yours)      %8.2f GFLOP/s  %.4f s\n", ours_gf, t_ours);
  std::printf("  Eigen               %8.2f GFLOP/s  %.4f s\n", eigen_gf, t_eigen);
  std::printf("RESULT name=ch02_matmul ours=%.2f anchor=%.2f ratio=%.3f unit=GFLOP/s size=%lld threads=%d\n",
              ours_gf, eigen_gf, ours_gf / eigen_gf, (long long)n, threads);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // most likely an unfinished task of chapter 2
    std::fprintf(stderr, "matmul_bench: %s\n", e.what());
    return 1;
  }
}
