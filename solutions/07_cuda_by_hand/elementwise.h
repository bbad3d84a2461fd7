// The elementwise ladder: SAXPY, y <- alpha * x + y over n floats, in place, three ways.
//
//   rung 1  saxpy_naive        one thread per element; the grid covers n, tail included
//   rung 2  saxpy_grid_stride  each thread loops by the grid's width: any grid covers any n
//   rung 3  saxpy_float4       float4 loads and stores (16 bytes each) and a scalar tail
//
//   float *x, *y;                              // device pointers, n floats each (cudaMalloc)
//   ch07::saxpy_naive(n, 2.0f, x, y);          // 256 threads a block, ceil(n / 256) blocks
//   ch07::Launch launch;
//   launch.block = 96;
//   launch.max_blocks = 3;                     // 288 threads walk the whole array
//   ch07::saxpy_grid_stride(n, 2.0f, x, y, launch);
//   for (const auto& rung : ch07::kSaxpyLadder) rung.run(n, 2.0f, x, y, launch);  // every rung
//
// In place on purpose: an element updated twice, or never, changes the answer, so a grid that
// misses the tail or a loop that visits an element twice shows up in the numbers. Each rung
// moves 12 bytes an element (x read, y read and written): its yardstick is the device's copy
// bandwidth. A launcher returns once the kernel is queued; it throws std::invalid_argument for
// bad arguments and std::runtime_error when CUDA refuses the launch.
#ifndef CH07_ELEMENTWISE_H_
#define CH07_ELEMENTWISE_H_

#include "launch.h"

namespace ch07 {

// ch07.1: one thread per element. Ignores launch.max_blocks: the grid must cover n.
void saxpy_naive(int n, float alpha, const float* x, float* y, Launch launch = {});

// ch07.2: a grid-stride loop; at most launch.max_blocks blocks (0: enough to cover n).
void saxpy_grid_stride(int n, float alpha, const float* x, float* y, Launch launch = {});

// ch07.3: float4 loads and stores, then the last n % 4 elements one by one. x and y must be
// 16-byte aligned (cudaMalloc's pointers are); throws std::invalid_argument if not.
void saxpy_float4(int n, float alpha, const float* x, float* y, Launch launch = {});

using SaxpyLauncher = void (*)(int n, float alpha, const float* x, float* y, Launch launch);
inline constexpr Rung<SaxpyLauncher> kSaxpyLadder[] = {
    {"saxpy_naive", saxpy_naive},
    {"saxpy_grid_stride", saxpy_grid_stride},
    {"saxpy_float4", saxpy_float4},
};

}  // namespace ch07

#endif  // CH07_ELEMENTWISE_H_
