// Program -> C++ source: one function per kernel, what the Compiler turns into machine code.
//
//   relu(x @ w + b) (the program in uops.h), rendered:
//
//   extern "C" void r_8_4_16(float* __restrict__ data0, const float* __restrict__ data1,
//                            const float* __restrict__ data2, const float* __restrict__ data3) {
//     for (int gidx0 = 0; gidx0 < 8; gidx0++) {
//       for (int gidx1 = 0; gidx1 < 4; gidx1++) {
//         float acc0 = 0.0f;
//         for (int ridx0 = 0; ridx0 < 16; ridx0++) {
//           float val0 = data1[((gidx0*16)+ridx0)];
//           float val1 = data2[((ridx0*4)+gidx1)];
//           float alu0 = (val0*val1);
//           acc0 = (acc0+alu0);
//         }
//         float val2 = data3[gidx1];
//         float alu1 = (acc0+val2);
//         float alu2 = ch06_max(alu1, 0.0f);
//         data0[((gidx0*4)+gidx1)] = alu2;
//       }
//     }
//   }
//   extern "C" void r_8_4_16_entry(void** b) { r_8_4_16((float*)b[0], (const float*)b[1], ...); }
//
// __restrict__ promises the compiler that the buffers do not overlap (the output is always a
// fresh buffer), without which it must assume a store may change what the next load reads and
// cannot vectorize. A RANGE with parallel = n gets `#pragma omp parallel for collapse(n)`.
// A guarded load is `(valid ? data1[index] : 0.0f)`: the load happens only where it is valid.
// The source includes no header (compiling it takes a tenth of a second, not a second).
#ifndef CH06_RENDER_CPP_H_
#define CH06_RENDER_CPP_H_

#include <string>

#include "ch06/uops.h"

namespace ch06 {

// ch06.5. The entry point is entry_point(program.name) (compiler.h). Throws
// std::invalid_argument for a uop the CPU cannot run (kSpecial).
std::string render_cpp(const Program& program);

// A number as a C++ literal of that dtype that reads back exactly: "0.5f", "0.100000001f",
// "(-2.0f)", "(-__builtin_inff())", "0.10000000000000001" (float64).
std::string literal(double value, ch04::DType dtype);

}  // namespace ch06

#endif  // CH06_RENDER_CPP_H_
