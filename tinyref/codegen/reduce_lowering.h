// The reduce of a kernel: one accumulator per upcast position, the loop nest that feeds them
// (unrolled where the optimizer said so, SIMD partials summed across lanes at the end), and for
// a group reduce the partials each group iteration (CPU) or thread (GPU) leaves in local
// memory, then added up. On a GPU with staging, the inputs the block shares are copied to
// shared memory once per K-tile (staging.h), and reads of them go there.
//
//   the max of log2 of 288 values, CPU, Opts "group 0 8": kernel r_8_36 (8: kGroup, 36: kReduce)
//     float part0[8];                                   DEFINE_LOCAL: one slot per group iteration
//     #pragma omp parallel for
//     for (int tidx0 = 0; tidx0 < 8; tidx0++) {
//       float acc0 = -inf;                              an accumulator, initialized
//       for (int ridx0 = 0; ridx0 < 36; ridx0++) acc0 = tt_max(acc0, tt_log2(data1[tidx0*36 + ridx0]));
//       part0[tidx0*1 + 0] = acc0;                      the group iteration's partial
//     }
//     float acc1 = -inf;
//     for (int tidx1 = 0; tidx1 < 8; tidx1++) acc1 = tt_max(acc1, part0[tidx1*1 + 0]);   added up
//
//   ReduceLowering r(k, b, ix);
//   std::map<std::vector<int64_t>, Val> reduced = r.lower(ups, render);   // acc1, for the one position
//
// `render` is the linearizer's walk over the AST (linearizer.cc), called for the reduce's input
// at each unrolled position inside the loops; it asks staged_read() first for every leaf.
#ifndef TINYREF_CODEGEN_REDUCE_LOWERING_H_
#define TINYREF_CODEGEN_REDUCE_LOWERING_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "tinyref/codegen/index_lowering.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/staging.h"
#include "tinyref/codegen/uop_builder.h"

namespace tinyref {

// The binary op that folds one more value into a reduce's result: ADD for SUM, MAX for MAX.
Op combine_op(Op reduce);

class ReduceLowering {
 public:
  using Val = UOpBuilder::Val;
  using Render = std::function<Val(const AstNode* n, const std::vector<int64_t>& assign)>;

  // k.reduce must be set; ix has opened the output loops (or the GPU's indices) around here.
  ReduceLowering(const Kernel& k, UOpBuilder& b, IndexLowering& ix) : k_(k), full_(k.full_shape()), b_(b), ix_(ix) {}

  // Emits the reduce; returns its value at each upcast position (an entry of `ups`, as
  // IndexLowering::combos(Axis::kUpcast) gives them).
  std::map<std::vector<int64_t>, Val> lower(const std::vector<std::vector<int64_t>>& ups, const Render& render);

  // Inside a K-tile, a staged leaf's value read from shared memory; else nothing.
  std::optional<Val> staged_read(const AstNode* leaf, const std::vector<int64_t>& assign);

 private:
  struct Sink;
  int64_t group_size() const;
  void combine_by_columns(int local, int n, double init, Op combine, DType dt, std::vector<Val>& results);
  int slot(int row, int64_t n, int col);
  void mma_steps(const std::vector<std::vector<int64_t>>& ups, const std::vector<int>& accs, const Render& render);
  void wgmma_steps(const std::vector<std::vector<int64_t>>& ups, const std::vector<int>& accs);
  void wgmma_wait(int64_t in_flight, const std::vector<int>& accs);
  std::vector<int> open_k_tile();
  void close_k_tile(const std::vector<int>& loop);

  const Kernel& k_;
  const Shape full_;
  UOpBuilder& b_;
  IndexLowering& ix_;
  std::vector<StagedLeaf> staged_;
  std::vector<int> staging_arrays_;             // DEFINE_LOCAL per staged leaf
  std::unordered_map<int, size_t> staged_slot_;  // leaf index -> position in staged_
  bool in_k_tile_ = false;                      // reads of staged leaves go to shared memory
  int read_ring_ = -1;                          // ...to this ring array (a uop), copied asynchronously
  std::optional<StagingCopies> copies_ahead_;   // a ring's copies still to start this turn (wgmma)
};

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_REDUCE_LOWERING_H_
