// Program -> CUDA C for NVRTC: the same statements as the C++ renderer (c_style.h), with the
// output loops replaced by the block and thread index, partial results of a group reduce in
// __shared__ memory, and __syncthreads() at a BARRIER. Launch with program.global_size blocks
// of program.local_size threads and cuda_dynamic_shared_bytes(program) of dynamic shared memory:
// shared arrays past the 48 KB a kernel may declare become pointers into one extern __shared__
// block, which the launch sizes (and the kernel must be allowed, cuFuncSetAttribute).
//
//   std::string src = render_cuda(program);
//   // extern "C" __global__ void __launch_bounds__(256) E_65536_256(float* __restrict__ data0, ...) {
//   //   int gidx0 = blockIdx.x;
//   //   int lidx0 = threadIdx.x;
//   //   float val0 = data1[((gidx0*256)+lidx0)];
//   //   data0[((gidx0*256)+lidx0)] = (val0*val0);
//   // }
#ifndef TINYREF_CODEGEN_CUDA_RENDERER_H_
#define TINYREF_CODEGEN_CUDA_RENDERER_H_

#include <cstdint>
#include <string>

#include "tinyref/codegen/uops.h"

namespace tinyref {

std::string render_cuda(const Program& program);
int64_t cuda_dynamic_shared_bytes(const Program& program);  // 0 where the arrays fit in 48 KB

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_CUDA_RENDERER_H_
