// What the tests of a kernel runner share (chapter 6's CpuRunner, chapter 8's CudaRunner: each
// has run(kernel, buffers)): a twin kernel's buffers as run() takes them, and the check that
// buffers which do not fit the kernel are refused with an error naming it.
//
//   runner.run(t.kernel, runner_checks::buffers_of(t));
//   TEST(Task6Runner, RefusesBuffersThatDoNotFit) {
//     ch06::CpuRunner runner(ch06::OptimizeOptions::none());
//     runner_checks::expect_refuses_buffers_that_do_not_fit(runner);
//   }
//
// Header-only, as twin_kernel.h: compiled with whichever chapters the test links.
#ifndef TESTS_06_CPU_CODEGEN_RUNNER_CHECKS_H_
#define TESTS_06_CPU_CODEGEN_RUNNER_CHECKS_H_

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ch04/tensor.h"
#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/twin_kernel.h"

namespace runner_checks {

inline std::vector<ch04::Buffer*> buffers_of(const twin::Twin& t) {
  std::vector<ch04::Buffer*> out;
  for (const auto& b : t.memory) out.push_back(b.get());
  return out;
}

// Too few buffers, a buffer of the wrong dtype, an output too small: each a std::invalid_argument
// whose message names the kernel (r_4_3_2), before anything runs.
template <typename Runner>
void expect_refuses_buffers_that_do_not_fit(Runner& runner) {
  std::mt19937_64 rng(2);
  const twin::Twin t = twin::matmul(rng, 4, 3, 2);
  const std::vector<ch04::Buffer*> bufs = buffers_of(t);
  auto expect_refusal = [&](std::vector<ch04::Buffer*> b, const std::string& what) {
    try {
      runner.run(t.kernel, b);
      ADD_FAILURE() << "run() accepted " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("r_4_3_2"), std::string::npos) << "name the kernel: " << e.what();
    }
  };
  expect_refusal({bufs[0], bufs[1]}, "2 buffers for a kernel of 3");
  ch04::Buffer wrong_dtype(ch04::DType::kFloat64, 6);
  expect_refusal({bufs[0], &wrong_dtype, bufs[2]}, "a float64 buffer for a float32 kernel");
  ch04::Buffer small(ch04::DType::kFloat32, 5);
  expect_refusal({&small, bufs[1], bufs[2]}, "an output buffer of 5 elements for 12 outputs");
}

}  // namespace runner_checks

#endif  // TESTS_06_CPU_CODEGEN_RUNNER_CHECKS_H_
