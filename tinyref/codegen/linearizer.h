// Kernel -> Program: the loops, accumulators, loads, arithmetic and stores of one kernel as a
// flat list of uops (uops.h), in three parts that each read alone:
//   index_lowering.h   where each dimension's index comes from (a loop, or a GPU index digit),
//                      views as int32 address arithmetic, loads and stores (SIMD lanes too)
//   reduce_lowering.h  accumulators and the reduce's loop nest, group partials, staging.h's tiles
//   linearizer.cc      the walk: output loops, each AST node once per position, the stores
// all emitting through a UOpBuilder (uop_builder.h: shared subexpressions, SIMD-lane values).
//
//   Kernel k(item.ast, bufs);
//   optimize(k, device.codegen_options());   // optional: splits and retypes dimensions
//   Program p = linearize(k);
//   std::cout << p.to_string();              // one line per uop
//
// Shape of the output, for a reduce kernel:
//   for global loops:                 (the first one parallel if the optimizer said so)
//     acc = init                      (one per unrolled output position; SIMD lanes if vectorized)
//     for reduce loops:
//       acc = acc (+|max) value       (once per unrolled reduce position)
//     out[...] = f(acc, ...)          (the elementwise ops after the reduce)
#ifndef TINYREF_CODEGEN_LINEARIZER_H_
#define TINYREF_CODEGEN_LINEARIZER_H_

#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/uops.h"

namespace tinyref {

Program linearize(const Kernel& k);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_LINEARIZER_H_
