// Packed panels for CPU reductions (OptKind::kPack): one input of the reduce is copied, at the
// top of each iteration of an output loop, into a contiguous per-thread array laid out in the
// order the loops inside read it, and the register tiles read it from there. What GEMM
// libraries (BLIS, Eigen, llm.c's CPU matmul) call packing B: the panel's rows lie a whole
// matrix row apart in the input (every step of K a new 4 KiB page, a new TLB entry, a new
// prefetch stream); in the panel one K step's vectors are neighbours, and the whole panel is
// one stream.
//
//   matmul 1024^3 on AVX-512, Opts "vector 1 16, upcast 0 4, upcast 1 4, block 1 4, pack 0 2, parallel":
//   kernel r_4_256_4_1024_16_4_4, B (leaf 2) packed at dimension 0 (the column block)
//     for gidx0 in 0..4 (parallel):                 a block of 256 columns
//       static thread_local float part0_[262144];   B's panel: 4 tiles x 1024 K x 4 x 16 lanes
//       for pidx0, pidx1, pidx2, pidx3:             copied once per block, in reading order
//         part0[...] = data2[...]
//       for gidx1 in 0..256:                        every row tile reuses the panel
//         for gidx2 in 0..4: for ridx0 in 0..1024:
//           val = *(f32x16*)(part0 + gidx2*65536 + ridx0*64 + 16*c)   c = 0..3: 256 bytes in a row
//
// The panel's dimensions are those after the packing loop along which the input moves (a
// stride-0 dimension, like the row tile's for B, reuses it): loops first, in loop order, then
// the unrolled dimensions, the SIMD lanes innermost so that a vector is one aligned load.
//
// A panel that the packing loop and those outside it do not move (a conv's weights, packed inside
// the loop over images) is the same on every iteration: it is copied once, before the parallel
// loop, by the calling thread, and every thread reads that one copy (MNIST's conv4 forward copied
// its 147 KB of weights for each of 512 images, longer than it multiplied them).
//
//   conv 64 -> 64 channels, 3x3, on 8x8 images: r_512_2_6_3_64_3_3_8_4_2, pack 0 2 (the weights)
//     static thread_local float part0_[36864];  float* const part0 = part0_;
//     for pidx0, ...: part0[...] = data2[...]      once, by the calling thread
//     for gidx0 in 0..512 (parallel):             each image reads the calling thread's panel
#ifndef TINYREF_CODEGEN_PACKING_H_
#define TINYREF_CODEGEN_PACKING_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "tinyref/codegen/index_lowering.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/uop_builder.h"

namespace tinyref {

struct PackedPanel {
  int leaf = -1;                 // index into Kernel::leaves and Kernel::sts
  size_t at = 0;                 // the output loop whose every iteration copies the panel
  bool hoisted = false;          // the same panel on every iteration of loops 0..at: copied once,
                                 // before them
  std::vector<size_t> dims;      // the panel's dimensions, the most significant first
  std::vector<int64_t> extents;  // each one's extent
  std::vector<int64_t> strides;  // each one's stride in the panel (row-major over dims)
  int64_t size = 1;              // elements
};

// The panel of `leaf` packed inside loop `at` of k as it is now.
PackedPanel plan_panel(const Kernel& k, int leaf, size_t at);

// Whether reading the leaf straight from its buffer already walks a panel's order: every panel
// dimension's stride in the buffer equals its stride in the panel (nothing to gain by copying).
bool already_packed(const Kernel& k, const PackedPanel& panel);

// Emitting the panel through the linearizer's builders.
class Packing {
 public:
  Packing(const Kernel& k, UOpBuilder& b, IndexLowering& ix);
  // Where the linearizer opens the output loops: the panel's loop is the last one to open first
  // (none where the panel is hoisted). SIZE_MAX when the kernel packs nothing.
  size_t split_after() const { return !panel_ ? SIZE_MAX : panel_->hoisted ? 0 : panel_->at + 1; }
  // Inside loop `at` (before every loop, hoisted): the array (DEFINE_LOCAL tag "pack"), per
  // thread, and the loops copying into it.
  void emit_copy();
  // The packed leaf's value at one unrolled position, read from the panel; else nothing.
  std::optional<UOpBuilder::Val> read(const AstNode* leaf, const std::vector<int64_t>& assign);

 private:
  const Kernel& k_;
  UOpBuilder& b_;
  IndexLowering& ix_;
  std::optional<PackedPanel> panel_;
  int array_ = -1;
};

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_PACKING_H_
