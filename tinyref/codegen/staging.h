// Shared-memory staging for GPU reductions whose threads share inputs (optimizer_gpu.cc: the 2D
// tiles and spreads with a K-tile, both search choices): the inputs that several threads of a
// block read (stride 0 along a thread dimension) are copied once per K-tile from global into
// shared memory by all the block's threads together, and the register tiles then read them
// from there. What tinygrad's local-memory opts and llm.c's matmul kernels do; without it
// every thread re-reads its operands through L1.
//
//   matmul 4096^3, 16x16 threads, 8x8 outputs each, K-tile 16: r_32_32_256_16_16_16_8_8
//     __shared__ float part0[2112], part1[3072];    A's 128x16 tile and B's 16x128 one, padded
//     for ridx0 in 0..256:                          the first reduce dimension: a K-tile a turn
//       part0[slot(lidx0 + 256*i)] = data1[...]     every thread copies 8 elements of each,
//       part1[slot(lidx0 + 256*i)] = data2[...]     i=0..7; neighbouring threads read neighbours
//       __syncthreads()
//       for ridx1 in 0..16:                         the rest of the reduce: the tile
//         acc[r][c] += part0[...] * part1[...]      8 + 8 values for 64 multiply-adds, read
//                                                   as 2 + 2 float4s (choose_layout)
//       __syncthreads()                             before the next turn overwrites the arrays
//
// A staged tile is the product of the leaf's dimensions that vary inside one turn of the K-tile
// loop and within one block: the thread dimensions (kLocal), the register tile (kUpcast,
// kUnroll, kVector: a float4 read where the lanes are the last dimension) and the inner reduce
// dimensions, each only where the leaf's stride is not 0. The copies walk it row-major with the
// smallest global stride innermost, so that copying element t + threads*i reads global memory
// contiguously across the threads. Where it lands in the shared array is chosen by counting one
// warp's bank conflicts (choose_layout in staging.cc): shared memory serves a warp's access in as
// many passes as the most distinct 4-byte words any one of its 32 banks holds. A tensor core's
// A fragment (8 rows x 4 of K a warp) read from rows of 32 floats hits one bank 8 times; rows
// padded to 36 floats spread the 32 words over the 32 banks:
//
//   row r, K k at r*32 + k:  bank k        8 rows share each bank: 8 passes a read
//   row r, K k at r*36 + k:  bank 4r + k   32 banks, one pass
#ifndef TINYREF_CODEGEN_STAGING_H_
#define TINYREF_CODEGEN_STAGING_H_

#include <cstdint>
#include <vector>

#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/uops.h"

namespace tinyref {

struct StagedLeaf {
  int leaf = -1;                 // index into Kernel::leaves and Kernel::sts
  std::vector<size_t> dims;      // the tile's dimensions, the most significant first
  std::vector<int64_t> extents;  // each one's extent
  std::vector<int64_t> strides;  // each one's stride in the shared array (choose_layout)
  int64_t size = 1;              // elements of the tile
  int64_t array_size = 1;        // elements of the shared array: the tile, its rows' padding, a multiple of 4
  int read_dim = -1;             // the dimension the register tile reads as one aligned vector
                                 // (innermost in the array; -1: a value a load)
  int64_t read_lanes = 1;        // that vector's lanes
  int64_t lbo = 0, sbo = 0;      // warpgroup MMAs (Opt kWgmma): bytes between core matrices along
                                 // K and along the rows (uops.h, WGMMA)
};

// The leaves of the reduce that a staged kernel copies into shared memory (empty when
// k.stage_k_tiles is false, or when a staged leaf's SIMD lanes (kVector) are not its last
// dimension: a register tile reads them from shared memory as one aligned vector). Pure: the
// optimizer uses it to check that the arrays fit.
std::vector<StagedLeaf> plan_staging(const Kernel& k);

// Bytes of shared memory the plan's arrays take.
int64_t staging_bytes(const Kernel& k, const std::vector<StagedLeaf>& plan);

// What the linearizer lends the staging code to emit uops with (reduce_lowering.cc implements it).
class UOpSink {
 public:
  virtual ~UOpSink() = default;
  virtual int emit(const UOp& u) = 0;
  virtual int int_const(int64_t v) = 0;
  virtual int alu(Op op, DType dt, std::vector<int> src) = 0;  // scalar
  virtual int lower(const sym::Expr& e) = 0;  // index arithmetic; variable d is var_uop(d)
  virtual int& var_uop(size_t d) = 0;
  virtual int buffer(int buf) = 0;            // the DEFINE_GLOBAL of kernel buffer `buf`
};

// Whether a tensor-core kernel's copies round A and B to TF32 (a STORE tagged "tf32") so that its
// mmas take them as they are (MMA arg 1): where both sources of the reduce's MUL are staged
// buffers themselves. Each element is then rounded once when copied instead of once by each
// warp that reads it, six conversions fewer an mma. A source computed from a buffer ((a*a)@b)
// keeps its rounding at the mma: the copy holds `a`, not what the mma multiplies.
bool staged_as_tf32(const Kernel& k, const std::vector<StagedLeaf>& plan);

// One DEFINE_LOCAL per staged leaf (tagged "stage": reads of it may be shared between users).
std::vector<int> define_staging_arrays(const Kernel& k, const std::vector<StagedLeaf>& plan, UOpSink& sink);

// Before the K-tile loop: which element each thread copies on each turn (element thread +
// threads*i of each tile, gated where the tile is no multiple of the block) and, where the
// address is linear in the K-tile, its part that does not change from turn to turn.
struct StagingCopies {
  struct Copy {
    size_t leaf = 0;         // position in the plan
    int64_t lanes = 1;       // elements a copy: 4 where it loads a float4 (neighbours in global memory)
    int element = -1;        // uop: the copy's unit of the tile (its first element / lanes), in copy order
    int slot = -1;           // uop: its index in the shared array
    std::vector<int> digits; // uops: the element's digit of each tile dimension
    int in_range = -1;       // uop: unit < tile size / lanes, where some threads have none
    sym::Expr pos, valid;    // the global element and whether it is valid (else 0)
    int base = -1;           // uop: pos at K-tile 0, where pos is that plus K-tile * tile_stride
    int64_t tile_stride = 0;
  };
  std::vector<Copy> copies;
  std::vector<StagedLeaf> units;  // per plan leaf, the tile as the copies walk it (staging.cc: copy_order)
};
StagingCopies prepare_staging_copies(const Kernel& k, const std::vector<StagedLeaf>& plan, int thread_index,
                                     int64_t threads, UOpSink& sink);

// Inside the K-tile loop: the copies, then the barrier.
void emit_staging_copies(const Kernel& k, const std::vector<StagedLeaf>& plan, const std::vector<int>& arrays,
                         const StagingCopies& copies, UOpSink& sink);

// Prefetched (Kernel::prefetch_k_tiles), a turn stores what the turn before loaded and loads the
// next K-tile, whose global reads are then in flight while the threads multiply this one:
//
//   regs = data1[K-tile 0 ...]                    prefetch_first_k_tile: a register per copy
//   for ridx0 in 0..256:
//     part0[slot] = regs; __syncthreads()         emit_prefetched_staging_copies
//     regs = ridx0+1 < 256 ? data1[K-tile ridx0+1 ...] : 0
//     acc += part0[...] * part1[...]               the tile, as before
//     __syncthreads()
//
// Before the K-tile loop: the registers, holding K-tile 0 (a copy of zeros keeps its constant).
std::vector<int> prefetch_first_k_tile(const Kernel& k, const StagingCopies& copies, UOpSink& sink);
// Inside it: the registers stored, the barrier, the next K-tile's loads into the registers.
void emit_prefetched_staging_copies(const Kernel& k, const std::vector<StagedLeaf>& plan, const std::vector<int>& arrays,
                                    const StagingCopies& copies, const std::vector<int>& registers, UOpSink& sink);

// Asynchronous (Kernel::async_stages = S), the arrays are a ring of S and each K-tile is copied
// S - 1 turns ahead by cp.async, which skips the registers and leaves the thread free to go on:
//
//   for s in 0..S-2: copy K-tile s into ring array s; commit     start_async_k_tiles
//   for ridx0 in 0..256:
//     wait until S-2 groups are left in flight; __syncthreads()   wait_for_async_k_tile (its value:
//                                                                  ridx0 % S, for the reads)
//     copy K-tile ridx0+S-1 (if any) into ring array (ridx0+S-1)%S; commit   start_async_k_tile_ahead
//     acc += part0[ridx0%S ...] * part1[ridx0%S ...]
//
// One barrier a turn: the array a turn's copies overwrite is the one the turn before read, and
// every thread has passed that read once any thread passes this turn's barrier. The copies do
// not round to TF32 (staged_as_tf32: false); the mmas round what they read. S need not divide
// the K-tiles: a copy past the last one is skipped (its group commits empty). A ring may outgrow
// the 48 KB a CUDA kernel declares; the renderer then carves it from dynamic shared memory.
//
// The wait and the copies ahead may be apart: a warpgroup MMA runs on its own once issued, so its
// kernel issues this turn's MMAs first and the copies while they run (the copies' array is the one
// the turn before read, whose MMAs it waited for before that turn's end).
//
// In a ring of 3 or 4, a warpgroup-MMA kernel keeps a turn's MMAs running into the next turn
// (wgmma_in_flight: each turn waits for the turn before's, WGMMA_WAIT 1), so that the tensor cores
// work through the barrier; the array a turn's copies overwrite is then the one read two turns
// before, and the copies run S - 2 K-tiles ahead instead of S - 1 (async_tiles_ahead):
//
//   copy K-tiles 0..S-3 ahead; for t: wait for K-tile t; barrier; MMAs on t % S; commit;
//   copy K-tile t+S-2 into (t+S-2) % S = (t-2) % S; wait until one MMA group is left (t's)
//   after the loop: wait for the last
bool wgmma_in_flight(const Kernel& k);
int64_t async_tiles_ahead(const Kernel& k);
void start_async_k_tiles(const Kernel& k, const std::vector<int>& arrays, const StagingCopies& copies, UOpSink& sink);
int wait_for_async_k_tile(const Kernel& k, UOpSink& sink);
void start_async_k_tile_ahead(const Kernel& k, const std::vector<int>& arrays, const StagingCopies& copies, UOpSink& sink);

// The load of the value a register tile reads: assign holds the unrolled dimensions' values (-1
// elsewhere); the other tile dimensions are their var_uop. Where the leaf has a read_dim, one
// aligned vector load: the value itself where read_dim is vector_dim (the kernel's SIMD lanes),
// else the wanted lane of it (the other lanes' loads are the same uop, shared). `ring`: the ring
// array to read (a uop; -1: the only one).
int emit_staged_read(const StagedLeaf& s, int array, DType dtype, std::vector<int64_t> assign, int vector_dim,
                     UOpSink& sink, int ring = -1);
// The index in a staged array (ring: as above) of the element at `assign`: constants where >= 0,
// the dimensions' var_uop elsewhere. A warpgroup MMA's operand starts there.
int staged_index(const StagedLeaf& s, const std::vector<int64_t>& assign, UOpSink& sink, int ring = -1);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_STAGING_H_
