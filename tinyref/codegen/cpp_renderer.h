// Program -> C++ source for the CPU backend, in tinygrad's shape: one extern "C" function
// named after the kernel's loop extents, data0 the output, one statement per line, values
// named by role (gidx/ridx loop indices, val loads, acc accumulators, alu arithmetic). SIMD
// values use GCC vector types (f32x8); a short prefix makes the file self-contained.
//
//   std::string src = render_cpp(program);
//   // extern "C" void E_4096_8(float* __restrict__ data0, const float* __restrict__ data1) {
//   //   #pragma omp parallel for
//   //   for (int gidx0 = 0; gidx0 < 4096; gidx0++) {
//   //     f32x8 val0 = tt_vload<f32x8>(data1+(gidx0*8));
//   //     tt_vstore(data0+(gidx0*8), (val0*val0));
//   //   }
//   // }
//   // extern "C" void E_4096_8_launch(void** bufs) { E_4096_8((float*)bufs[0], (const float*)bufs[1]); }
#ifndef TINYREF_CODEGEN_CPP_RENDERER_H_
#define TINYREF_CODEGEN_CPP_RENDERER_H_

#include <string>

#include "tinyref/codegen/uops.h"

namespace tinyref {

std::string render_cpp(const Program& program);
// The name of the void(void**) entry point render_cpp emits.
std::string cpp_entry_point(const Program& program);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_CPP_RENDERER_H_
