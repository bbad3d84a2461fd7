// What every launcher of chapter 7 shares: the launch configuration that a test or the
// benchmark picks, and the argument checks that turn a bad call into a clear error instead of a
// kernel that reads out of bounds.
//
//   ch07::Launch launch;                 // 256 threads a block, as many blocks as the data needs
//   launch.block = 96;                   // any size the rung allows: not only powers of two
//   launch.max_blocks = 4;               // grid-stride rungs: at most 4 blocks, each loops
//   ch07::saxpy_grid_stride(n, 2.0f, x, y, launch);
//
//   ch07::check_launch("sum_warp", n, launch, 32);
//   // throws std::invalid_argument: "sum_warp: the block size must be a multiple of 32 in
//   // [32, 1024] (got 100)"
//
// Plain C++ (no CUDA types), so that the tests and the benchmark include it as well as the .cu
// files.
#ifndef CH07_LAUNCH_H_
#define CH07_LAUNCH_H_

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ch07 {

// How many threads a block, and for the grid-stride rungs how many blocks at most.
struct Launch {
  int block = 256;     // threads per block, 1..1024 (some rungs need a multiple of 32)
  int max_blocks = 0;  // grid-stride rungs: at most this many blocks; 0: as many as n needs
};

// The most threads a block may have on every GPU since 2010.
constexpr int kMaxBlock = 1024;
constexpr int kWarpSize = 32;

// One rung of a ladder, for the tests and the benchmark to loop over: its name and launcher.
template <class Launcher>
struct Rung {
  const char* name;
  Launcher run;
};

// Throws std::invalid_argument naming `kernel` when n is negative, the block size is outside
// [1, 1024] or not a multiple of `multiple`, or max_blocks is negative.
inline void check_launch(const char* kernel, int64_t n, const Launch& launch, int multiple = 1) {
  const std::string name(kernel);
  if (n < 0) throw std::invalid_argument(name + ": the size must be >= 0 (got " + std::to_string(n) + ")");
  if (launch.block < multiple || launch.block > kMaxBlock || launch.block % multiple != 0) {
    throw std::invalid_argument(name + ": the block size must be " +
                                (multiple == 1 ? std::string("in [1, 1024]")
                                               : "a multiple of " + std::to_string(multiple) + " in [" +
                                                     std::to_string(multiple) + ", 1024]") +
                                " (got " + std::to_string(launch.block) + ")");
  }
  if (launch.max_blocks < 0) {
    throw std::invalid_argument(name + ": max_blocks must be >= 0 (got " + std::to_string(launch.max_blocks) + ")");
  }
}

// ch07.2 (defined in elementwise.cu): the number of blocks of launch.block threads for `work`
// items: enough to cover them all, but at most launch.max_blocks when that is set (> 0).
// grid_for(1000, {256, 0}) == 4; grid_for(1000, {256, 2}) == 2; grid_for(0, ...) == 0.
int grid_for(int64_t work, const Launch& launch);

// Throws std::invalid_argument naming `kernel` when a dimension is negative.
inline void check_dims(const char* kernel, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) {
    throw std::invalid_argument(std::string(kernel) + ": sizes must be >= 0 (got " + std::to_string(rows) +
                                " x " + std::to_string(cols) + ")");
  }
}

}  // namespace ch07

#endif  // CH07_LAUNCH_H_
