// LoopKernel -> Program: the loops of a kernel written out as a flat list of uops (uops.h).
//
//   LoopKernel k(kernel);
//   Program p = linearize(k);
//   to_string(p)            // see the picture in uops.h
//
// The shape of every program:
//   DEFINE_GLOBAL per buffer
//   RANGE per global loop                     (the first `parallel` ones shared by threads)
//     DEFINE_ACC per upcast x unroll position  (a reduce kernel only: fresh for each output)
//     RANGE per reduce loop
//       value of the reduce's source          (once per upcast x unroll position, unrolled)
//       ACCUMULATE                            (guarded by the split tails)
//     END_RANGE per reduce loop
//     combine each output's partial accumulators (unroll) with the reduce op
//     [optional, for speed: with upcasts and ops after the reduce, STORE each reduced
//      value and LOAD it back (the solution's linearize.cc says why)]
//     value of the store's source, the reduce replaced by its accumulator
//     STORE                                   (once per upcast position, guarded by the tails)
//   END_RANGE per global loop
//
// Upcast and unroll loops are no loops: their variables are fixed to each value in turn and
// the index expressions simplified, so the C++ reads data1[gidx0*8+3], not a fifth loop.
// A LOAD's validity is its ShapeTracker's (padding) AND every guard that applies there, so a
// tail position never reads memory; an ACCUMULATE and a STORE skip positions outside the tails.
#ifndef CH06_LINEARIZE_H_
#define CH06_LINEARIZE_H_

#include "ch06/loop_kernel.h"
#include "ch06/uops.h"

namespace ch06 {

// ch06.3. Throws std::invalid_argument naming the kernel when its loops cannot be written
// out (a global loop inside a reduce loop).
Program linearize(const LoopKernel& k);

}  // namespace ch06

#endif  // CH06_LINEARIZE_H_
