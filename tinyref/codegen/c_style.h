// What the C++ and the CUDA renderer share: kernel IR to C-family source, one statement per
// uop, values named by role (gidx/lidx/ridx indices, val loads, acc accumulators, alu
// arithmetic), single-use arithmetic inlined into its user. A language differs only in the
// few strings of CLanguage (tinygrad's CStyleLanguage has the same split).
//
//   CLanguage cuda;   // cuda_renderer.cc: kernel_prefix "extern \"C\" __global__ void ", ...
//   std::string src = render_c_style(program, cuda);
//   // extern "C" __global__ void E_4096(float* __restrict__ data0, const float* __restrict__ data1) {
//   //   int gidx0 = blockIdx.x;
//   //   ...
#ifndef TINYREF_CODEGEN_C_STYLE_H_
#define TINYREF_CODEGEN_C_STYLE_H_

#include <cstdint>
#include <string>

#include "tinyref/codegen/uops.h"

namespace tinyref {

struct CLanguage {
  std::string prefix;         // helpers the ops.def templates call (tt_max, tt_exp2, ...), and
                              // TT_INF/TT_NAN (double) and TT_INFF/TT_NANF (float) literals
  std::string kernel_prefix;  // what comes before the kernel's name
  std::string launch_bounds;  // printed after kernel_prefix with the block size, if not empty
  std::string shared_prefix;  // before a DEFINE_LOCAL array ("__shared__ " on a GPU)
  int64_t max_static_shared = 0;  // past this many bytes of them (shared_array_bytes), the arrays
                                  // are pointers into dynamic_shared instead; 0: no limit
  std::string dynamic_shared;     // declares that block: float4s named tt_shared
  std::string thread_array_prefix;  // before a packed panel (DEFINE_LOCAL tag "pack"), one array
                                    // per thread; empty: the language has none (packing.h)
  std::string barrier;        // the statement for BARRIER
  std::string block_index;    // SPECIAL gidx
  std::string thread_index;   // SPECIAL lidx
  bool openmp = false;        // parallel RANGEs get `#pragma omp parallel for`
  bool vectors = false;       // GCC vector types for values with lanes > 1
  bool vector_structs = false;  // or the prefix's f32x4 struct (CUDA): brace-built, tt_broadcast,
                                // and aligned loads and stores where LOAD/STORE's arg says so
  std::string mma;            // the prefix's function for MMA (a0..a3, b0, b1, c0..c3 -> f32x4), if any
  std::string mma_rounded;    // ...for MMA with arg 1 (A and B rounded to TF32 already)
  std::string round_tf32;     // the prefix's function a STORE tagged "tf32" applies to its value
  std::string copy_async;     // the prefix's functions for COPY_ASYNC: this name, then its bytes
                              // (tt_copy_async16(dst, src, valid)); empty: the language has none
  std::string async_commit;   // the statement for ASYNC_COMMIT
  std::string async_wait;     // the prefix's macro for ASYNC_WAIT, given the groups left in flight
  // WGMMA (uops.h): the prefix's descriptor function (tt_wgmma_desc(tile, lbo, sbo): a 64-bit
  // shared-memory matrix descriptor) and, for each N a program uses, the definition of its
  // multiply-add, wgmma(N) (named tt_wgmma_m64n<N>k8(desc_a, desc_b, d0, ..., d<N/2-1>)),
  // printed after the prefix; null: the language has none.
  std::string wgmma_desc;
  std::string (*wgmma)(int n) = nullptr;
  std::string wgmma_fence, wgmma_commit, wgmma_wait;  // statements; wgmma_wait a macro of the groups left
  std::string wgmma_delivered;  // a macro of an accumulator after WGMMA_WAIT: the compiler keeps its
                                // reads after the wait (without it, it may move them before: the
                                // wait names no register)
  std::string proxy_fence;                            // the statement for PROXY_FENCE
  std::string keep_in_register;  // the prefix's function around a vector LOAD that several uops read, if any
};

// The kernel function alone (no entry point): prefix, vector typedefs if any, the kernel.
std::string render_c_style(const Program& program, const CLanguage& language);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_C_STYLE_H_
