// The fuzzer's oracle: the value of a lazy graph computed node by node, without the scheduler,
// the codegen or any backend. Each node's elements are worked out in row-major order, reads go
// through the node's ShapeTracker (ShapeTracker::index_of), and the arithmetic is ops.def's
// (eval_alu), rounded to the node's dtype as a kernel would store it.
//
//   std::vector<LazyRef> outs = graph.build("INTERP");   // inputs in host memory
//   std::vector<double> want = reference_values(outs[0]);
//
// Slow (a map lookup per element) and obviously right is the point: a fused, tiled,
// vectorized kernel that disagrees with it is wrong, or the disagreement is rounding.
#ifndef TINYREF_FUZZ_REFERENCE_H_
#define TINYREF_FUZZ_REFERENCE_H_

#include <vector>

#include "tinyref/lazy/lazybuffer.h"

namespace tinyref::fuzz {

// Every element of `node`, row-major. Realized inputs must sit in host memory.
std::vector<double> reference_values(const LazyRef& node);

}  // namespace tinyref::fuzz

#endif  // TINYREF_FUZZ_REFERENCE_H_
