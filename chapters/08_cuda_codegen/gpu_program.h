// GpuKernel -> GpuProgram: chapter 6's uop list for a GPU. The loops that are block or thread
// digits are no loops any more: each is a SPECIAL uop at the top, the variable's value for this
// thread, and the body runs once per thread.
//
//   y = x * 2 over 100000 floats, planned as in gpu_kernel.h:
//     0 DEFINE_GLOBAL float32 buf0
//     1 DEFINE_GLOBAL float32 buf1
//     2 SPECIAL gidx0 < 98          blockIdx.x
//     3 SPECIAL gidx1 < 256         threadIdx.x
//     4 LOAD float32 buf1[((gidx0*1024)+(gidx1*4))] if (((gidx0*1024)+(gidx1*4))<100000)
//     ...                           (no RANGE, no END_RANGE: chapter 6 had two loops here)
//
// How a digit is read from the hardware index: blockIdx.x counts blocks 0..blocks-1, and the
// block digits are its digits in mixed radix, the last the fastest:
//
//   blocks {gidx0 < 8, gidx2 < 4}:   blockIdx.x = gidx0 * 4 + gidx2
//                                    gidx0 = (blockIdx.x / 4) % 8,  gidx2 = (blockIdx.x / 1) % 4
//
// and the thread digits likewise of threadIdx.x. In a group reduce, the group loop is the
// fastest thread digit, so a group's threads are neighbours: threadIdx.x - group_var is the
// group's first thread.
//
// A group reduce also needs, after each thread's accumulators are complete (combine_after), the
// partials of the group added up through shared memory (render_cuda), and only the group's
// first thread storing the result: lower_gpu adds (group_var < 1) to every STORE's guard.
#ifndef CH08_GPU_PROGRAM_H_
#define CH08_GPU_PROGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ch06/uops.h"
#include "ch08/gpu_kernel.h"
#include "tools/gpu/gpu.h"

namespace ch08 {

// One digit of blockIdx.x or threadIdx.x: var = (index / stride) % extent.
struct GpuIndex {
  std::string var;
  int64_t extent = 1;
  bool block = true;    // blockIdx.x; false: threadIdx.x
  int64_t stride = 1;   // the product of the extents of the faster digits
};

struct GpuProgram {
  ch06::Program program;          // chapter 6's uops, one SPECIAL per index
  std::vector<GpuIndex> indices;  // the blocks' digits, then the threads', slowest first
  gpu::LaunchDims dims;           // {product of the block extents, product of the thread extents}
  std::string group;              // the group loop's variable, or "" (no group reduce)
  int64_t group_size = 1;         // its extent: threads per group
  int combine_after = -1;         // group reduce: the uop after which every accumulator of this
                                  // thread is complete (the last ACCUMULATE, or the END_RANGE
                                  // closing the reduce loops around it)
  bool float4 = false;            // GpuKernel::float4
};

// ch08.2: linearize (chapter 6's), then every RANGE of a block or thread digit (and its
// END_RANGE) taken out, one SPECIAL per digit put right after the DEFINE_GLOBALs (operands
// renumbered), the group's STOREs guarded, combine_after found. Throws std::invalid_argument
// naming the kernel when a digit has no RANGE to replace (a plan that does not match its loops).
GpuProgram lower_gpu(const GpuKernel& kernel);

// The program as text, for messages: the launch, each digit, then chapter 6's uop list.
//   <<<98 blocks, 256 threads>>>  gidx0 = blockIdx.x / 1 % 98, gidx1 = threadIdx.x / 1 % 256
inline std::string to_string(const GpuProgram& g) {
  std::string s = "<<<" + std::to_string(g.dims.blocks) + " blocks, " + std::to_string(g.dims.threads) + " threads>>> ";
  for (const GpuIndex& d : g.indices) {
    s += " " + d.var + " = " + (d.block ? "blockIdx.x" : "threadIdx.x") + " / " + std::to_string(d.stride) + " % " +
         std::to_string(d.extent);
  }
  if (!g.group.empty()) s += "; group " + g.group + " of " + std::to_string(g.group_size) + ", combined after uop " +
                             std::to_string(g.combine_after);
  return s + "\n" + ch06::to_string(g.program);
}

// The value of `index` for one thread, as CUDA C: "((blockIdx.x/4)%8)"; the slowest digit
// needs no % and a stride of 1 no /: "(threadIdx.x%4)", "(blockIdx.x/4)".
std::string index_expression(const GpuIndex& index, const gpu::LaunchDims& dims);

}  // namespace ch08

#endif  // CH08_GPU_PROGRAM_H_
