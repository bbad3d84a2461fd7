// Hand-written heuristics that reshape a Kernel for its device, as a list of Opts (opt.h). On
// a CPU, one named step each: SIMD lanes on the innermost contiguous axis (or, for a conv or a
// conv weight gradient whose rows are narrower than a vector, on its output channels, the input
// moving along them packed: weights whole, an output gradient a batch chunk at a time), more
// outputs per iteration where an input is reused (register tiling, what makes matmul fast),
// cache blocking with the block's reused input packed into a panel (packing.h), unrolled reduce
// loops, streamed reductions (a weight gradient adds a few images at a time into its output, so
// its inputs are read once), and a parallel outermost loop or parallel partial reductions. Every
// Opt only splits, moves and retypes dimensions, or (pack) reads an input from a copy, so the
// result computes exactly what the kernel did (up to float reassociation in reductions).
//
//   Kernel k(ast, bufs);
//   optimize(k, device.codegen_options());
//   to_string(k.applied)    // "vector 1 8, upcast 0 4, upcast 1 2, block 1 4, pack 0 2, parallel"
//
// TT_NOOPT=1 turns it off (one scalar loop per dimension: the plainest code).
#ifndef TINYREF_CODEGEN_OPTIMIZER_H_
#define TINYREF_CODEGEN_OPTIMIZER_H_

#include <vector>

#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/options.h"

namespace tinyref {

void optimize(Kernel& k, const CodegenOptions& options);

// The GPU's heuristics (optimizer_gpu.cc), which optimize() hands GPU devices to: output
// dimensions spread over blocks and threads, register tiles per thread, and reductions with
// few outputs split across a block's threads. A kernel has a few such choices (block size,
// register tile, staging): gpu_variants returns each, as the kernel with its Opts applied, the
// default first; the search (engine/search.h) times them. optimize_gpu takes the default.
std::vector<Kernel> gpu_variants(const Kernel& k, const CodegenOptions& options);
void optimize_gpu(Kernel& k, const CodegenOptions& options);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_OPTIMIZER_H_
