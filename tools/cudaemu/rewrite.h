// The source step of the emulator: CUDA C++ in, C++ that the host compiler builds against the
// prelude out. Only what cannot be done with macros and overloading is rewritten, line for line
// (a #line directive keeps compiler errors and reports on the .cu's own lines):
//
//   __global__ void k(float* out, const float* __restrict__ in) {
//     __shared__ float tile[32][33];
//     const float4* v = reinterpret_cast<const float4*>(in);
//     *out = tile[0][0];
//   }
//   k<<<grid, block, 0, stream>>>(d_out, d_in);
// becomes
//   __global__ void k(::cudaemu::ptr<float> out, ::cudaemu::ptr<const float> in) {
//     ::cudaemu::shared_array<float[32][33]> tile{CUDAEMU_SITE("float tile[32][33]", 2), 0};
//     ::cudaemu::ptr<const float4> v = ::cudaemu::ptr_cast<const float4>(in);
//     ::cudaemu::deref(out) = tile[0][0];
//   }
//   ::cudaemu::launch("k", k, ::cudaemu::config(grid, block, 0, stream), d_out, d_in);
//
// In the functions marked __global__ or __device__ (signature and body): pointer parameters,
// return types and local pointer declarations become checked pointers; pointer casts and unary
// `*` become their checked forms; `auto x = e` becomes `auto x = ::cudaemu::value(e)` (a value,
// not a proxy), and so do both branches of `c ? a : b` (so that `c ? x[i] : 0` is a float); __shared__ declarations become per-block checked storage, and each later use of
// a __shared__ scalar `s` becomes `s.at()`. Everywhere: launches, and `#include "x.cuh"` becomes
// `#include "x.emu.cuh"` (device headers go through the rewriter too). Not followed: code
// inside #define bodies, pointers to pointers (left unchecked), template kernels launched
// without their template arguments. What it cannot follow it says, with the line (RewriteError).
#ifndef TOOLS_CUDAEMU_REWRITE_H_
#define TOOLS_CUDAEMU_REWRITE_H_

#include <string>
#include <string_view>

#include "tools/cudaemu/lexer.h"

namespace cudaemu {

struct RewriteOptions {
  std::string file = "kernel.cu";                    // for #line and error messages
  std::string prelude = "tools/cudaemu/prelude.h";   // included first
};

// Throws RewriteError.
std::string rewrite_cuda(std::string_view source, const RewriteOptions& options);

}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_REWRITE_H_
