// What the tests of tasks 7-11 share: a kernel optimized with some transformations, compiled,
// and checked for meaning (tinyref's result, in guarded memory) and for form (its loops, uops
// and source).
//
//   ch06::OptimizeOptions o = only_upcast();
//   Optimized c = optimized(twin, o);        // c.loops, c.program, c.source, c.function
//   EXPECT_TRUE(means_the_same(twin, c));
//
// Header-only: compiled inside each test with whichever chapter 6 it links.
#ifndef TESTS_06_CPU_CODEGEN_OPTIMIZE_TESTING_H_
#define TESTS_06_CPU_CODEGEN_OPTIMIZE_TESTING_H_

#include <omp.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "ch06/cpu_runner.h"
#include "ch06/linearize.h"
#include "ch06/optimize.h"
#include "ch06/render_cpp.h"
#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/twin_kernel.h"

namespace optimize_testing {

using ch06::OptimizeOptions;

// Only the named transformations (any of "reorder upcast registers tile parallel").
inline OptimizeOptions only(const std::string& names) {
  OptimizeOptions o = OptimizeOptions::none();
  o.reorder = names.find("reorder") != std::string::npos;
  o.upcast = names.find("upcast") != std::string::npos;
  o.registers = names.find("registers") != std::string::npos;
  o.tile = names.find("tile") != std::string::npos;
  o.parallel = names.find("parallel") != std::string::npos;
  o.threads = 2;
  return o;
}

struct Optimized {
  ch06::LoopKernel loops;
  ch06::Program program;
  std::string source;
  ch06::KernelFunction function = nullptr;
};

// The kernel's LoopKernel after optimize(), its uops and source, compiled by a runner's
// compiler (so the disk cache is shared with every other test).
inline Optimized optimized(const twin::Twin& t, const OptimizeOptions& o) {
  static ch06::Compiler compiler;
  ch06::LoopKernel k(t.kernel);
  ch06::optimize(k, o);
  ch06::Program p = ch06::linearize(k);
  Optimized c{k, p, ch06::render_cpp(p), nullptr};
  c.function = compiler.compile(p.name, c.source);
  return c;
}

// tinyref's result, in guarded memory (one thread).
inline ::testing::AssertionResult means_the_same(const twin::Twin& t, const Optimized& c) {
  std::vector<double> got;
  ::testing::AssertionResult ran = twin::run_guarded(c.function, t, &got);
  if (!ran) return ran << "loops: " << c.loops.describe() << "\n" << c.source;
  ::testing::AssertionResult r = twin::agrees(t, twin::expected(t), got, "optimized " + c.program.name);
  if (!r) r << "loops: " << c.loops.describe() << "\n" << c.source;
  return r;
}

// The same through CpuRunner::run on chapter 4 Buffers, with `threads` OpenMP threads.
inline ::testing::AssertionResult runs_on_threads(const twin::Twin& t, const OptimizeOptions& o, int threads) {
  ch06::CpuRunner runner(o);
  std::vector<ch04::Buffer*> bufs;
  for (const auto& b : t.memory) bufs.push_back(b.get());
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  runner.run(t.kernel, bufs);
  omp_set_num_threads(before);
  std::vector<double> got;
  for (int64_t i = 0; i < t.outputs; ++i) got.push_back(t.memory[0]->get(i));
  ::testing::AssertionResult r = twin::agrees(t, twin::expected(t), got, "on " + std::to_string(threads) + " threads");
  if (!r) r << runner.compile(t.kernel).source;
  return r;
}

inline int count(const ch06::Program& p, ch06::UOpKind kind) {
  return static_cast<int>(std::count_if(p.uops.begin(), p.uops.end(), [&](const ch06::UOp& u) { return u.kind == kind; }));
}

// Random kernels optimized with `o`, each checked in guarded memory.
inline void random_kernels_mean_the_same(const OptimizeOptions& o, bool reduce_only, int trials,
                                         int64_t max_elements = 4096) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < trials; ++trial) {
      twin::Options opts;
      opts.reduce = reduce_only || trial % 2 == 1;
      opts.max_elements = max_elements;
      const twin::Twin t = twin::random_kernel(rng, opts);
      ASSERT_TRUE(means_the_same(t, optimized(t, o))) << "with " << o.str();
    }
  }
}

}  // namespace optimize_testing

#endif  // TESTS_06_CPU_CODEGEN_OPTIMIZE_TESTING_H_
