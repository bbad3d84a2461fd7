// One optimization of a Kernel, as a value (tinygrad's Opt): a kind, the dimension it acts on
// and an amount. The optimizers (optimizer.h) decide a list of them, Kernel::apply carries each
// out and Kernel::applied records them, so a decision can be printed, cached by the search
// (engine/search.h) and replayed on a fresh Kernel with the same result.
//
//   Opt{OptKind::kVector, 1, 8}            // dimension 1 split into SIMD lanes of 8
//   to_string({{OptKind::kUpcast, 0, 4}, {OptKind::kParallel}})   // "upcast 0 4, parallel"
//   parse_opts("upcast 0 4, parallel")     // the same list back; nullopt for bad text
//
// What each kind does to a kernel is in kernel.h (Kernel::apply); which ones a kernel gets is
// the optimizers' business.
#ifndef TINYREF_CODEGEN_OPT_H_
#define TINYREF_CODEGEN_OPT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tinyref {

enum class OptKind {
  kVector,    // SIMD lanes: `amount` elements of dimension `axis` per value (GPU: a float4)
  kUpcast,    // `amount` outputs along output dimension `axis` per iteration (a register tile)
  kUnroll,    // `amount` iterations of reduce dimension `axis` unrolled into the loop body
  kLocal,     // GPU: `amount` threads of a block along output dimension `axis`
  kGroup,     // `amount` partial results along reduce dimension `axis`, combined at the end
              // (CPU: contiguous chunks in a parallel loop; GPU: the block's threads, interleaved)
  kBlock,     // CPU: output dimension `axis` walked in blocks of `amount` tiles, blocks outermost
  kStream,    // CPU: reduce dimension `axis` moves among the output loops in `amount` chunks,
              // each adding its share into the output
  kParallel,  // CPU: the outermost loop runs on several threads (no axis, no amount)
  kStage,     // GPU: the inputs that threads share are copied to shared memory, a K-tile of
              // about `amount` of the reduce at a time (staging.h); `axis` is the K-tile loop
  kPack,      // CPU: input `amount` (its leaf: 1 is the first input) is copied at the top of each
              // iteration of output (or stream chunk) loop `axis` into a contiguous panel in
              // reading order (packing.h)
  kTensorCore,  // GPU: a float32 multiply-add reduce on TF32 tensor cores, 16x8 outputs and 8 of
                // the reduce a warp-level mma; `axis` picks one of tensor_core_choices(kernel)
                // (kernel.h), `amount` is the mma's K (8)
  kPrefetch,  // GPU, staged: each K-tile's copies load one turn ahead into registers, so that
              // global memory's latency hides behind the turn before (staging.h); `axis` is the
              // K-tile loop, `amount` 1 (turns ahead)
  kPad,       // GPU, first: output or reduce dimension `axis` padded up to a multiple of `amount`
              // (tensor cores want 8 | n and 8 | k: a conv's 20-wide rows become 24); inputs read
              // 0 there, padded outputs are computed but never stored, and a padded reduce adds
              // only 0 * 0 (Kernel::padded_terms_are_zero)
  kAsync,     // GPU, staged: each K-tile goes from global to shared memory without registers
              // (cp.async), into a ring of `amount` copies of the arrays, `amount - 1` turns
              // ahead (staging.h), 2 to 4 of them; `axis` is the K-tile loop
  kWgmma,     // GPU, tensor cores, staged: each warpgroup (4 warps) multiplies its 64 rows by
              // all its columns in one instruction per 8 of K that reads the staged tiles itself
              // (wgmma, compute capability 9.0; kernel.h: TensorCoreDims); `axis` is the K-tile
              // loop, `amount` 64 (the rows a warpgroup)
};

struct Opt {
  OptKind kind = OptKind::kParallel;
  int axis = -1;
  int64_t amount = 0;
  bool operator==(const Opt& o) const { return kind == o.kind && axis == o.axis && amount == o.amount; }
};

const char* opt_kind_name(OptKind k);  // "upcast"
std::string to_string(const Opt& opt);  // "upcast 0 4"; "parallel"
std::string to_string(const std::vector<Opt>& opts);  // comma-separated
std::optional<std::vector<Opt>> parse_opts(const std::string& text);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_OPT_H_
