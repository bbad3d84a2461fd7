// The inputs of the one-dimensional ladders (saxpy, sum): a size and a launch configuration,
// and how a failure names them.
//
//   const Case c{1001, {96, 3}};
//   describe("saxpy_grid_stride", c)   // "saxpy_grid_stride(n 1001, block 96, max_blocks 3)"
//
// Header-only on purpose: it uses ch07::Launch, so it is compiled inside each test with whichever
// chapter 7 (yours, the solution, emulated or native) that test links.
#ifndef TESTS_07_CUDA_BY_HAND_LAUNCH_CASES_H_
#define TESTS_07_CUDA_BY_HAND_LAUNCH_CASES_H_

#include <string>

#include "ch07/launch.h"

namespace launch_cases {

struct Case {
  int n;
  ch07::Launch launch;
};

inline std::string describe(const char* rung, const Case& c) {
  return std::string(rung) + "(n " + std::to_string(c.n) + ", block " + std::to_string(c.launch.block) +
         (c.launch.max_blocks ? ", max_blocks " + std::to_string(c.launch.max_blocks) : "") + ")";
}

}  // namespace launch_cases

#endif  // TESTS_07_CUDA_BY_HAND_LAUNCH_CASES_H_
