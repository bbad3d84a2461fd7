// Hand-written heuristics that reshape a Kernel for a CPU-like device: SIMD lanes on the
// innermost contiguous axis, more outputs per iteration where an input is reused (register
// tiling, what makes matmul fast), unrolled reduce loops, streamed reductions (a weight
// gradient adds a few images at a time into its output, so its inputs are read once), and a
// parallel outermost loop or parallel partial reductions. Each step only splits, moves and retypes dimensions, so the
// result computes exactly what the kernel did (up to float reassociation in reductions).
//
//   Kernel k(ast, bufs);
//   optimize(k, device.codegen_options());
//   k.applied    // {"vector 1 8", "upcast 0 4", "parallel"}
//
// TT_NOOPT=1 turns it off (one scalar loop per dimension: the plainest code).
#ifndef TINYREF_CODEGEN_OPTIMIZER_H_
#define TINYREF_CODEGEN_OPTIMIZER_H_

#include "tinyref/backends/device.h"
#include "tinyref/codegen/kernel.h"

namespace tinyref {

void optimize(Kernel& k, const CodegenOptions& options);

// The GPU's heuristics (optimizer_gpu.cc), which optimize() hands GPU devices to: output
// dimensions spread over blocks and threads, register tiles per thread, and reductions with
// few outputs split across a block's threads. options.variant picks one of a few choices (block
// size, register tile); returns false when the kernel has no choice of that number, which is
// how the search (engine/search.h) knows it has tried them all. Variant 0 is the default.
bool optimize_gpu(Kernel& k, const CodegenOptions& options);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_OPTIMIZER_H_
