// A kernel before linearization: the AST's ShapeTrackers laid side by side over one shared
// "full shape", and a type for each dimension saying how the linearizer will walk it. The
// optimizers (optimizer.h) change a Kernel only through apply(Opt), which splits, moves and
// retypes dimensions, so the result computes what the kernel did.
//
//   Kernel k(item.ast, {{DType::kFloat32, 64}, {DType::kFloat32, 4096}});
//   k.full_shape()          // (64, 64): output dim, reduce dim
//   k.axes                  // {kGlobal, kReduce}
//   k.apply({OptKind::kUpcast, 0, 4});   // (16, 64, 4): 4 outputs per iteration
//   k.name()                // "r_16_64_4"
//   to_string(k.applied)    // "upcast 0 4"
//
// Dimension order is loop order: kGlobal loops (and kOuterReduce among them) outermost, then
// kGroup, then kReduce; the unrolled kinds (kUpcast, kUnroll, kVector) come last and are not
// loops. On a GPU the kGlobal, kLocal and kGroup dimensions are no loops either: each is a digit
// of the block or thread index, the earlier dimension the more significant one.
#ifndef TINYREF_CODEGEN_KERNEL_H_
#define TINYREF_CODEGEN_KERNEL_H_

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinyref/codegen/opt.h"
#include "tinyref/codegen/uops.h"
#include "tinyref/schedule/ast.h"
#include "tinyref/shape/shapetracker.h"

namespace tinyref {

enum class Axis {
  kGlobal,  // an output loop (the first one may run in parallel); on a GPU, the block index
  kLocal,   // GPU: an output dimension spread over the threads of a block
  kGroup,   // a reduce loop split off to run in parallel, each iteration a partial result
            // (GPU: each thread of the block one partial, combined through shared memory)
  kReduce,  // a reduce loop
  kUpcast,  // an output dimension computed by unrolled code (several accumulators)
  kUnroll,  // a reduce dimension unrolled into the loop body
  kVector,  // one dimension computed as SIMD lanes (output or reduce)
  kOuterReduce,  // CPU: a reduce loop among the output loops; each of its iterations adds its
                 // share into the output buffer, which is cleared first (a weight gradient: the
                 // batch outside the weight loops, so a few images' data stay in cache while
                 // every weight uses them)
  kTensorCore,   // GPU: the 8 of the reduce that one tensor-core mma adds up (no loop: each lane
                 // holds two of the 8 in each fragment register; TensorCoreDims)
};

const char* axis_name(Axis a);

// Where a tensor-core kernel's mma sits (Opt kTensorCore): five dimensions of the kernel. A warp
// computes a 16x8 tile of outputs, 8 of the reduce at a time; its lane is row_lane * 4 + col_lane
// (the two least significant digits of the thread index). PTX's layout of mma.m16n8k8 .tf32
// (groupID = lane / 4 = row_lane, threadID_in_group = lane % 4 = col_lane), per lane:
//   the outputs d0..d3 (and accumulators c0..c3): d_i at row row_lane + 8 * row_hi and column
//                 2 * col_lane + col_pair, where row_hi = i / 2 and col_pair = i % 2
//   A's a0..a3:   a_i at row row_lane + 8 * (i % 2), K col_lane + 4 * (i / 2)
//   B's b0, b1:   b_j at K col_lane + 4 * j, column row_lane
// The outputs are an ordinary register tile (row_hi, col_pair: kUpcast) over thread digits
// (row_lane, col_lane: kLocal); A and B are read with the lane's digits moved to where their
// fragments need them (reduce_lowering.cc).
//
// Warpgroup MMAs (Opt kWgmma, compute capability 9.0): the same lanes and outputs, but 4 warps
// (a warpgroup) multiply 64 rows x N columns x 8 of K in one instruction that reads A and B from
// shared memory itself, so no lane loads a fragment. The warps are the 4 low values of `warp`,
// the thread digit above the lanes (rows 16 apart); the N columns are `tiles_n` 8-column tiles
// (kUpcast). The mma's K is split into k_hi (2) x k (4): shared memory holds it as two core
// matrices of 4 (uops.h, WGMMA), each its own stride.
struct TensorCoreDims {
  int row_hi = -1, row_lane = -1;    // the tile's 16 rows: 2 (kUpcast) x 8 (kLocal)
  int col_lane = -1, col_pair = -1;  // its 8 columns: 4 (kLocal) x 2 (kUpcast)
  int k = -1;                        // the mma's 8 of the reduce (kTensorCore); with wgmma its 4
  int a_src = 0;                     // which source of the reduce's MUL is A (rows x K); the other is B
  // Set by Opt kWgmma (Kernel::issues_wgmma), else -1:
  int k_hi = -1;                     // the mma's K / 4 (kTensorCore, 2)
  int warp = -1;                     // the warp digit (kLocal): warp % 4 within the warpgroup
  int tiles_n = -1;                  // the warpgroup's 8-column tiles (kUpcast; -1: one tile)
  // The dimension indices above, to move with the kernel's dimensions (those set).
  std::vector<int*> positions();
};

class Kernel {
 public:
  Kernel(const AstRef& ast, std::vector<BufferArg> bufs);

  AstRef ast;
  std::vector<BufferArg> bufs;
  std::vector<const AstNode*> leaves;  // leaves[0] is the STORE, then every BUFFER/CONST node
  std::vector<ShapeTracker> sts;       // one per leaf, all of ndim() dimensions
  std::vector<Axis> axes;              // one per dimension
  const AstNode* reduce = nullptr;     // the kernel's reduce, if any
  bool parallel = false;               // the outermost loop runs on several threads
  bool gpu = false;                    // kGlobal/kLocal/kGroup become block and thread indices
  bool stage_k_tiles = false;          // GPU: the first reduce dimension loops over K-tiles, each
                                       // staged in shared memory (staging.h)
  bool prefetch_k_tiles = false;       // ...and loaded one turn ahead into registers (Opt kPrefetch)
  int async_stages = 0;                // ...or copied by cp.async into a ring of this many (Opt kAsync)
  int pack_leaf = -1;                  // CPU: the input copied into a packed panel (packing.h)...
  int pack_at = -1;                    // ...at the top of each iteration of this output (or chunk) loop
  std::optional<TensorCoreDims> tensor_core;  // GPU: the reduce runs on tensor cores (Opt kTensorCore)
  bool issues_wgmma() const { return tensor_core && tensor_core->k_hi >= 0; }  // ...as warpgroup MMAs (Opt kWgmma)
  std::vector<Opt> applied;            // the optimizations, in order: replayed, they rebuild this

  // Whether `opt` applies to this kernel as it is now; if not, why (in *why, if given).
  bool can_apply(const Opt& opt, std::string* why = nullptr) const;
  // Applies `opt` (throws tinyref::Error naming the reason where can_apply says no) and records it.
  void apply(const Opt& opt);

  size_t ndim() const { return axes.size(); }
  Shape full_shape() const;
  const Shape& out_shape() const { return sts[0].shape(); }
  bool is_reduce_dim(size_t d) const { return out_shape()[d] == 1 && full_shape()[d] != 1; }
  int st_index(const AstNode* leaf) const { return leaf_index_.at(leaf); }
  const BufferArg& leaf_buffer(size_t leaf) const { return bufs[leaves[leaf]->buf]; }  // of a STORE or BUFFER leaf
  int first_of(Axis a) const;  // the first dimension of that kind, or -1
  int last_of(Axis a) const;   // the last dimension of that kind, or -1
  std::vector<size_t> dims(Axis a) const;  // the dimensions of that kind, in order
  int64_t extent(Axis a) const;            // the product of their extents
  int64_t upcast_size() const; // product of the unrolled dimensions (kUpcast, kUnroll, kVector)
  // The float dtype in which the kernel can run on SIMD lanes: every buffer it reads or writes
  // has it, and so has every value that feeds the reduce (or every value, without a reduce),
  // each computed by an op with a vector form. Ops after the reduce may be any: the linearizer
  // computes those lane by lane.
  std::optional<DType> lane_dtype() const;
  // How leaf i moves along dimension d: 0 where it does not, nullopt where no single stride says
  // (a mask or a second view there).
  std::optional<int64_t> stride(size_t leaf, size_t d) const;
  // Leaf i's buffer position and validity (ShapeTracker::expr) with sym variable d standing for
  // dimension d's index (0 where the leaf's extent is 1).
  std::pair<sym::Expr, sym::Expr> leaf_expr(size_t leaf) const;
  // Whether leaf i's position or validity depends on dimension d: where no single stride says,
  // as for a padded image's views, the expressions do.
  bool moves_along(size_t leaf, size_t d) const;
  // Whether leaf i is read through a sliding window: one step along one of the output dimensions
  // `outs` and one along one of the reduce dimensions `reduces` move it the same way (an image
  // row at output column + kernel column). Probed from the middle of the shape, where a padded
  // image is valid.
  bool window_along(size_t leaf, const std::vector<size_t>& outs, const std::vector<size_t>& reduces) const;
  // Whether a buffer the reduction reads (at every point of the kernel) has stride 0 along d:
  // computing several outputs of d at once then keeps its value in a register for all of them.
  bool reused_along(size_t d) const;
  // Whether padding reduce dimension d adds only zeros: the reduce is a SUM of a MUL of two
  // BUFFER leaves that both move along d, so both read 0 in the padding (Opt kPad).
  bool padded_terms_are_zero(size_t d) const;

  std::string name() const;  // E_ (elementwise) or r_ (reduce), then the extents

 private:
  // Drops size-1 dimensions and merges neighbouring loops of one kind that every ShapeTracker
  // can merge without a new view.
  void merge_dims();
  // Splits dimension d of extent n into (n / amount) at d, keeping its kind, and a new last
  // dimension of extent `amount` and kind `inner` (a loop kind goes last among the loops).
  void split(size_t d, int64_t amount, Axis inner);
  // Moves dimension `from` to position `to` in every ShapeTracker.
  void move(size_t from, size_t to);
  void permute_dims(const std::vector<int>& perm);  // every ShapeTracker, the kinds and tensor_core
  void group(size_t d, int64_t amount);
  void pad(size_t d, int64_t multiple);
  void stream(size_t d, int64_t chunks);
  void stage(size_t d, int64_t k_tile);
  bool can_pack(const Opt& o, std::string* reason) const;
  void use_tensor_cores(int choice);
  bool can_use_wgmma(std::string* reason) const;
  void use_wgmma();

  void reshape_all(const std::vector<Shape>& shapes);
  std::unordered_map<const AstNode*, int> leaf_index_;
};

// The ways a kernel can run on tensor cores (Opt kTensorCore's axis indexes this list): a GPU
// kernel with no optimization yet whose reduce is a float32 SUM of a MUL, with an output
// dimension m (a multiple of 16) along which the MUL's B source is constant, another one n (a
// multiple of 8) along which its A source is, and a reduce dimension k (a multiple of 8): a
// matmul, a batched matmul, a convolution's channels. Empty where none fits. (A conv's rows of
// 20 pixels are no such n, nor a weight gradient's sum over them such a k; Opt kPad, applied
// first, makes them 24.)
struct TensorCoreChoice {
  size_t m, n, k;
  int a_src;
};
std::vector<TensorCoreChoice> tensor_core_choices(const Kernel& k);

// Whether a kernel with no optimization yet is a convolution's (its forward pass, or either
// gradient): some input of its reduce is read through a sliding window, one step along an output
// dimension and one along a reduce dimension moving it the same way (an image row at output column
// + kernel column; a weight gradient's kernel row and the image row it sums over). A matmul's
// inputs each move along one of the two kinds only. Probed at the middle of the shape, where a
// padded image is valid. CodegenOptions::tf32's kConvolutions asks this.
bool is_convolution(const Kernel& k);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_KERNEL_H_
