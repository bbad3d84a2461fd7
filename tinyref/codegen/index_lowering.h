// Where each dimension of a kernel gets its index, and how a view turns the indices into an
// address. A dimension's index is a loop counter (a RANGE uop) or, on a GPU, a digit of the
// block or thread index (SPECIAL); an unrolled dimension (kUpcast, kUnroll) has a number
// instead, and the vector dimension the SIMD lane. A ShapeTracker maps the indices to a
// position and a validity expression (ShapeTracker::expr), lowered here to int32 uops; loads and
// stores then move one element, one SIMD vector, or one element per lane.
//
//   the max of each column of x (28, 3): kernel r_3_28, dimensions (3: kGlobal, 28: kReduce)
//   IndexLowering ix(k, b);                                  // DEFINE_GLOBAL data0 (out), data1 (x)
//   std::vector<int> outer = ix.open_loops({Axis::kGlobal}, false);  // for gidx0 in 0..3
//   std::vector<int> inner = ix.open_loops({Axis::kReduce}, false);  // for ridx0 in 0..28
//   const std::vector<int64_t> none(k.ndim(), -1);          // no dimension unrolled
//   ix.index_of(k.sts[1], none)    // (d0 + d1*3, 1): x's position and validity, symbolic
//   ix.load(x_leaf, none)          // LOAD data1[gidx0 + ridx0*3]
//   ix.close_loops(inner);
//   ix.store(0, k.sts[0], none, result, -1);                 // STORE data0[gidx0] = result
//   ix.close_loops(outer);
//
// The reduce's loop nest is reduce_lowering.h's; the walk over the AST that calls both is
// linearizer.cc's.
#ifndef TINYREF_CODEGEN_INDEX_LOWERING_H_
#define TINYREF_CODEGEN_INDEX_LOWERING_H_

#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/uop_builder.h"
#include "tinyref/shape/symbolic.h"

namespace tinyref {

class IndexLowering {
 public:
  using Val = UOpBuilder::Val;

  // Emits a DEFINE_GLOBAL per buffer of k; sets the builder's SIMD width to the extent of k's
  // vector dimension, if it has one.
  IndexLowering(const Kernel& k, UOpBuilder& b);

  // --- where indices come from

  // Loops over the dimensions of these kinds among [first, last), in dimension order; the first
  // one parallel if parallel_first. Returns their RANGE uops, outermost first.
  std::vector<int> open_loops(std::initializer_list<Axis> kinds, bool parallel_first, size_t first = 0,
                              size_t last = SIZE_MAX);
  // Ends them, innermost first. Returns the first uop inside the outermost one: what was made
  // from that uop on is out of scope now.
  int close_loops(const std::vector<int>& opened);
  // A serial loop with no dimension of its own (over a group reduce's partials; tag "pidx":
  // over a packed panel, packing.h).
  int open_range(int64_t extent, const char* tag = "tidx");

  // GPU: the dimensions of these kinds are the digits of one hardware index (the block index
  // for tag "gidx", the thread index for "lidx"), the first dimension the most significant.
  // Returns the index's extent, the launch size.
  int64_t special(const std::vector<Axis>& kinds, const char* tag);
  int thread_index() const { return lidx_; }  // the SPECIAL lidx uop, -1 before special(.., "lidx")

  // Every assignment of values to the dimensions of one kind (kUpcast, or kUnroll), as full
  // per-dimension vectors with -1 elsewhere; each entry of `base` that is not of that kind kept.
  std::vector<std::vector<int64_t>> combos(Axis kind, const std::vector<int64_t>& base = {}) const;

  // --- addresses

  // The position and validity of st's element at the current indices, the dimensions in
  // `assign` (those >= 0) fixed to those values.
  std::pair<sym::Expr, sym::Expr> index_of(const ShapeTracker& st, const std::vector<int64_t>& assign) const;
  int lower(const sym::Expr& e);  // int32 (or bool) uops computing e
  int& dim_index(size_t d) { return dim_uop_[d]; }  // the uop holding dimension d's index
  int buffer(int buf) const { return buffers_[buf]; }  // the DEFINE_GLOBAL of kernel buffer buf
  int vector_dim() const { return vdim_; }

  // A leaf's value (BUFFER or CONST; for the output STORE, what it holds so far): a vector when
  // its position moves by one per lane, one scalar when it does not depend on the lane, else
  // one load per lane.
  Val load(const AstNode* leaf, const std::vector<int64_t>& assign);
  // Writes v to buffer buf at st's element; gate >= 0: only where that bool uop is true.
  void store(int buf, const ShapeTracker& st, const std::vector<int64_t>& assign, const Val& v, int gate);

 private:
  int load_scalar_or_vector(int buf, const sym::Expr& pos, const sym::Expr& valid, int lanes);

  const Kernel& k_;
  const Shape full_;
  UOpBuilder& b_;
  std::vector<int> buffers_;
  std::vector<int> dim_uop_;
  int vdim_ = -1;  // the vector dimension (its extent is the builder's SIMD width), if any
  int lidx_ = -1;
};

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_INDEX_LOWERING_H_
