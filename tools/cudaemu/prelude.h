// The first thing an emulated .cu sees (the rewriter puts the include at the top): CUDA's
// names in the global namespace, where CUDA code expects them, and its keywords turned into
// C++. Also what <cuda_runtime.h> means under the emulator (tools/cudaemu/include/).
//
//   #include "tools/cudaemu/prelude.h"
//   __global__ void k(cudaemu::ptr<float> x) {        // __global__ is gone after this header
//     x[threadIdx.x] = __expf(1.0f);
//   }
//
// CUDAEMU is defined, for the rare code that must know (a test that skips cuBLAS).
#ifndef TOOLS_CUDAEMU_PRELUDE_H_
#define TOOLS_CUDAEMU_PRELUDE_H_

#include <math.h>

#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tools/cudaemu/checked.h"
#include "tools/cudaemu/device.h"
#include "tools/cudaemu/runtime_api.h"
#include "tools/cudaemu/types.h"

#define CUDAEMU 1

// Markers the rewriter has acted on, or that mean nothing on the CPU.
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline
#define __noinline__  // (not __attribute__((noinline)): libstdc++ spells that attribute __noinline__)
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __CUDACC__EMULATED 1
// __shared__ is always rewritten; one left over means the file did not go through the rewriter.
#define __shared__ this_file_was_not_rewritten_by_cudaemu_rewrite
#define CUDAEMU_ASSERT(e) ((e) ? (void)0 : ::cudaemu::detail::device_fault("assert", #e, std::source_location::current()))
// One Site per __shared__ declaration (and per template instantiation): the lambda's static.
#define CUDAEMU_SITE(name, line) ([]() -> const ::cudaemu::Site& { static const ::cudaemu::Site s{name, line}; return s; }())

// CUDA's names (types, enumerators, device functions, the runtime API) and nothing else of
// the emulator's.
using namespace cudaemu::cuda_api;

inline constexpr int warpSize = 32;

#define threadIdx (::cudaemu::detail::tls_thread->thread_idx)
#define blockIdx (::cudaemu::detail::tls_thread->block_idx)
#define blockDim (::cudaemu::detail::tls_thread->block_dim)
#define gridDim (::cudaemu::detail::tls_thread->grid_dim)

// Device printf: proxies (p[i]) are printed as their values.
template <class... A>
int printf(const char* format, const A&... args) {
  return std::printf(format, ::cudaemu::value(args)...);
}

#endif  // TOOLS_CUDAEMU_PRELUDE_H_
