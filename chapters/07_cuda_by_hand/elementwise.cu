// The elementwise ladder (elementwise.h has the index): y <- alpha * x + y.
//
// Each rung is memory-bound: 2 flops for 12 bytes moved, so the kernel's speed is the speed at
// which the GPU streams x and y through, and every idea below is about memory instructions.
#include <algorithm>
#include <cstdint>

#include "chapters/course.h"
#include "cuda_check.cuh"
#include "elementwise.h"

namespace ch07 {

// ----------------------------------------------------------------------------
// rung 1: one thread per element

__global__ void saxpy_naive_kernel(int n, float alpha, const float* x, float* y) {
  // TODO(ch07.1): this thread's element is i = blockIdx.x * blockDim.x + threadIdx.x; update
  // y[i] if i < n. The grid has whole blocks, so the last one sticks out past n.
}

void saxpy_naive(int n, float alpha, const float* x, float* y, Launch launch) {
  // TODO(ch07.1): check_launch("saxpy_naive", n, launch) first (bad arguments throw). n == 0
  // launches nothing: a grid of 0 blocks is a CUDA error. Otherwise enough blocks of
  // launch.block threads to cover all n elements (round up!), then
  //   saxpy_naive_kernel<<<blocks, launch.block>>>(n, alpha, x, y);
  //   cuda_check(cudaGetLastError(), "saxpy_naive: launch");
  throw course::NotImplemented("ch07.1: saxpy_naive");
}

// ----------------------------------------------------------------------------
// rung 2: a grid-stride loop

__global__ void saxpy_grid_stride_kernel(int n, float alpha, const float* x, float* y) {
  // TODO(ch07.2): start at this thread's index as in rung 1, then step by the width of the
  // whole grid (blockDim.x * gridDim.x) while i < n.
}

int grid_for(int64_t work, const Launch& launch) {
  // TODO(ch07.2): the blocks that cover `work` items (rounded up), capped at launch.max_blocks
  // when that is > 0.
  throw course::NotImplemented("ch07.2: grid_for");
}

void saxpy_grid_stride(int n, float alpha, const float* x, float* y, Launch launch) {
  // TODO(ch07.2): as saxpy_naive, with grid_for(n, launch) blocks.
  throw course::NotImplemented("ch07.2: saxpy_grid_stride");
}

// ----------------------------------------------------------------------------
// rung 3: float4

__global__ void saxpy_float4_kernel(int n, float alpha, const float* x, float* y) {
  // TODO(ch07.3): view x and y as float4 arrays (reinterpret_cast<const float4*>(x)) of
  // n / 4 entries and run the grid-stride loop over those: load a float4 of x and one of y,
  // update .x .y .z .w, store the float4. Then the tail: the last n % 4 floats (0 to 3) do not
  // fill a float4; update them one by one, again with a grid-stride loop starting at 4 * (n / 4).
}

void saxpy_float4(int n, float alpha, const float* x, float* y, Launch launch) {
  // TODO(ch07.3): check_launch; a float4 access must sit at an address that is a multiple of
  // 16: throw std::invalid_argument if x or y does not (reinterpret_cast<uintptr_t>(x) % 16).
  // The grid: grid_for the n / 4 float4s, but at least one block when n < 4 (only a tail).
  throw course::NotImplemented("ch07.3: saxpy_float4");
}

}  // namespace ch07
