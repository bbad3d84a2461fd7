// The elementwise ladder (elementwise.h has the index): y <- alpha * x + y.
//
// Each rung is memory-bound: 2 flops for 12 bytes moved, so the kernel's speed is the speed at
// which the GPU streams x and y through, and every idea below is about memory instructions.
#include <algorithm>
#include <cstdint>

#include "cuda_check.cuh"
#include "elementwise.h"

namespace ch07 {

// ----------------------------------------------------------------------------
// rung 1: one thread per element

__global__ void saxpy_naive_kernel(int n, float alpha, const float* x, float* y) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = alpha * x[i] + y[i];  // the last block sticks out past n: its extra threads idle
}

void saxpy_naive(int n, float alpha, const float* x, float* y, Launch launch) {
  check_launch("saxpy_naive", n, launch);
  if (n == 0) return;  // a grid of 0 blocks is an error, not a no-op
  const int blocks = (n + launch.block - 1) / launch.block;  // round up: cover the tail
  saxpy_naive_kernel<<<blocks, launch.block>>>(n, alpha, x, y);
  cuda_check(cudaGetLastError(), "saxpy_naive: launch");
}

// ----------------------------------------------------------------------------
// rung 2: a grid-stride loop

// The grid is a window of blockDim.x * gridDim.x threads sliding over the array. The launcher
// may pick any grid (a few blocks per SM is enough to fill a GPU), and the same kernel works for
// n = 10 and n = 10^9.
__global__ void saxpy_grid_stride_kernel(int n, float alpha, const float* x, float* y) {
  const int stride = blockDim.x * gridDim.x;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) y[i] = alpha * x[i] + y[i];
}

int grid_for(int64_t work, const Launch& launch) {
  const int64_t cover = (work + launch.block - 1) / launch.block;
  return static_cast<int>(launch.max_blocks > 0 ? std::min<int64_t>(cover, launch.max_blocks) : cover);
}

void saxpy_grid_stride(int n, float alpha, const float* x, float* y, Launch launch) {
  check_launch("saxpy_grid_stride", n, launch);
  if (n == 0) return;
  saxpy_grid_stride_kernel<<<grid_for(n, launch), launch.block>>>(n, alpha, x, y);
  cuda_check(cudaGetLastError(), "saxpy_grid_stride: launch");
}

// ----------------------------------------------------------------------------
// rung 3: float4

// A float4 load moves 16 bytes with one instruction: a quarter of the load and store
// instructions of rung 2 for the same bytes. The array viewed as float4s has n / 4 whole
// entries; the last n % 4 floats (0 to 3 of them) do not fill a float4 and are done one by one.
__global__ void saxpy_float4_kernel(int n, float alpha, const float* x, float* y) {
  const int stride = blockDim.x * gridDim.x;
  const int first = blockIdx.x * blockDim.x + threadIdx.x;
  const int quads = n / 4;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* y4 = reinterpret_cast<float4*>(y);
  for (int q = first; q < quads; q += stride) {
    const float4 a = x4[q];
    float4 b = y4[q];
    b.x = alpha * a.x + b.x;
    b.y = alpha * a.y + b.y;
    b.z = alpha * a.z + b.z;
    b.w = alpha * a.w + b.w;
    y4[q] = b;
  }
  for (int i = 4 * quads + first; i < n; i += stride) y[i] = alpha * x[i] + y[i];  // the tail
}

void saxpy_float4(int n, float alpha, const float* x, float* y, Launch launch) {
  check_launch("saxpy_float4", n, launch);
  // A float4 access must sit at an address that is a multiple of 16.
  if (reinterpret_cast<uintptr_t>(x) % 16 != 0 || reinterpret_cast<uintptr_t>(y) % 16 != 0) {
    throw std::invalid_argument("saxpy_float4: x and y must be 16-byte aligned");
  }
  if (n == 0) return;
  const int quads = n / 4;
  // Enough threads for the float4s, and at least one block for a tail alone (n < 4).
  saxpy_float4_kernel<<<grid_for(std::max(quads, 1), launch), launch.block>>>(n, alpha, x, y);
  cuda_check(cudaGetLastError(), "saxpy_float4: launch");
}

}  // namespace ch07
