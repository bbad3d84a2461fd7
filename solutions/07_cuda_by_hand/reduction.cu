// The reduction ladder (reduction.h has the index): *sum = x[0] + ... + x[n-1].
//
// Every rung starts by zeroing *sum and ends with atomicAdd into it. What changes is how many
// atomics reach that one address: n of them (rung 1), one a block (rungs 2 to 4), one a block
// of a small grid (rung 5). Atomics to one address are serialized, so that count is the speed.

#include "cuda_check.cuh"
#include "reduction.h"
#include "warp.cuh"

namespace ch07 {

namespace {

// Every launcher's first steps: check the arguments, then set *sum to 0 (the kernels only add).
void start_sum(const char* kernel, int n, float* sum, const Launch& launch, int multiple) {
  check_launch(kernel, n, launch, multiple);
  cuda_check(cudaMemset(sum, 0, sizeof(float)), kernel);
}

int blocks_to_cover(int n, const Launch& launch) { return (n + launch.block - 1) / launch.block; }

}  // namespace

// ----------------------------------------------------------------------------
// rung 1: one atomic per element

__global__ void sum_atomic_kernel(int n, const float* x, float* sum) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(sum, x[i]);
}

void sum_atomic(int n, const float* x, float* sum, Launch launch) {
  start_sum("sum_atomic", n, sum, launch, 1);
  if (n == 0) return;
  sum_atomic_kernel<<<blocks_to_cover(n, launch), launch.block>>>(n, x, sum);
  cuda_check(cudaGetLastError(), "sum_atomic: launch");
}

// ----------------------------------------------------------------------------
// rung 2: a shared accumulator per block

// Shared memory belongs to the block and starts out as garbage: thread 0 zeroes the
// accumulator, and a barrier makes every thread wait for that before adding. A second barrier
// waits for every add before thread 0 reads the total.
__global__ void sum_block_atomic_kernel(int n, const float* x, float* sum) {
  __shared__ float block_total;
  if (threadIdx.x == 0) block_total = 0.0f;
  __syncthreads();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(&block_total, x[i]);
  __syncthreads();
  if (threadIdx.x == 0) atomicAdd(sum, block_total);
}

void sum_block_atomic(int n, const float* x, float* sum, Launch launch) {
  start_sum("sum_block_atomic", n, sum, launch, 1);
  if (n == 0) return;
  sum_block_atomic_kernel<<<blocks_to_cover(n, launch), launch.block>>>(n, x, sum);
  cuda_check(cudaGetLastError(), "sum_block_atomic: launch");
}

// ----------------------------------------------------------------------------
// rung 3: a shared-memory tree

// Each thread puts its element in partial[], then the live part of partial[] halves each round:
// the first `active - half` threads add in the value `half` places on, where half rounds up,
// so an odd count (a block of 96 reaches 3) loses nothing. log2(blockDim) rounds, each ending at
// a barrier, because the next round reads what this one wrote.
__global__ void sum_tree_kernel(int n, const float* x, float* sum) {
  extern __shared__ float partial[];  // blockDim.x floats: the launch's third <<< >>> argument
  const int t = threadIdx.x;
  const int i = blockIdx.x * blockDim.x + t;
  partial[t] = i < n ? x[i] : 0.0f;
  __syncthreads();
  for (int active = blockDim.x; active > 1;) {
    const int half = (active + 1) / 2;
    if (t < active - half) partial[t] += partial[t + half];
    __syncthreads();
    active = half;
  }
  if (t == 0) atomicAdd(sum, partial[0]);
}

void sum_tree(int n, const float* x, float* sum, Launch launch) {
  start_sum("sum_tree", n, sum, launch, 1);
  if (n == 0) return;
  const size_t shared_bytes = launch.block * sizeof(float);
  sum_tree_kernel<<<blocks_to_cover(n, launch), launch.block, shared_bytes>>>(n, x, sum);
  cuda_check(cudaGetLastError(), "sum_tree: launch");
}

// ----------------------------------------------------------------------------
// rung 4: warp shuffles

// Adds every thread's v into *sum with one atomic for the whole block: each warp sums its 32
// values with shuffles (warp.cuh), lane 0 of each warp parks the result in shared memory, and
// after a barrier the first warp sums those (at most 32) partial results. Every thread of the
// block must call it (it has a barrier); blockDim.x must be a multiple of 32.
__device__ void block_sum_into(float v, float* sum) {
  __shared__ float warp_totals[kMaxBlock / kWarpSize];
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  v = warp_sum(v);
  if (lane == 0) warp_totals[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x / kWarpSize;
    v = warp_sum(lane < warps ? warp_totals[lane] : 0.0f);  // slots past `warps` were never written
    if (lane == 0) atomicAdd(sum, v);
  }
}

__global__ void sum_warp_kernel(int n, const float* x, float* sum) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  block_sum_into(i < n ? x[i] : 0.0f, sum);  // threads past n take part with 0: no early return
}

void sum_warp(int n, const float* x, float* sum, Launch launch) {
  start_sum("sum_warp", n, sum, launch, kWarpSize);
  if (n == 0) return;
  sum_warp_kernel<<<blocks_to_cover(n, launch), launch.block>>>(n, x, sum);
  cuda_check(cudaGetLastError(), "sum_warp: launch");
}

// ----------------------------------------------------------------------------
// rung 5: many elements per thread

// Rung 4 spends a shuffle tree, a barrier and an atomic on every blockDim.x elements. Here each
// thread first adds up every stride-th element in a register (the grid-stride loop of rung 2),
// so a grid of a few blocks per SM pays for that once per thousands of elements.
__global__ void sum_coarsened_kernel(int n, const float* x, float* sum) {
  const int stride = blockDim.x * gridDim.x;
  float v = 0.0f;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) v += x[i];
  block_sum_into(v, sum);
}

void sum_coarsened(int n, const float* x, float* sum, Launch launch) {
  start_sum("sum_coarsened", n, sum, launch, kWarpSize);
  if (n == 0) return;
  sum_coarsened_kernel<<<grid_for(n, launch), launch.block>>>(n, x, sum);
  cuda_check(cudaGetLastError(), "sum_coarsened: launch");
}

}  // namespace ch07
