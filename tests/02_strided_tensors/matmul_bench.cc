// Your blocked matmul (ch02.8) against Eigen, on this machine, in the same run.
//
//   bazel run --config=opt //tests/02_strided_tensors:matmul_bench               # your code
//   bazel run --config=opt //tests/02_strided_tensors:matmul_bench_solution      # the solution
//   ... -- --size 512 --threads 1 --runs 9
//
// Both products are first checked against each other (a fast wrong answer is worth nothing),
// then timed in alternation, --runs times each, with the same number of OpenMP threads; the
// ratio is the median of the per-pair ratios (robust to other processes on the machine). Eigen is compiled here with the same flags as your code, so the ratio
// compares the algorithms, not the compilers. Then the small products of chapter 3's MLP, on
// your threads and on one: threads that do not pay for themselves show here. The RESULT lines
// are machine-readable:
//   RESULT name=ch02_matmul_small_64x784x128 ours=<ms on T threads> anchor=<ms on 1> ratio=<anchor/ours>
//   RESULT name=ch02_matmul ours=<GFLOP/s> anchor=<Eigen GFLOP/s> ratio=<ours/Eigen> ...
#include <omp.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double seconds(const std::function<void()>& work) {
  const auto t0 = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Milliseconds a call of matmul(a, b) takes on `threads` threads, against one thread:
// alternating, the median of `runs` pairs of `reps` calls each.
struct SmallProduct {
  double ms_threads = 0, ms_one = 0;
};

SmallProduct time_small(int64_t m, int64_t k, int64_t n, int threads, int runs) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(m * k), b(k * n);
  for (float& v : a) v = u(rng);
  for (float& v : b) v = u(rng);
  const auto ta = ch02::FloatTensor::from_vector({m, k}, a), tb = ch02::FloatTensor::from_vector({k, n}, b);
  constexpr int kReps = 20;
  const auto per_call_ms = [&](int t) {
    omp_set_num_threads(t);
    return 1e3 * seconds([&] {
             for (int r = 0; r < kReps; ++r) (void)ch02::matmul(ta, tb);
           }) / kReps;
  };
  std::vector<double> many, one;
  for (int r = 0; r < runs; ++r) {
    many.push_back(per_call_ms(threads));
    one.push_back(per_call_ms(1));
  }
  omp_set_num_threads(threads);
  return {median(many), median(one)};
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--size N] [--threads T] [--runs R]\n", argv0);
  return 2;
}

}  // namespace

int run(int argc, char** argv) {
  int64_t n = 1024;
  int threads = 2, runs = 9;
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

  // Alternate the two, so that a change in the machine's load (other processes) hits both
  // alike, and report the median of the per-pair ratios. The products above were the warm-up.
  const double flops = 2.0 * n * n * n;
  std::vector<double> t_ours, t_eigen, ratios;
  for (int r = 0; r < runs; ++r) {
    t_ours.push_back(seconds([&] { ours = ch02::matmul(ta, tb); }));
    t_eigen.push_back(seconds([&] { ec.noalias() = ea * eb; }));
    ratios.push_back(t_eigen.back() / t_ours.back());
  }
  const double ours_gf = flops / median(t_ours) / 1e9, eigen_gf = flops / median(t_eigen) / 1e9;
  const double ratio = median(ratios);

  // The naive loops for scale, on a smaller product so that they finish quickly.
  const int64_t m = std::min<int64_t>(n, 256);
  const auto sa = ta.slice(0, 0, m).slice(1, 0, m).contiguous();
  const auto sb = tb.slice(0, 0, m).slice(1, 0, m).contiguous();
  double naive_gf = 0;
  try {
    naive_gf = 2.0 * m * m * m / seconds([&] { (void)ch02::matmul_naive(sa, sb); }) / 1e9;
  } catch (const std::exception&) {
    // ch02.7 not done: leave it out.
  }

  std::printf("%lld x %lld x %lld float32, %d thread(s), medians of %d alternating runs\n", (long long)n,
              (long long)n, (long long)n, threads, runs);
  if (naive_gf > 0) std::printf("  matmul_naive (%lld^3) %8.2f GFLOP/s\n", (long long)m, naive_gf);
  std::printf("  matmul (yours)      %8.2f GFLOP/s  %.4f s\n", ours_gf, median(t_ours));
  std::printf("  Eigen               %8.2f GFLOP/s  %.4f s\n", eigen_gf, median(t_eigen));
  // Chapter 3's MLP: batch 64, 784 -> 128 -> 10. Threads pay only where ratio > 1.
  std::printf("small products (chapter 3's MLP, batch 64), %d thread(s) against 1:\n", threads);
  std::vector<std::string> results;
  for (const auto& [m, k, nn] : {std::array<int64_t, 3>{64, 784, 128}, std::array<int64_t, 3>{64, 128, 10}}) {
    const SmallProduct t = time_small(m, k, nn, threads, runs);
    const std::string name = std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(nn);
    std::printf("  %-12s %8.4f ms on %d thread(s), %8.4f ms on 1: %s\n", name.c_str(), t.ms_threads, threads, t.ms_one,
                t.ms_threads > 1.5 * t.ms_one ? "threads cost more than they give here" : "fine");
    char line[200];
    std::snprintf(line, sizeof line, "RESULT name=ch02_matmul_small_%s ours=%.4f anchor=%.4f ratio=%.3f unit=ms threads=%d",
                  name.c_str(), t.ms_threads, t.ms_one, t.ms_one / t.ms_threads, threads);
    results.push_back(line);
  }
  for (const std::string& r : results) std::printf("%s\n", r.c_str());
  std::printf("RESULT name=ch02_matmul ours=%.2f anchor=%.2f ratio=%.3f unit=GFLOP/s size=%lld threads=%d\n",
              ours_gf, eigen_gf, ratio, (long long)n, threads);
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
