// The reduction ladder: *sum = x[0] + x[1] + ... + x[n-1] over n floats, five ways, each with
// fewer atomic operations than the one before.
//
//   rung 1  sum_atomic        every thread atomicAdds its element to *sum      (n atomics)
//   rung 2  sum_block_atomic  atomics into one __shared__ float per block      (1 global a block)
//   rung 3  sum_tree          a shared-memory tree, halving the live threads   (any block size)
//   rung 4  sum_warp          warp shuffles, then one shared slot per warp     (block % 32 == 0)
//   rung 5  sum_coarsened     each thread first sums many elements (grid-stride), then rung 4
//
//   float *x, *sum;                            // device pointers: n floats, and one float
//   ch07::sum_tree(n, x, sum);                 // *sum is overwritten (zeroed first)
//   ch07::Launch launch;
//   launch.block = 96;                         // rung 3: any size; rungs 4 and 5: multiples of 32
//   launch.max_blocks = 8;                     // rung 5: at most 8 blocks, each loops
//   ch07::sum_coarsened(n, x, sum, launch);
//
// Every rung finishes with atomicAdd on *sum, so the order of the additions differs from run to
// run on a GPU: float sums agree with the exact sum only up to rounding (the tests use small
// integers, whose sums every order gets exactly right). A launcher returns once the kernels are
// queued; it throws std::invalid_argument for bad arguments and std::runtime_error when CUDA
// refuses a call.
#ifndef CH07_REDUCTION_H_
#define CH07_REDUCTION_H_

#include "launch.h"

namespace ch07 {

// ch07.4: one global atomicAdd per element.
void sum_atomic(int n, const float* x, float* sum, Launch launch = {});

// ch07.5: each block adds into a __shared__ accumulator, then one atomicAdd per block.
void sum_block_atomic(int n, const float* x, float* sum, Launch launch = {});

// ch07.6: a tree in dynamically sized shared memory; any block size in [1, 1024].
void sum_tree(int n, const float* x, float* sum, Launch launch = {});

// ch07.7: warp_sum (warp.cuh) and block_sum_into; launch.block a multiple of 32.
void sum_warp(int n, const float* x, float* sum, Launch launch = {});

// ch07.8: a grid-stride loop in registers first; at most launch.max_blocks blocks (0: as many
// as n needs); launch.block a multiple of 32.
void sum_coarsened(int n, const float* x, float* sum, Launch launch = {});

using SumLauncher = void (*)(int n, const float* x, float* sum, Launch launch);
inline constexpr Rung<SumLauncher> kSumLadder[] = {
    {"sum_atomic", sum_atomic}, {"sum_block_atomic", sum_block_atomic}, {"sum_tree", sum_tree},
    {"sum_warp", sum_warp},     {"sum_coarsened", sum_coarsened},
};

}  // namespace ch07

#endif  // CH07_REDUCTION_H_
