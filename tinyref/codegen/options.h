// What a device tells the codegen about itself: what the optimizers (optimizer.h) may assume,
// and which language its kernels are rendered in (renderer.h). Each backend returns one from
// Device::codegen_options().
//
//   CodegenOptions cpu{.vector_bytes = 32, .threads = 2, .language = Language::kCpp};   // an AVX2 core
//   CodegenOptions avx512{.vector_bytes = 64, .threads = 2, .max_upcast = 256, .vector_registers = 32,
//                         .l2_bytes = 1 << 20, .language = Language::kCpp};
//   CodegenOptions gpu{.gpu = true, .language = Language::kCuda};
#ifndef TINYREF_CODEGEN_OPTIONS_H_
#define TINYREF_CODEGEN_OPTIONS_H_

#include <cstdint>
#include <string>

#include "tinyref/env.h"

namespace tinyref {

// Which float32 sums of products a GPU may compute on TF32 tensor cores. PyTorch's defaults are
// the model: cuDNN may pick a TF32 algorithm for a convolution (torch.backends.cudnn.allow_tf32),
// cuBLAS may not for a matmul. kConvolutions lets the search time tensor-core variants of a
// convolution's kernels (Kernel's is_convolution) beside the float32 ones and keep them where they
// are faster; what runs unsearched stays float32. kAll puts them first for every qualifying kernel.
enum class Tf32 { kOff, kConvolutions, kAll };
inline const char* tf32_name(Tf32 mode) {
  return mode == Tf32::kOff ? "off" : mode == Tf32::kConvolutions ? "convolutions" : "all";
}

// The source a device compiles: none (INTERP runs the uops themselves), C++ or CUDA C.
enum class Language { kNone, kCpp, kCuda };

struct CodegenOptions {
  int vector_bytes = 0;     // widest SIMD vector the renderer emits; 0: scalar code only
  int threads = 1;          // > 1: parallel loops run on this many threads
  int max_upcast = 64;      // elements computed per loop iteration, at most
  int vector_registers = 16;            // a register tile's accumulators and operands fit in these
  int64_t l2_bytes = 512 << 10;         // a streamed reduction's chunk fits in half of it
  // GPU: no output loops; blocks of threads instead (codegen/optimizer_gpu.cc).
  bool gpu = false;
  int max_threads = 1024;           // threads per block
  int max_shared_bytes = 48 << 10;  // shared memory per block without opting in to more
  int max_shared_bytes_opt_in = 0;  // with it (227 KB on an H100): what an async ring may take
  bool async_copies = false;        // Opt kAsync's variants (cp.async: compute capability 8.0 on)
  bool wgmma = false;               // Opt kWgmma's variants (compute capability 9.0, where asked: wgmma_asked)
  // A reduction into fewer outputs than this may take a block of threads per output (a group
  // reduce).
  int64_t group_reduce_max_outputs = int64_t{1} << 18;
  // GPU: which float32 sums of products may run on TF32 tensor cores, their inputs rounded to 10
  // mantissa bits (optimizer_gpu.cc; the CUDA devices set it from TT_TF32: tf32_mode below).
  Tf32 tf32 = Tf32::kOff;
  Language language = Language::kNone;
  std::string target = "";  // what the options were chosen for and why (TT_DEBUG=2 prints it once)
};

// How a GPU's long reductions split in the lazy graph (LazyBuffer::reduce: chunks of the first
// reduced axis, whose partial sums a second kernel adds up): at most max_chunks chunks of at least
// min_slice values, fewer than max_partials partials (outputs x chunks). Which kernel then runs
// fastest decides it. In float32 it is a group reduce (a block per output: MNIST's conv2 weight
// gradient, 8 chunks, 0.58 ms on an H100), which needs fewer outputs than its limit and long
// slices. On tensor cores it is a tile kernel, a warp's 16x8 outputs summing a whole slice, which
// wants many short slices: conv2's 25600 outputs are 200 warps unsplit; at 64 chunks its weight
// gradient took 0.39 ms on tensor cores (float32's best there: 1.76) and the MNIST step 1.99 ms
// against 2.41 at the float32 rule. (With TF32 for convolutions only, the default, another long
// sum of products splits the same way and runs in float32: MNIST has none; unmeasured elsewhere.)
// A CPU does not split (all zero).
struct SplitRule {
  int64_t max_chunks = 0, min_slice = 0, max_partials = 0;
};
inline SplitRule reduce_split_rule(const CodegenOptions& o) {
  if (!o.gpu) return {};
  if (o.tf32 == Tf32::kOff) return {16, 4096, o.group_reduce_max_outputs};
  return {64, 2048, int64_t{1} << 21};
}

// What TT_TF32 asks the CUDA devices for (CodegenOptions::tf32): unset, kConvolutions; 0, kOff;
// 1, kAll. Anything else is an Error naming the variable.
inline Tf32 tf32_mode() {
  if (env_string("TT_TF32", "").empty()) return Tf32::kConvolutions;
  return env_flag("TT_TF32", false) ? Tf32::kAll : Tf32::kOff;
}

// Whether the CUDA devices' search tries cp.async variants (CodegenOptions::async_copies, where the
// GPU has it): yes unless TT_ASYNC=0. On an H100 every variant ran correct, and a ring won the
// 4096^3 TF32 matmul's search (0.955 ms against 1.029 prefetched); TT_ASYNC=0 searches without.
inline bool async_copies_asked() { return env_flag("TT_ASYNC", true); }

// Whether the search tries warpgroup-MMA variants (CodegenOptions::wgmma, on a GPU of compute
// capability 9.0 and on the emulator): only with TT_WGMMA=1 until a GPU has run them correct
// (the emulator follows PTX's description of the instruction; the hardware has not checked it).
inline bool wgmma_asked() { return env_flag("TT_WGMMA", false); }

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_OPTIONS_H_
