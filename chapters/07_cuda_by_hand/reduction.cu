// The reduction ladder (reduction.h has the index): *sum = x[0] + ... + x[n-1].
//
// Every rung starts by zeroing *sum and ends with atomicAdd into it. What changes is how many
// atomics reach that one address: n of them (rung 1), one a block (rungs 2 to 4), one a block
// of a small grid (rung 5). Atomics to one address are serialized, so that count is the speed.

#include "chapters/course.h"
#include "cuda_check.cuh"
#include "reduction.h"
#include "warp.cuh"

namespace ch07 {

// Every launcher starts like this: check_launch(name, n, launch) (rungs 4 and 5 with 32 as the
// multiple), then zero *sum, because the kernels only add to it:
//   cuda_check(cudaMemset(sum, 0, sizeof(float)), "sum_atomic: zeroing the sum");
// and launch nothing when n == 0 (the sum of nothing is the 0 just written).

// ----------------------------------------------------------------------------
// rung 1: one atomic per element

__global__ void sum_atomic_kernel(int n, const float* x, float* sum) {
  // TODO(ch07.4): one thread per element; atomicAdd(sum, x[i]) for i < n.
}

void sum_atomic(int n, const float* x, float* sum, Launch launch) {
  // TODO(ch07.4): check, zero *sum, launch enough blocks to cover n, cuda_check the launch.
  throw course::NotImplemented("ch07.4: sum_atomic");
}

// ----------------------------------------------------------------------------
// rung 2: a shared accumulator per block

__global__ void sum_block_atomic_kernel(int n, const float* x, float* sum) {
  // TODO(ch07.5): a `__shared__ float block_total;` that thread 0 sets to 0 (shared memory
  // starts as garbage); every thread atomicAdds its element into block_total; then thread 0
  // adds block_total into *sum. Two __syncthreads(): where, and why? (README: "A tile's life
  // between two barriers".)
}

void sum_block_atomic(int n, const float* x, float* sum, Launch launch) {
  // TODO(ch07.5): as sum_atomic.
  throw course::NotImplemented("ch07.5: sum_block_atomic");
}

// ----------------------------------------------------------------------------
// rung 3: a shared-memory tree

__global__ void sum_tree_kernel(int n, const float* x, float* sum) {
  // TODO(ch07.6): `extern __shared__ float partial[];` holds blockDim.x floats (its size comes
  // from the launch). Thread t stores its element (0 past n) in partial[t]; barrier. Then
  // rounds: while more than one value is live, the first ones add in the value `half` places on,
  // and a barrier ends each round. blockDim.x need not be a power of two: with 96 threads the
  // live count goes 96, 48, 24, 12, 6, 3, 2, 1; round half up and no value is lost.
  // Finally thread 0 atomicAdds partial[0] into *sum.
}

void sum_tree(int n, const float* x, float* sum, Launch launch) {
  // TODO(ch07.6): as sum_atomic, with the dynamic shared memory size as the third <<< >>>
  // argument: launch.block floats, in bytes.
  throw course::NotImplemented("ch07.6: sum_tree");
}

// ----------------------------------------------------------------------------
// rung 4: warp shuffles

// Adds every thread's v into *sum with one atomic for the whole block. Every thread of the block
// must call it; blockDim.x is a multiple of 32.
__device__ void block_sum_into(float v, float* sum) {
  // TODO(ch07.7): each warp sums its 32 values with warp_sum (warp.cuh: write it first); lane 0
  // of each warp stores the warp's total in `__shared__ float warp_totals[32]` (at most 1024 / 32
  // warps); barrier; then warp 0 sums the blockDim.x / 32 totals with warp_sum again (lanes past
  // the last warp contribute 0: their slots were never written) and its lane 0 atomicAdds.
}

__global__ void sum_warp_kernel(int n, const float* x, float* sum) {
  // TODO(ch07.7): block_sum_into(this thread's element, or 0 past n, sum). No early return for
  // threads past n: block_sum_into has a barrier that every thread must reach.
}

void sum_warp(int n, const float* x, float* sum, Launch launch) {
  // TODO(ch07.7): as sum_atomic, with block sizes a multiple of 32 (check_launch's last argument).
  throw course::NotImplemented("ch07.7: sum_warp");
}

// ----------------------------------------------------------------------------
// rung 5: many elements per thread

__global__ void sum_coarsened_kernel(int n, const float* x, float* sum) {
  // TODO(ch07.8): each thread adds up its elements of a grid-stride loop in a register, then
  // block_sum_into.
}

void sum_coarsened(int n, const float* x, float* sum, Launch launch) {
  // TODO(ch07.8): as sum_warp, with grid_for(n, launch) blocks.
  throw course::NotImplemented("ch07.8: sum_coarsened");
}

}  // namespace ch07
