// The classic loop transformations, each a small rewrite of a LoopKernel that cannot change
// what it computes (only the order of a reduction's additions). optimize() applies the ones
// switched on, in this order:
//
//   matmul (64, 64) @ (64, 64):  gidx0<64 gidx1<64 ridx0<64
//   reorder_loops      the innermost loops read memory stride-1       (no change here)
//   upcast_output      8 columns per iteration, unrolled: the        gidx0<64 gidx1<8 ridx0<64
//                      compiler turns them into one vector op         up0<8
//   split_accumulators a lone accumulator is a chain of dependent    (skipped: 8 accumulators
//                      adds: several partial sums break it            already)
//   register_tile      4 rows too: 32 accumulators, each loaded A     gidx0<16 gidx1<8 ridx0<64
//                      value used 8 times, each B value 4 times       up0<8 up1<4
//   parallelize        the outer loops shared by the threads          #pragma omp parallel for
//
//   LoopKernel k(kernel);
//   optimize(k, OptimizeOptions{});   // all of them
//   k.applied                         // {"upcast gidx1 8", "tile gidx0 4", "parallel 1"}
#ifndef CH06_OPTIMIZE_H_
#define CH06_OPTIMIZE_H_

#include <string>

#include "ch06/loop_kernel.h"

namespace ch06 {

struct OptimizeOptions {
  bool reorder = true;
  bool upcast = true;
  bool registers = true;
  bool tile = true;
  bool parallel = true;
  int width = 8;    // upcast_output's amount (8 floats: one AVX2 register)
  int partials = 8; // split_accumulators' count (8 floats: one AVX2 register)
  int accumulators = 32;  // register_tile's budget: upcast positions x tile rows, at most
  int threads = 0;  // parallelize's thread count; 0: OpenMP's (OMP_NUM_THREADS, else the cores)

  static OptimizeOptions none();  // every transformation off: one plain loop per dimension
  std::string str() const;        // "reorder upcast registers tile parallel", or "none"
};

// Given: the switched-on transformations below, in the order above. CH06_NOOPT=1 turns them all off.
void optimize(LoopKernel& k, const OptimizeOptions& options);

// ch06.7: the threads share the leading output loops: as many of them (collapsed) as it takes
// to give every thread several iterations, never a reduce loop (its iterations all add into
// one accumulator) and never an unrolled one. Nothing for a kernel too small to pay for
// starting the threads, or one whose first loop is not an output loop.
void parallelize(LoopKernel& k, int threads);

// ch06.8: within the output loops, and within the reduce loops, the loop along which the most
// leaves move stride-1 (the STORE counts for output loops) becomes the innermost of its kind.
void reorder_loops(LoopKernel& k);

// ch06.9: the output loop the STORE writes stride-1 is upcast, whole when it fits in two
// vectors (2 * width), else split by the largest power of two up to `width` that divides its
// extent (else by `width`, with a tail): several outputs side by side for the compiler's
// vectorizer. In a reduction, only a loop of at least `width` along which every load is
// stride-0 or stride-1 (else there is no vector to make).
void upcast_output(LoopKernel& k, int width);

// ch06.10: a reduce kernel with one accumulator per output (nothing upcast) gets partial sums
// (kUnroll; as many as upcast_output would upcast, with `count` as the width) over its
// innermost reduce loop: independent adds the CPU overlaps, and the vectorizer packs.
void split_accumulators(LoopKernel& k, int count);

// ch06.11: a reduce kernel with an unrolled loop (upcast or partials: the vector) gets one more
// upcast: the output loop along which the most inputs that the vector moves through are reused,
// by as many rows as keep the tile within `accumulators` (a divisor of the loop's extent if
// there is one), so each loaded vector serves a whole column of the tile.
void register_tile(LoopKernel& k, int accumulators);

}  // namespace ch06

#endif  // CH06_OPTIMIZE_H_
