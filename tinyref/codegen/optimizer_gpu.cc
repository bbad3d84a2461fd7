// The GPU half of optimizer.h. A GPU runs one thread per output (or per register tile of
// outputs), in blocks; the heuristics decide which output dimensions become the digits of the
// thread index (kLocal), which stay the block index (kGlobal), what each thread computes
// several of (kUpcast), and when a reduction is split across the threads of a block (kGroup).
//
//   matmul 1024^3 (default):    r_16_16_256_16_16_4_4_4   16x16 blocks of 16x16 threads, a 4x4
//                               tile of outputs per thread, the K loop unrolled by 4
//   sum of 65536 floats:        one block of 256 threads, each adding 256 numbers, then shared
//                               memory and a barrier to combine the 256 partials
//   conv weight gradient:       a block per 4x4 tile of weights, a thread per output pixel (the
//                               innermost reduce dimensions), the batch as the loop
//   matmul 4096^3, staged       r_32_32_128_16_16_32_8_8  32x32 blocks of 16x16 threads, 8x8
//   (what an H100 picks):       outputs a thread; each of the 128 turns of the K loop first copies
//                               A's 128x32 and B's 32x128 tile into shared memory (staging.h)
//
// Each kind has a few variants (block size, outputs a thread, float4 columns, shared-memory
// staging), each a list of Opts, that engine/search.h times on the device. As on the CPU, each
// Opt only splits, moves and retypes dimensions (staging also marks the kernel:
// Kernel::stage_k_tiles).
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/staging.h"
#include "tinyref/env.h"
#include "tinyref/error.h"

namespace tinyref {

namespace {

// The largest power of two that divides n and is at most cap.
int64_t pow2_divisor(int64_t n, int64_t cap) {
  int64_t f = 1;
  while (f * 2 <= cap && n % (f * 2) == 0) f *= 2;
  return f;
}

// The choices the search may try, the default first (256 threads a block suits every NVIDIA
// GPU since Kepler): threads per block for a group reduce or a spread, how many outputs a
// thread computes along the first and the second dimension where an input is reused (8x8: a
// quarter of the loads per multiply-add of 4x4, and 64 accumulators), and for a spread the
// K-tile staged in shared memory (0: none; staging.h).
struct Choice {
  int64_t threads;
  int64_t upcast[2];
  int64_t k_tile;
  bool upcast_first = false;  // spread: the outputs a thread first, the threads from what is left
};
// upcast[1] == kWholeLast: the second upcast takes the innermost reused dimension whole (at most
// 8), however long: a conv weight gradient's kx, whose neighbouring loads of the image overlap
// (a thread's 5 loads are its neighbours' too, so the L1 cache serves most of them).
constexpr int64_t kWholeLast = -1;
// A group reduce leaves threads x outputs partials in shared memory: more outputs, fewer threads.
constexpr Choice kGroupChoices[] = {{256, {4, 4}, 0},         {128, {4, 4}, 0},         {512, {4, 4}, 0},
                                    {128, {8, 8}, 0},         {64, {8, 8}, 0},          {256, {8, 4}, 0},
                                    {128, {8, 4}, 0},         {1024, {4, 4}, 0},        {128, {8, kWholeLast}, 0},
                                    {256, {8, kWholeLast}, 0}, {128, {4, kWholeLast}, 0}};
// The choices past the first four change only a reduction (the rest are no choice for an
// elementwise kernel, whose list ends there).
constexpr Choice kSpreadChoices[] = {{256, {4, 4}, 0},  {128, {4, 4}, 0},  {512, {4, 4}, 0}, {64, {4, 4}, 0},
                                     {256, {8, 8}, 0},  {128, {8, 8}, 0},  {64, {8, 8}, 0},  {128, {8, 4}, 0},
                                     {256, {4, 4}, 16}, {128, {8, 8}, 16}, {64, {8, 8}, 16},
                                     {128, {8, 8}, 0, true}, {64, {8, 8}, 0, true}, {128, {8, 8}, 16, true}};
constexpr int kElementwiseSpreadChoices = 4;

// Splits off upcast[0] outputs a thread along the first output dimension where an input is
// reused (and `fits` says the rest divides), upcast[1] along the second.
// False where upcast[1] is kWholeLast and no dimension qualifies.
bool upcast_reused(Kernel& k, const int64_t (&upcast)[2], const std::function<bool(size_t, int64_t)>& fits) {
  const Shape full = k.full_shape();
  const std::vector<size_t> globals = k.dims(Axis::kGlobal);
  std::vector<std::pair<size_t, int64_t>> splits;
  for (size_t d : globals) {
    if (splits.size() < (upcast[1] == kWholeLast ? 1u : 2u) && fits(d, upcast[splits.size()]) && k.reused_along(d)) {
      splits.push_back({d, upcast[splits.size()]});
    }
  }
  if (upcast[1] == kWholeLast) {
    const size_t last = globals.empty() ? 0 : globals.back();
    if (globals.empty() || (!splits.empty() && splits[0].first == last) || full[last] > 8 || !fits(last, full[last]) ||
        !k.reused_along(last)) {
      return false;
    }
    splits.push_back({last, full[last]});
  }
  for (const auto& [d, n] : splits) k.apply({OptKind::kUpcast, static_cast<int>(d), n});
  return true;
}
// A tile: threads per side, outputs per thread per side, whether each thread's columns are
// contiguous and read and written as float4 (float32 only), the K-tile staged in shared
// memory (0: none, every thread reads its operands from global memory), and whether the lanes
// of a warp pair up (tile_2d).
struct Tile {
  int64_t threads, outputs;
  bool vector;
  int64_t k_tile;
  bool paired = false;
};
constexpr Tile kTiles[] = {{16, 4, false, 0},  {16, 8, false, 0},  {8, 8, false, 0},   {8, 4, false, 0},
                           {32, 4, false, 0},  {16, 8, true, 0},   {16, 4, true, 0},   {8, 8, true, 0},
                           {16, 8, false, 16}, {16, 8, false, 8},  {16, 4, false, 16}, {16, 8, false, 32},
                           {8, 8, false, 16},  {16, 8, true, 16},  {16, 8, true, 32},  {16, 8, true, 16, true},
                           {16, 8, true, 32, true}, {16, 8, true, 8, true}, {8, 8, true, 16, true}, {8, 8, true, 32, true}};

// Every buffer and every value float32: the only vector type the CUDA renderer has.
bool all_float32(const Kernel& k) {
  bool ok = true;
  std::function<void(const AstNode*)> walk = [&](const AstNode* n) {
    ok = ok && n->dtype == DType::kFloat32;
    for (const AstRef& s : n->src) walk(s.get());
  };
  walk(k.ast.get());
  return ok;
}

// A long reduction: one block per output (or per few outputs), its threads each reducing a
// strided share of the reduction. The threads take the innermost reduce dimensions whole (and
// a divisor of the next), so neighbouring threads read neighbouring elements: for a conv weight
// gradient, a thread per output pixel and the batch as the loop. Outputs along which an input
// is reused are computed four at a time, as on the CPU.
//
// group_threads plans it (each reduce dimension that gets threads, innermost first, and how
// many; empty when fewer than 32 threads would fit), group_reduce applies a plan.
using GroupPlan = std::vector<std::pair<size_t, int64_t>>;

GroupPlan group_threads(const Kernel& k, int64_t block_threads) {
  const Shape full = k.full_shape();
  std::vector<size_t> reduces = k.dims(Axis::kReduce);
  GroupPlan threads;
  int64_t total = 1;
  for (size_t i = reduces.size(); i-- > 0 && total < block_threads;) {
    const int64_t t = sym::divisor_at_most(full[reduces[i]], block_threads / total);
    if (t == 1) break;
    threads.push_back({reduces[i], t});
    total *= t;
    if (t < full[reduces[i]]) break;  // a partial dimension: the next one out would not be contiguous
  }
  if (total < 32) threads.clear();
  return threads;
}

bool group_reduce(Kernel& k, const GroupPlan& threads, const int64_t (&upcast)[2]) {
  const Shape full = k.full_shape();
  if (!upcast_reused(k, upcast, [&](size_t d, int64_t n) { return full[d] % n == 0; })) return false;
  // Whole dimensions become thread digits where they are, in order (the innermost the least
  // significant); a partial one's threads are a more significant digit than theirs (Kernel::apply).
  for (const auto& [d, t] : threads) {
    if (t == full[d]) k.apply({OptKind::kGroup, static_cast<int>(d), t});
  }
  if (const auto [d, t] = threads.back(); t != full[d]) k.apply({OptKind::kGroup, static_cast<int>(d), t});
  return true;
}

// Whether a matmul-shaped 2D tile fits: two output dimensions, each with an input reused along
// it, each a multiple of the tile's span.
bool tile_2d_fits(const Kernel& k, const Tile& t) {
  if (t.vector && (t.outputs % 4 != 0 || !all_float32(k))) return false;
  if (t.paired && (!t.vector || t.k_tile == 0 || t.threads % 2 != 0)) return false;
  const int64_t threads_per_side = t.threads, tile = t.outputs;
  std::vector<size_t> globals = k.dims(Axis::kGlobal);
  if (globals.size() < 2) return false;
  const size_t rows = globals[globals.size() - 2], cols = globals.back();
  const Shape full = k.full_shape();
  const int64_t span = threads_per_side * tile;
  return k.reused_along(rows) && k.reused_along(cols) && full[rows] % span == 0 && full[cols] % span == 0;
}

// A square of threads per block, and a register tile per thread, strided by the thread count
// so that neighbouring threads read and write neighbouring elements. A vector tile instead
// gives each thread contiguous columns, four at a time in one float4 (one 128-bit access).
//
// A paired tile (staged, vector) also gives each thread 4 contiguous rows, and orders the thread
// index's digits so that a warp's lanes pair up: lane bit 0 is a row digit, so lanes l and l ^ 1
// read the same columns of B, and bit 1 a column digit, so l and l ^ 2 read the same rows of A.
// Staged, each thread then reads a step of K as two float4s of A and two of B, and shared memory
// serves each float4 read in two passes instead of four (staging.cc, bank_passes): 8 passes per
// 64 multiply-adds where the plain vector tile takes 16 (the warps of a block share one shared
// memory, which returns 128 bytes a cycle; the multiply-adds of 4 warps take 64 cycles).
//   16x16 threads, 8x8 outputs:  row = ((u_r*2 + t_r2)*8 + t_r8)*4 + v_r     u: upcast, t: thread
//                                col = ((u_c*2 + t_c2)*8 + t_c8)*4 + v_c     v: a float4's lanes
//                                thread index = t_r8*32 + t_c8*4 + t_c2*2 + t_r2
void tile_2d(Kernel& k, const Tile& t) {
  std::vector<size_t> globals = k.dims(Axis::kGlobal);
  const size_t rows = globals[globals.size() - 2], cols = globals.back();
  // Splits of rows first: a later split is a less significant digit of the thread index, and the
  // column threads should be the fastest (they read and write contiguously).
  const auto apply = [&](OptKind kind, size_t d, int64_t n) { k.apply({kind, static_cast<int>(d), n}); };
  if (t.paired) {
    apply(OptKind::kUpcast, rows, 4);
    apply(OptKind::kLocal, rows, t.threads / 2);
    apply(OptKind::kVector, cols, 4);
    apply(OptKind::kLocal, cols, t.threads / 2);
    apply(OptKind::kLocal, cols, 2);
    apply(OptKind::kLocal, rows, 2);
    if (t.outputs > 4) apply(OptKind::kUpcast, cols, t.outputs / 4);
    if (t.outputs > 4) apply(OptKind::kUpcast, rows, t.outputs / 4);
    return;
  }
  apply(OptKind::kLocal, rows, t.threads);
  if (t.vector) {
    // The lane innermost, then the threads, then the float4s of a thread: neighbouring threads
    // take neighbouring float4s (col = u*64 + thread*4 + lane for 16 threads and 8 outputs). A
    // quarter-warp's 128-bit reads of a staged row then cover 128 contiguous bytes, one pass of
    // the 32 banks; with a thread's 8 columns side by side they were 32 bytes apart, two passes.
    apply(OptKind::kVector, cols, 4);
    apply(OptKind::kLocal, cols, t.threads);
    if (t.outputs > 4) apply(OptKind::kUpcast, cols, t.outputs / 4);
  } else {
    apply(OptKind::kLocal, cols, t.threads);
    apply(OptKind::kUpcast, cols, t.outputs);
  }
  apply(OptKind::kUpcast, rows, t.outputs);
}

// Adds a variant, staged where k_tile > 0: the reduce loop split into a loop over K-tiles (the
// first reduce dimension) and the rest, about k_tile deep with the unrolled part, the kernel
// marked for staging (staging.h). None where no input is shared by threads, or each thread would
// copy more than kMaxCopies elements a tile; only rings (below) where the arrays outgrow the 48 KB
// a kernel declares, and none where even a ring of 2 outgrows the GPU's opt-in limit. (The
// copies are unrolled, and 8 threads copying a conv's tiles took 20000 instructions that NVRTC
// compiled for minutes.) Beside a staged variant, the same with each K-tile loaded a turn ahead
// (Opt kPrefetch) where that holds at most kMaxPrefetched values a thread in registers. Which one
// is faster depends on whether the blocks an SM holds at once hide global memory's latency by
// themselves, and on whether the registers cost a block a place (on an H100, 4096^3: the 16x16
// tile of 8x8 outputs, K-tile 16, 3.80 -> 3.12 ms prefetched; the paired one 3.29 -> 4.30 ms).
//
// With `wgmma`, the staged kernel's warpgroups issue warpgroup MMAs (Opt kWgmma) on the tiles,
// none where they cannot.
void add_variant(std::vector<Kernel>& variants, Kernel k, int64_t k_tile, const CodegenOptions& options,
                 bool wgmma = false) {
  if (k_tile == 0) {
    variants.push_back(std::move(k));
    return;
  }
  const Opt stage{OptKind::kStage, k.first_of(Axis::kReduce), k_tile};
  if (!k.can_apply(stage)) return;
  k.apply(stage);
  if (wgmma) {
    const Opt warpgroups{OptKind::kWgmma, k.first_of(Axis::kReduce), 64};
    if (!k.can_apply(warpgroups)) return;
    k.apply(warpgroups);
  }
  const std::vector<StagedLeaf> plan = plan_staging(k);
  constexpr int64_t kMaxCopies = 64;  // MNIST's staged convs copy 4 to 62 elements a thread
  constexpr int64_t kMaxPrefetched = 32;
  constexpr int64_t kMaxStages = 4;  // K-tiles in flight: CUTLASS's Ampere kernels use 3 to 5
  int64_t elements = 0;
  for (const StagedLeaf& s : plan) elements += s.size;
  const int64_t threads = k.extent(Axis::kLocal);
  if (plan.empty() || elements > kMaxCopies * threads) return;
  // Arrays past 48 KB only as a ring (below): the synchronous kernels keep to what they declare.
  const bool fits_statically = staging_bytes(k, plan) <= options.max_shared_bytes;
  const Opt ahead{OptKind::kPrefetch, k.first_of(Axis::kReduce), 1};
  std::vector<Kernel> more;
  if (fits_statically && elements <= kMaxPrefetched * threads && k.can_apply(ahead)) {
    more.push_back(k);
    more.back().apply(ahead);
  }
  // (cp.async's copies here are the CUDA prefix's tt_copy_async16/4: float32 arrays.)
  const bool float32 = std::all_of(plan.begin(), plan.end(), [&](const StagedLeaf& s) { return k.leaf_buffer(s.leaf).dtype == DType::kFloat32; });
  // A ring may outgrow the 48 KB a kernel declares: past it, the arrays come from dynamic shared
  // memory (cuda_renderer.h), up to what the GPU allows a block that opts in.
  const int64_t ring_bytes = std::max(options.max_shared_bytes, options.max_shared_bytes_opt_in);
  for (int64_t stages = 2; options.async_copies && float32 && stages <= kMaxStages; ++stages) {
    const Opt ring{OptKind::kAsync, k.first_of(Axis::kReduce), stages};
    if (!k.can_apply(ring)) break;
    Kernel async = k;
    async.apply(ring);
    if (staging_bytes(async, plan) > ring_bytes) break;  // (the ring's arrays, all S)
    more.push_back(std::move(async));
  }
  if (fits_statically) variants.push_back(std::move(k));
  for (Kernel& m : more) variants.push_back(std::move(m));
}

// Everything else: up to a block of threads over the innermost output dimensions, and for a
// reduction a few outputs per thread along dimensions where an input is reused.
//
// Threads first suits a wide output; where the threads would use up a reused dimension (conv3's
// 32 input channels), upcast_first keeps 8 of it for each thread's register tile.
void spread(Kernel& k, const Choice& c) {
  if (k.reduce && c.upcast_first) {
    const Shape before = k.full_shape();
    upcast_reused(k, c.upcast, [&](size_t d, int64_t n) { return before[d] % n == 0; });  // no kWholeLast here
  }
  std::vector<size_t> globals = k.dims(Axis::kGlobal);
  const Shape full = k.full_shape();
  // Budget the threads innermost first (the contiguous output), then split outermost first so
  // the innermost dimension's threads end up the least significant digit.
  std::vector<int64_t> threads(k.ndim(), 1);
  int64_t left = c.threads;
  for (size_t i = globals.size(); i-- > 0;) {
    threads[globals[i]] = pow2_divisor(full[globals[i]], left);
    left /= threads[globals[i]];
  }
  if (k.reduce && !c.upcast_first) upcast_reused(k, c.upcast, [&](size_t d, int64_t n) { return full[d] / threads[d] % n == 0; });
  for (size_t d : globals) {
    if (threads[d] > 1) k.apply({OptKind::kLocal, static_cast<int>(d), threads[d]});
  }
}

// A lone accumulator per loop iteration waits on each load: unrolling the innermost reduce loop
// lets the loads of several iterations be in flight together.
void unroll_reduce(Kernel& k, const CodegenOptions& options) {
  std::vector<size_t> reduces = k.dims(Axis::kReduce);
  if (reduces.empty()) return;
  const size_t d = reduces.back();
  if (k.full_shape()[d] % 4 == 0 && k.upcast_size() * 4 <= options.max_upcast) k.apply({OptKind::kUnroll, static_cast<int>(d), 4});
}

// Tensor cores (Kernel: Opt kTensorCore): each warp a register tile of 16x8 mma tiles, the
// block a few warps. Per step of 8 along K a warp loads 4 + 2 fragment values a lane for each
// tile along m and n, and issues tiles_m x tiles_n mmas: the larger tile reuses more (4x8 tiles,
// 64x64 outputs: 32 loads a lane for 32 mmas; 2x4: 16 for 8), at 4 accumulators a tile.
// Staged (k_tile > 0), the block's warps first copy each K-tile of A and B into shared memory
// (staging.h) and read their fragments from there.
struct WarpTile {
  int64_t warps[2];  // warps a block along m and n
  int64_t tiles[2];  // 16x8 tiles a warp along m and n
  int64_t k_tile;
};
constexpr WarpTile kWarpTiles[] = {{{2, 2}, {2, 4}, 0},  {{2, 2}, {4, 4}, 0},  {{4, 2}, {2, 4}, 0},
                                   {{2, 4}, {4, 2}, 0},  {{2, 2}, {2, 2}, 0},  {{1, 1}, {2, 2}, 0},
                                   {{1, 1}, {1, 1}, 0},  {{2, 2}, {4, 4}, 32}, {{2, 2}, {2, 4}, 32},
                                   {{4, 2}, {2, 4}, 32}, {{4, 2}, {2, 4}, 16}, {{2, 2}, {4, 8}, 32},
                                   {{2, 2}, {4, 8}, 16}, {{2, 4}, {4, 4}, 32}, {{2, 4}, {4, 8}, 32},
                                   {{4, 2}, {4, 8}, 32}, {{2, 4}, {4, 8}, 16}};

// Warpgroup MMAs (Opt kWgmma): warpgroups of 4 warps along m (16 rows each) and along n, each
// warpgroup tiles_m tiles of 64 rows by tiles_n 8-column tiles (one instruction of N = 8 tiles_n
// columns per 64 rows and 8 of K). tiles_m x tiles_n / 2 accumulators a thread: at most 128 (of
// 255 registers). The blocks are CUTLASS's TF32 ones; the n warpgroups' digit goes above the m
// warps' (applied first: a later thread split is a less significant digit), so that each
// warpgroup's 4 warps are 4 row tiles.
struct WgmmaTile {
  int64_t warpgroups[2];  // along m and n
  int64_t tiles_m, tiles_n, k_tile;
};
constexpr WgmmaTile kWgmmaTiles[] = {{{2, 1}, 1, 32, 32}, {{2, 1}, 1, 16, 32}, {{1, 1}, 2, 16, 32}, {{1, 2}, 1, 16, 32},
                                     {{2, 1}, 2, 16, 32}, {{2, 1}, 1, 32, 16}, {{1, 1}, 1, 8, 16}};

// A convolution's warp tiles also take image rows. With n a row's pixels, e is the innermost
// output dimension beside m and n (the rows): a warp takes all of a row's 8-pixel tiles (up to
// 4), tiles_m channel tiles and tiles_e rows, the block warps_e warps down the image. A weight
// fragment then serves tiles_n * tiles_e mmas. Staged, only the weights go to shared memory
// (their fragments gather 32 rows 25 or 800 floats apart: 32 sectors a load from L1); the image
// is read through L1, where the overlapping windows hit (staging.cc).
struct RowTile {
  int64_t warps_e, tiles_m, tiles_e, k_tile;
};
constexpr RowTile kRowTiles[] = {{4, 2, 2, 16}, {4, 2, 2, 0}, {4, 2, 1, 16}, {4, 2, 1, 0}, {2, 2, 4, 16},
                                 {4, 2, 5, 16}, {5, 2, 2, 16}, {5, 2, 4, 16}, {4, 4, 2, 16}, {2, 4, 4, 16}};

// Applies opts in order while each applies (amount 1: skipped); false where one does not.
bool apply_all(Kernel& k, std::initializer_list<Opt> opts) {
  for (const Opt& o : opts) {
    if (o.amount == 1) continue;
    if (!k.can_apply(o)) return false;
    k.apply(o);
  }
  return true;
}

// A weight gradient's m and n are channels; its other output dimensions are the kernel's offsets
// (ky, kx). The block's warps take all of the innermost, e (kx): the output gradient they read is
// the same for each offset and the image only shifted by one, so each warp's loads hit in L1 what
// its neighbours loaded.
struct OffsetTile {
  int64_t tiles_m, tiles_n, k_tile;
};
constexpr OffsetTile kOffsetTiles[] = {{2, 4, 0}, {2, 2, 0}, {1, 4, 0}, {1, 2, 0}, {1, 1, 0}, {2, 4, 16}, {2, 2, 16}};

std::vector<Kernel> tensor_core_variants(const Kernel& k, const CodegenOptions& options) {
  // The kernel itself, and where its innermost output dimension that is no multiple of 8 would
  // be one with at most a third more (a conv's 20-wide rows: 24), that dimension padded; the same
  // for its innermost reduce dimension (a weight gradient's sum along those rows).
  std::vector<Kernel> bases = {k};
  const Shape full = k.full_shape();
  for (Axis kind : {Axis::kGlobal, Axis::kReduce}) {
    for (size_t d = k.ndim(); d-- > 0;) {
      if (k.axes[d] != kind || full[d] % 8 == 0) continue;
      if ((full[d] + 7) / 8 * 8 * 3 <= full[d] * 4 && k.can_apply({OptKind::kPad, static_cast<int>(d), 8})) {
        bases.push_back(k);
        bases.back().apply({OptKind::kPad, static_cast<int>(d), 8});
      }
      break;
    }
  }
  std::vector<Kernel> out;
  for (const Kernel& base : bases) {
    const std::vector<TensorCoreChoice> choices = tensor_core_choices(base);
    for (size_t c = 0; c < choices.size(); ++c) {
      Kernel tc = base;
      tc.apply({OptKind::kTensorCore, static_cast<int>(c), 8});
      // The old dimensions keep their places: m / 16 at m, n / 8 at n.
      const int m = static_cast<int>(choices[c].m), n = static_cast<int>(choices[c].n);
      for (const WarpTile& w : kWarpTiles) {
        Kernel trial = tc;
        if (apply_all(trial, {{OptKind::kLocal, m, w.warps[0]}, {OptKind::kLocal, n, w.warps[1]},
                              {OptKind::kUpcast, m, w.tiles[0]}, {OptKind::kUpcast, n, w.tiles[1]}})) {
          add_variant(out, std::move(trial), w.k_tile, options);
        }
      }
      for (const WgmmaTile& w : kWgmmaTiles) {
        Kernel trial = tc;
        if (options.wgmma && apply_all(trial, {{OptKind::kLocal, n, w.warpgroups[1]}, {OptKind::kLocal, m, 4 * w.warpgroups[0]},
                                               {OptKind::kUpcast, m, w.tiles_m}, {OptKind::kUpcast, n, w.tiles_n}})) {
          add_variant(out, std::move(trial), w.k_tile, options, true);
        }
      }
      const Shape tc_full = tc.full_shape();
      int e = -1;
      for (int d = 0; d < static_cast<int>(tc.ndim()); ++d) {
        if (tc.axes[d] == Axis::kGlobal && d != m && d != n && tc_full[d] > 1) e = d;
      }
      if (e > n && tc_full[e] <= 8) {  // n is a channel: a weight gradient's
        for (const OffsetTile& t : kOffsetTiles) {
          Kernel trial = tc;
          if (apply_all(trial, {{OptKind::kLocal, e, tc_full[e]}, {OptKind::kUpcast, m, t.tiles_m}, {OptKind::kUpcast, n, t.tiles_n}})) {
            add_variant(out, std::move(trial), t.k_tile, options);
          }
        }
      }
      const int64_t tiles_n = tc_full[n];
      if (e < 0 || e > n || tiles_n > 4) continue;  // n is the innermost: a row's pixels
      for (const RowTile& r : kRowTiles) {
        Kernel trial = tc;
        if (apply_all(trial, {{OptKind::kLocal, e, r.warps_e}, {OptKind::kUpcast, m, r.tiles_m},
                              {OptKind::kUpcast, n, tiles_n}, {OptKind::kUpcast, e, r.tiles_e}})) {
          add_variant(out, std::move(trial), r.k_tile, options);
        }
      }
    }
  }
  return out;
}

}  // namespace

std::vector<Kernel> gpu_variants(const Kernel& plain, const CodegenOptions& options) {
  Kernel k = plain;
  k.gpu = true;
  if (env_flag("TT_NOOPT", false)) return {k};
  const int64_t outputs = k.extent(Axis::kGlobal);
  const int64_t reduced = k.extent(Axis::kReduce);
  // Asked for everywhere (Tf32::kAll), tensor cores come first (what runs unsearched), and the
  // search may still find a float32 variant faster; for a convolution by default, they come last,
  // for the search only (options.h: PyTorch's defaults).
  std::vector<Kernel> variants = options.tf32 == Tf32::kAll ? tensor_core_variants(k, options) : std::vector<Kernel>{};
  // A reduction into too few outputs to fill the GPU with one thread each, split over a block's
  // threads (MNIST's weight gradients and batch statistics reduce 2e4 to 2e5 values each).
  auto group_choices = [&] {
    for (const Choice& c : kGroupChoices) {
      const GroupPlan plan = group_threads(k, c.threads);
      Kernel trial = k;
      if (plan.empty() || !group_reduce(trial, plan, c.upcast)) continue;
      const int64_t partial_bytes = trial.extent(Axis::kGroup) * trial.upcast_size() * static_cast<int64_t>(itemsize(k.reduce->dtype));
      if (partial_bytes <= options.max_shared_bytes) variants.push_back(std::move(trial));
    }
  };
  auto spread_choices = [&] {
    const int choices = k.reduce ? static_cast<int>(std::size(kSpreadChoices)) : kElementwiseSpreadChoices;
    for (int i = 0; i < choices; ++i) {
      const Choice& c = kSpreadChoices[i];
      Kernel trial = k;
      spread(trial, c);
      if (trial.reduce) unroll_reduce(trial, options);
      add_variant(variants, std::move(trial), c.k_tile, options);
    }
  };
  if (k.reduce && outputs < options.group_reduce_max_outputs && reduced >= 512) {
    // Which kind comes first (the default, what runs unsearched) follows the length of the reduction.
    if (reduced >= 2048) {
      group_choices();
      spread_choices();
    } else {
      spread_choices();
      group_choices();
    }
  } else if (k.reduce && outputs >= (1 << 16) && tile_2d_fits(k, kTiles[0])) {
    for (const Tile& t : kTiles) {
      if (!tile_2d_fits(k, t)) continue;
      Kernel trial = k;
      tile_2d(trial, t);
      unroll_reduce(trial, options);
      add_variant(variants, std::move(trial), t.k_tile, options);
    }
  } else {
    spread_choices();
  }
  if (options.tf32 == Tf32::kConvolutions && is_convolution(k)) {
    std::vector<Kernel> tc = tensor_core_variants(k, options);
    variants.insert(variants.end(), std::make_move_iterator(tc.begin()), std::make_move_iterator(tc.end()));
  }
  return variants;
}

void optimize_gpu(Kernel& k, const CodegenOptions& options) {
  std::vector<Kernel> variants = gpu_variants(k, options);
  TT_ASSERT(!variants.empty());
  k = std::move(variants.front());
}

}  // namespace tinyref
