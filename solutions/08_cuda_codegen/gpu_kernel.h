// A kernel planned for a GPU: which of chapter 6's loops become the block index, which the
// thread index, and which reduce loop the threads of a block share.
//
//   y = x * 2, x (1000, 100): one output loop of 100000 (chapter 6 merged the two)
//   GpuKernel g = plan_gpu(kernel, GpuOptions{});
//   g.loops.describe()  // "gidx0<98 gidx1<256 up0<4(upcast) if (((gidx0*256)+gidx1)<25000)"
//   g.blocks            // {"gidx0"}: 98 blocks (the last one only partly used: the guard)
//   g.threads           // {"gidx1"}: 256 threads a block, each computing 4 outputs side by side
//
//   blockIdx.x  -> gidx0 ┐
//   threadIdx.x -> gidx1 ├─> output (gidx0*1024) + (gidx1*4) + up0, for up0 in 0..3
//                  up0   ┘
//
// A GPU runs one thread per iteration of every output loop: the loops are gone, each thread
// computes the body once at its own (block, thread) index. Plan a kernel by splitting its
// output loops (ch06::LoopKernel::split, whose guards cover the tail) until the innermost
// digits fit in a block: up to `threads` threads, the rest are blocks.
//
// A long reduction into few outputs (the sum of a whole tensor: one output) would leave most of
// the GPU idle, one thread adding up millions of numbers. There a reduce loop is split too and
// its inner part spread over `group` threads of one block, which later add up their partial
// sums through shared memory: a group reduce.
//
//   sum of x (100000,) into (1,): one output, its reduce loop split in 391 x 256
//   g.loops.describe()  // "ridx0<391 ridx1<256 if (((ridx0*256)+ridx1)<100000)"
//   g.group             // "ridx1", the only thread digit: each of 256 threads adds every 256th
//                       // number (391 of them), then the 256 partials are combined
#ifndef CH08_GPU_KERNEL_H_
#define CH08_GPU_KERNEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ch05/kernel.h"
#include "ch06/loop_kernel.h"

namespace ch08 {

struct GpuOptions {
  int threads = 256;           // threads in a block, at most (a multiple of the 32 of a warp)
  int upcast = 4;              // outputs a thread computes side by side along the stride-1 output
                               // loop (4 floats: one float4)
  int tile = 4;                // a big reduce kernel's second upcast (chapter 6's register_tile)...
  int64_t tile_outputs = 1 << 20;  // ...where it has at least this many outputs
  int group = 256;             // threads sharing one reduction in a group reduce
  int64_t group_outputs = 1 << 15;  // a group reduce for kernels with at most this many outputs
                                    // (too few threads to fill a GPU of 100+ multiprocessors)...
  int64_t group_reduce = 256;       // ...whose reduction is at least this long
  bool float4 = true;          // four neighbouring float loads read as one float4 (render_cuda)

  static GpuOptions none();    // one output per thread, no tile, no group reduce, no float4
  std::string str() const;     // "threads 256 upcast 4 group 256 float4", for names and messages
};

struct GpuKernel {
  explicit GpuKernel(ch06::LoopKernel k) : loops(std::move(k)) {}

  ch06::LoopKernel loops;             // after the splits; loops.parallel stays 0
  std::vector<std::string> blocks;    // the loops that are digits of blockIdx.x, slowest first
  std::vector<std::string> threads;   // the loops that are digits of threadIdx.x, slowest first;
                                      // the group loop, if any, is the last (fastest) digit
  std::string group;                  // the reduce loop shared by a block's threads, or ""
  bool float4 = false;                // GpuOptions::float4, for the renderer

  int64_t block_count() const;   // product of the blocks' extents (1 without any)
  int64_t thread_count() const;  // product of the threads' extents (1 without any)
};

// ch08.1: the plan, in this order:
//   1. ch06::reorder_loops (the stride-1 output loop innermost: neighbouring threads then touch
//      neighbouring memory, and the GPU serves a warp's 32 loads as one)
//   2. a group reduce where the kernel has at most group_outputs outputs and its reduction at
//      least group_reduce elements: a reduce loop split by min(group, its extent), its inner
//      part the group. The loop: the innermost reduce loop if it has `group` iterations, else
//      the longest reduce loop (the innermost first among equals)
//   3. otherwise ch06::upcast_output(k, upcast), and for a reduce kernel with at least
//      tile_outputs outputs (counting the upcast ones) ch06::register_tile(k, upcast * tile) too
//      (its argument is a budget of accumulators, the upcast ones included)
//   4. the thread digits: from the innermost output loop outwards, whole loops while they fit
//      in what is left of `threads` (divided by the group's size), then one loop split so its
//      inner part fills the rest (a tail where it does not divide: the guard)
//   5. every other output loop is a block digit
// Throws std::invalid_argument naming the kernel when the grid would need more than 2^31-1
// blocks, or for options out of range (threads outside 1..1024, upcast or group below 1).
GpuKernel plan_gpu(const ch05::Kernel& kernel, const GpuOptions& options);

}  // namespace ch08

#endif  // CH08_GPU_KERNEL_H_
