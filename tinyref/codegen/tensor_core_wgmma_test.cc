// Warpgroup MMAs (Opt kWgmma, kernel.h: TensorCoreDims): which tensor-core kernels can issue them,
// the staged layout the tensor cores read through their descriptors (uops.h: WGMMA; staging.cc:
// wgmma_layout), what the lowering emits, and every wgmma variant against float64 within TF32's
// bound (tensor_core_testing.h), on an H100 (TT_WGMMA=1) or on the CUDA emulator, whose wgmma
// reads shared memory through the same descriptors (cuda_renderer.cc). The instruction itself,
// written by hand: wgmma_test.cc.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/cuda/compiler.h"
#include "tinyref/backends/cuda/nvrtc.h"
#include "tinyref/codegen/cuda_renderer.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/staging.h"
#include "tinyref/codegen/tensor_core_testing.h"
#include "tinyref/engine/search.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

CodegenOptions wgmma_options() {
  CodegenOptions o = gpu_tf32_options();
  o.wgmma = true;
  o.async_copies = true;
  o.max_shared_bytes_opt_in = 227 << 10;
  return o;
}

bool is_wgmma(const std::string& opts) { return opts.find("wgmma") != std::string::npos; }

std::vector<Kernel> wgmma_variants(const Tensor& t) {
  std::vector<Kernel> out;
  for (Kernel& v : gpu_variants(gpu_kernel(t), wgmma_options())) {
    if (v.issues_wgmma()) out.push_back(std::move(v));
  }
  return out;
}

// A tensor-core kernel of a@b (the first choice: A is a), tiled by `opts`, then staged (K-tile 16).
Kernel tiled(const Tensor& t, std::initializer_list<Opt> opts) {
  Kernel k = gpu_kernel(t);
  k.apply({OptKind::kTensorCore, 0, 8});
  for (const Opt& o : opts) k.apply(o);
  k.apply({OptKind::kStage, k.first_of(Axis::kReduce), 16});
  return k;
}

// --- which kernels qualify

TEST(WgmmaChoices, OfferedOnlyWhereAsked) {
  Tensor a = Tensor::randn({128, 64}, DType::kFloat32, "INTERP"), b = Tensor::randn({64, 256}, DType::kFloat32, "INTERP");
  for (const Kernel& v : gpu_variants(gpu_kernel(a.matmul(b)), gpu_tf32_options())) {
    EXPECT_FALSE(is_wgmma(to_string(v.applied))) << to_string(v.applied) << ": CodegenOptions::wgmma is off";
  }
  // 10 placements of the warpgroup tiles that this 128x256 output divides (6 with a as A, 4 with b),
  // each staged, 5 also prefetched (the copies fit in registers), and each in rings of 2, 3 and 4.
  EXPECT_EQ(wgmma_variants(a.matmul(b)).size(), 10u + 5u + 3u * 10u);
  testing_util::ScopedEnv wgmma("TT_WGMMA", nullptr);
  EXPECT_FALSE(wgmma_asked()) << "off unless asked, until a GPU has run the variants";
  wgmma.set("1");
  EXPECT_TRUE(wgmma_asked());
}

// 4 warps (a warpgroup) down 64 rows above the lanes; both factors plain inputs; staged first.
TEST(WgmmaChoices, RefusedWithAReason) {
  Tensor a = Tensor::randn({128, 64}, DType::kFloat32, "INTERP"), b = Tensor::randn({64, 128}, DType::kFloat32, "INTERP");
  const auto reason = [](const Kernel& k) {
    std::string why;
    EXPECT_FALSE(k.can_apply({OptKind::kWgmma, k.first_of(Axis::kReduce), 64}, &why));
    return why;
  };
  const Tensor c = a.matmul(b);
  EXPECT_TRUE(tiled(c, {{OptKind::kLocal, 0, 4}, {OptKind::kUpcast, 1, 4}}).can_apply({OptKind::kWgmma, 2, 64}));
  EXPECT_NE(reason(tiled(c, {{OptKind::kLocal, 0, 2}, {OptKind::kUpcast, 1, 4}})).find("4 warps"), std::string::npos)
      << "2 warps down the rows are half a warpgroup";
  EXPECT_NE(reason(tiled(c, {{OptKind::kLocal, 0, 4}, {OptKind::kLocal, 1, 2}})).find("4 warps"), std::string::npos)
      << "the warps above the lanes go along the columns: a warpgroup's warps would not be its 64 rows";
  EXPECT_NE(reason(tiled(c, {{OptKind::kUpcast, 1, 4}})).find("warp digit"), std::string::npos);
  Kernel unstaged = gpu_kernel(c);
  unstaged.apply({OptKind::kTensorCore, 0, 8});
  unstaged.apply({OptKind::kLocal, 0, 4});
  EXPECT_NE(reason(unstaged).find("staged"), std::string::npos);
  const ScheduleItem squared = with_a_squared(create_schedule({c.lazy()}).back());
  Kernel fused(squared.ast, buffer_args(squared));
  fused.gpu = true;
  fused.apply({OptKind::kTensorCore, 0, 8});
  fused.apply({OptKind::kLocal, 0, 4});
  fused.apply({OptKind::kStage, fused.first_of(Axis::kReduce), 16});
  EXPECT_NE(reason(fused).find("inputs as they are"), std::string::npos) << "(a*a)@b: the copies hold a, not a*a";
  Kernel wide = tiled(c, {{OptKind::kLocal, 0, 4}, {OptKind::kUpcast, 1, 16}});
  EXPECT_TRUE(wide.can_apply({OptKind::kWgmma, 2, 32}) == false) << "64 rows a warpgroup, no other amount";
}

// --- the staged layout

// For every element of each staged tile: its slot is its own (no two elements share one, all
// inside the array), and it is where the instruction reads it. The lowering starts a warpgroup's
// operand at the element with the lanes' digits, the fragment's and K's at 0 and the warp digit
// at the warpgroup's first warp (reduce_lowering.cc: wgmma_steps); from there the tensor cores
// find row r (A's row, or B's column), K kk at (r%8)*16 + (kk%4)*4 + (kk/4)*LBO + (r/8)*SBO bytes.
void expect_layout_matches_descriptors(const Kernel& k) {
  const TensorCoreDims& t = *k.tensor_core;
  const std::vector<StagedLeaf> plan = plan_staging(k);
  ASSERT_EQ(plan.size(), 2u);
  for (const StagedLeaf& s : plan) {
    const bool is_a = k.leaves[s.leaf] == k.reduce->src[0]->src[t.a_src].get();
    SCOPED_TRACE(is_a ? "A" : "B");
    EXPECT_EQ(s.lbo % 16, 0);
    EXPECT_EQ(s.sbo % 16, 0);
    std::set<int64_t> slots;
    std::vector<int64_t> digit(s.dims.size(), 0);
    for (int64_t e = 0; e < s.size; ++e) {
      int64_t rest = e;
      for (size_t j = s.dims.size(); j-- > 0; rest /= s.extents[j]) digit[j] = rest % s.extents[j];
      std::map<int, int64_t> at;  // dimension -> digit
      for (size_t j = 0; j < s.dims.size(); ++j) at[static_cast<int>(s.dims[j])] = digit[j];
      const auto slot_of = [&](const std::map<int, int64_t>& where) {
        int64_t slot = 0;
        for (size_t j = 0; j < s.dims.size(); ++j) slot += where.at(static_cast<int>(s.dims[j])) * s.strides[j];
        return slot;
      };
      const int64_t slot = slot_of(at);
      ASSERT_TRUE(slots.insert(slot).second) << "two elements share slot " << slot;
      ASSERT_LT(slot, s.array_size);
      std::map<int, int64_t> start = at;
      int64_t r = 0;
      if (is_a) {
        r = 16 * (at[t.warp] % 4) + 8 * at[t.row_hi] + at[t.row_lane];
        start[t.warp] -= at[t.warp] % 4;
        start[t.row_hi] = start[t.row_lane] = 0;
      } else {
        r = 8 * (t.tiles_n >= 0 ? at[t.tiles_n] : 0) + 2 * at[t.col_lane] + at[t.col_pair];
        if (t.tiles_n >= 0) start[t.tiles_n] = 0;
        start[t.col_lane] = start[t.col_pair] = 0;
      }
      const int64_t kk = 4 * at[t.k_hi] + at[t.k];
      start[t.k_hi] = start[t.k] = 0;
      const int64_t first = slot_of(start);
      ASSERT_EQ(first % 4, 0) << "an operand starts on 16 bytes";
      ASSERT_EQ(slot * 4, first * 4 + r % 8 * 16 + kk % 4 * 4 + kk / 4 * s.lbo + r / 8 * s.sbo)
          << "row " << r << ", K " << kk << " (element " << e << ")";
    }
  }
}

TEST(WgmmaLayout, EveryElementIsWhereTheDescriptorsSay) {
  Tensor a = Tensor::randn({128, 64}, DType::kFloat32, "INTERP"), b = Tensor::randn({64, 256}, DType::kFloat32, "INTERP");
  Tensor bt = Tensor::randn({256, 64}, DType::kFloat32, "INTERP");
  for (const Tensor& c : {a.matmul(b), a.matmul(bt.transpose(0, 1))}) {
    for (const Kernel& k : wgmma_variants(c)) {
      if (k.async_stages > 0 || k.prefetch_k_tiles) continue;  // the same layout, in a ring or not
      SCOPED_TRACE(to_string(k.applied));
      expect_layout_matches_descriptors(k);
    }
  }
}

// A quarter-warp's copies fill one core matrix's 8 rows (16 bytes each, 128 contiguous bytes) where
// K is contiguous in global memory: a float4 a copy, every bank once. B of a row-major matmul
// (its columns contiguous) goes a float at a time, 8 columns by 4 of K a warp.
TEST(WgmmaLayout, CopiesLoadFloat4sWhereKIsContiguous) {
  Tensor a = Tensor::randn({128, 64}, DType::kFloat32, "INTERP"), b = Tensor::randn({64, 256}, DType::kFloat32, "INTERP");
  Tensor bt = Tensor::randn({256, 64}, DType::kFloat32, "INTERP");
  for (const bool transposed : {false, true}) {
    const Tensor c = a.matmul(transposed ? bt.transpose(0, 1) : b);
    int checked = 0;
    for (const Program& p : lower_variants(create_schedule({c.lazy()}).back(), wgmma_options())) {
      if (!is_wgmma(p.opts) || p.opts.find("tensor_core 0") == std::string::npos || p.opts.find("async") != std::string::npos ||
          p.opts.find("prefetch") != std::string::npos) {
        continue;
      }
      SCOPED_TRACE(p.opts);
      std::map<int, std::set<int>> lanes_of;  // staged array -> the lanes of its copies' loads
      for (const UOp& u : p.uops) {
        if (u.kind == UOpKind::kStore && p.uops[u.src[0]].kind == UOpKind::kDefineLocal) lanes_of[u.src[0]].insert(u.lanes);
      }
      ASSERT_EQ(lanes_of.size(), 2u);
      EXPECT_EQ(lanes_of.begin()->second, std::set<int>{4}) << "A (rows of K)";
      EXPECT_EQ(std::next(lanes_of.begin())->second, std::set<int>{transposed ? 4 : 1}) << "B";
      ++checked;
    }
    EXPECT_EQ(checked, 6) << "the tiles that a 128x256 output divides, with a as A";
  }
}

// --- what the lowering emits

// The 128x256 block (2 warpgroups of 64 rows x 256 columns, K-tile 32): per K-tile, its copies,
// PROXY_FENCE, the barrier, WGMMA_FENCE, a loop over the 4 steps of 8 with one WGMMA of N = 256
// into all 128 accumulators of the thread, then WGMMA_COMMIT and WGMMA_WAIT 0. No lane loads a
// staged value: the tensor cores read the tiles.
TEST(WgmmaLowering, OneInstructionPerWarpgroupTileAndStepOfEight) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP"), b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  const std::vector<Program> variants = lower_variants(create_schedule({a.matmul(b).lazy()}).back(), wgmma_options());
  int seen = 0;
  for (const Program& p : variants) {
    if (p.opts != "tensor_core 0 8, local 0 8, upcast 1 32, stage 2 32, wgmma 2 64") continue;
    ++seen;
    SCOPED_TRACE(p.to_string());
    EXPECT_EQ(p.local_size, 256);
    EXPECT_EQ(p.global_size, (256 / 128) * (512 / 256));
    EXPECT_EQ(count(p, UOpKind::kWgmma), 1);
    EXPECT_EQ(count(p, UOpKind::kMma), 0);
    EXPECT_EQ(count(p, UOpKind::kDefineAcc), 128);
    for (UOpKind kind : {UOpKind::kProxyFence, UOpKind::kWgmmaFence, UOpKind::kWgmmaCommit, UOpKind::kWgmmaWait}) {
      EXPECT_EQ(count(p, kind), 1) << uop_kind_name(kind);
    }
    std::vector<UOpKind> order;
    std::set<int> accs;
    for (const UOp& u : p.uops) {
      const UOpKind kind = u.kind;
      if (kind == UOpKind::kProxyFence || kind == UOpKind::kBarrier || kind == UOpKind::kWgmmaFence || kind == UOpKind::kWgmma ||
          kind == UOpKind::kWgmmaCommit || kind == UOpKind::kWgmmaWait || kind == UOpKind::kRange || kind == UOpKind::kEndRange) {
        order.push_back(kind);
      }
      EXPECT_FALSE(kind == UOpKind::kLoad && p.uops[u.src[0]].kind == UOpKind::kDefineLocal) << "a lane read a staged value";
      if (kind == UOpKind::kWgmmaWait) {
        EXPECT_EQ(std::set<int>(u.src.begin(), u.src.end()), accs) << "the wait delivers every accumulator (the renderer pins them after it)";
      }
      if (kind == UOpKind::kWgmma) {
        EXPECT_EQ(u.arg, 256);
        ASSERT_EQ(u.src.size(), 8u + 128u);
        for (size_t j = 8; j < u.src.size(); ++j) accs.insert(u.src[j]);
        EXPECT_EQ(p.uops[u.src[2]].value, 128) << "A's LBO: the two core matrices of an 8 of K side by side";
        EXPECT_EQ(p.uops[u.src[3]].value, 32 * 32) << "A's SBO: 8 rows of the 32-deep K-tile";
        EXPECT_EQ(p.uops[u.src[7]].value, 32 * 32) << "B's SBO: 8 columns of the 32-deep K-tile";
      }
    }
    EXPECT_EQ(accs.size(), 128u) << "every accumulator of the thread, once";
    const std::vector<UOpKind> want = {UOpKind::kRange,     UOpKind::kProxyFence, UOpKind::kBarrier,     UOpKind::kWgmmaFence,
                                       UOpKind::kRange,     UOpKind::kWgmma,      UOpKind::kEndRange,    UOpKind::kWgmmaCommit,
                                       UOpKind::kWgmmaWait, UOpKind::kBarrier,    UOpKind::kEndRange};
    EXPECT_EQ(order, want);
  }
  EXPECT_EQ(seen, 1);
}

// In a ring, the copies of the K-tile ahead are issued after this turn's MMAs, while the tensor
// cores run them. In a ring of 2 a turn waits for its own MMAs (WGMMA_WAIT 0) and copies 1 K-tile
// ahead; in a ring of 3 or 4 its MMAs run on into the next turn (WGMMA_WAIT 1, the last group
// waited for after the loop), and the copies go S - 2 ahead into the array read two turns before.
TEST(WgmmaLowering, ARingCopiesAheadWhileTheMmasRun) {
  Tensor a = Tensor::randn({128, 64}, DType::kFloat32, "INTERP"), b = Tensor::randn({64, 256}, DType::kFloat32, "INTERP");
  const std::string tile = "tensor_core 0 8, local 0 8, upcast 1 32, stage 2 32, wgmma 2 64, async 2 ";
  std::map<int, std::vector<std::pair<UOpKind, int64_t>>> loops;  // ring -> the kinds (and args) from the K-tile loop on
  for (const Program& p : lower_variants(create_schedule({a.matmul(b).lazy()}).back(), wgmma_options())) {
    for (int ring : {2, 3, 4}) {
      if (p.opts != tile + std::to_string(ring)) continue;
      std::vector<std::pair<UOpKind, int64_t>> order;
      bool in_loop = false;
      for (const UOp& u : p.uops) {
        in_loop = in_loop || u.kind == UOpKind::kRange;
        if (!in_loop || u.kind == UOpKind::kAlu || u.kind == UOpKind::kConst || u.kind == UOpKind::kLoad || u.kind == UOpKind::kStore ||
            (!order.empty() && order.back().first == u.kind)) {
          continue;
        }
        const bool waits = u.kind == UOpKind::kAsyncWait || u.kind == UOpKind::kWgmmaWait;
        order.push_back({u.kind, waits ? u.arg : 0});
      }
      loops[ring] = order;
    }
  }
  using K = UOpKind;
  const std::vector<std::pair<UOpKind, int64_t>> own_turn = {
      {K::kRange, 0},     {K::kAsyncWait, 0},   {K::kProxyFence, 0},  {K::kBarrier, 0},     {K::kWgmmaFence, 0},
      {K::kRange, 0},     {K::kWgmma, 0},       {K::kEndRange, 0},    {K::kWgmmaCommit, 0}, {K::kCopyAsync, 0},
      {K::kAsyncCommit, 0}, {K::kWgmmaWait, 0}, {K::kEndRange, 0},    {K::kAsyncWait, 0}};
  EXPECT_EQ(loops[2], own_turn) << "a ring of 2";
  for (int ring : {3, 4}) {
    std::vector<std::pair<UOpKind, int64_t>> in_flight = own_turn;
    in_flight[1].second = ring - 3;   // K-tile t landed: S - 2 copied ahead
    in_flight[11].second = 1;         // this turn's MMAs run on
    in_flight.push_back({K::kWgmmaWait, 0});
    EXPECT_EQ(loops[ring], in_flight) << "a ring of " << ring;
  }
}

// Synchronous copies round A and B to TF32 as they store them (the tensor cores cannot round what
// they read from shared memory); a ring's cp.async copies bits, and the tensor cores truncate.
TEST(WgmmaLowering, SynchronousCopiesRoundToTf32) {
  Tensor a = Tensor::randn({128, 64}, DType::kFloat32, "INTERP"), b = Tensor::randn({64, 256}, DType::kFloat32, "INTERP");
  int rounded = 0, ring = 0;
  for (const Program& p : lower_variants(create_schedule({a.matmul(b).lazy()}).back(), wgmma_options())) {
    if (!is_wgmma(p.opts)) continue;
    SCOPED_TRACE(p.opts);
    int stores = 0, tf32 = 0;
    for (const UOp& u : p.uops) {
      const bool copy = u.kind == UOpKind::kStore && p.uops[u.src[0]].kind == UOpKind::kDefineLocal;
      stores += copy;
      tf32 += copy && u.tag == "tf32";
    }
    const bool async = p.opts.find("async") != std::string::npos;
    EXPECT_EQ(tf32, async ? 0 : stores);
    (async ? ring : rounded) += 1;
  }
  EXPECT_EQ(rounded, 10 + 5) << "staged, and prefetched";
  EXPECT_EQ(ring, 3 * 10);
}

// Rendered for CUDA, every variant calls the instruction once per WGMMA uop, with its N, and
// compiles for sm_90a (where NVRTC is: its ptxas is the judge of the inline PTX).
TEST(WgmmaLowering, RendersTheInstructionForItsColumnsAndCompiles) {
  Tensor a = Tensor::randn({128, 64}, DType::kFloat32, "INTERP"), b = Tensor::randn({64, 256}, DType::kFloat32, "INTERP");
  std::optional<cuda::Compiler> nvrtc;
  if (cuda::nvrtc_available()) nvrtc.emplace(90, "");
  for (const Program& p : lower_variants(create_schedule({a.matmul(b).lazy()}).back(), wgmma_options())) {
    if (!is_wgmma(p.opts)) continue;
    SCOPED_TRACE(p.opts);
    const std::string src = render_cuda(p);
    for (const UOp& u : p.uops) {
      if (u.kind == UOpKind::kWgmma) {
        EXPECT_NE(src.find("tt_wgmma_m64n" + std::to_string(u.arg) + "k8("), std::string::npos);
      }
    }
    if (nvrtc) {
      EXPECT_NO_THROW(nvrtc->compile(src, p.name));
    }
  }
}

// beautiful_mnist's convolutions and linear layer (what `./course mnist` trains), forward and backward, with warpgroup
// MMAs asked for: every variant of every kernel lowers and renders. The convolutions' image is read
// through a sliding window, so most of their tiles stay mma.sync; conv4's weight gradient, 64 by 64
// channels and its 6-pixel rows padded to 8 (the sum's K), takes warpgroups.
TEST(WgmmaLowering, TheMnistStepLowersWithWgmmaAsked) {
  Tensor x = Tensor::randn({32, 1, 28, 28}, DType::kFloat32, "INTERP");
  std::vector<Tensor> w = {Tensor::randn({32, 1, 5, 5}, DType::kFloat32, "INTERP").requires_grad_(),
                           Tensor::randn({32, 32, 5, 5}, DType::kFloat32, "INTERP").requires_grad_(),
                           Tensor::randn({64, 32, 3, 3}, DType::kFloat32, "INTERP").requires_grad_(),
                           Tensor::randn({64, 64, 3, 3}, DType::kFloat32, "INTERP").requires_grad_(),
                           Tensor::randn({576, 10}, DType::kFloat32, "INTERP").requires_grad_()};
  Tensor h = x.conv2d(w[0]).relu().conv2d(w[1]).relu().max_pool2d(2);
  h = h.conv2d(w[2]).relu().conv2d(w[3]).relu().max_pool2d(2).reshape({32, 576});
  h.matmul(w[4]).relu().sum().backward();
  std::vector<LazyRef> grads;
  for (const Tensor& wi : w) grads.push_back(wi.grad().lazy());
  int wgmma = 0;
  for (const ScheduleItem& item : create_schedule(grads)) {
    if (item.is_copy) continue;
    for (const Program& p : lower_variants(item, wgmma_options())) {
      SCOPED_TRACE(p.name + " (" + p.opts + ")");
      EXPECT_FALSE(render_cuda(p).empty());
      wgmma += is_wgmma(p.opts);
    }
  }
  EXPECT_EQ(wgmma, 8) << "conv4's weight gradient (64 x 64 channels): both orders, staged and in rings of 2, 3 and 4";
}

// --- on an H100, or on the CUDA emulator

TEST(WgmmaCuda, EveryVariantIsWithinTf32sBoundOfFloat64) {
  testing_util::ScopedEnv wgmma("TT_WGMMA", "1");
  const VariantFilter only_wgmma = [](const Program& p) { return is_wgmma(p.opts); };
  const auto mm = [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]); };
  const uint64_t seed = testing_util::seeds().front();
  SCOPED_TRACE(testing_util::seed_note(seed));
  EXPECT_EQ(expect_tensor_core_variants_match(mm, {{128, 64}, {64, 256}}, 64, seed, only_wgmma).size(), 45u)
      << "every warpgroup tile, both orders of the sources, synchronous, prefetched and in rings";
  // B stored transposed (K contiguous: float4 copies for both), and an epilogue after a batch.
  const auto mm_t = [](const std::vector<Tensor>& in) { return in[0].matmul(in[1].transpose(0, 1)); };
  EXPECT_GE(expect_tensor_core_variants_match(mm_t, {{64, 32}, {64, 32}}, 32, seed, only_wgmma).size(), 1u);
  const auto batched = [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]).relu(); };
  EXPECT_GE(expect_tensor_core_variants_match(batched, {{2, 64, 16}, {2, 16, 64}}, 16, seed, only_wgmma).size(), 1u);
  // A convolution's weight gradient (MNIST's conv4): its K the batch and the pixels of 6-wide rows
  // padded to 8, the padding read as 0 from both factors; the copies gated.
  const auto weight_gradient = [](const std::vector<Tensor>& in) {
    Tensor w = in[1].detach().requires_grad_();
    (in[0].conv2d(w) * in[2]).sum().backward();
    return w.grad();
  };
  EXPECT_EQ(expect_tensor_core_variants_match(weight_gradient, {{2, 64, 8, 8}, {64, 64, 3, 3}, {2, 64, 6, 6}}, 2 * 6 * 6, seed,
                                              only_wgmma)
                .size(),
            8u)
      << "both orders of the channels, staged and in rings of 2, 3 and 4";
}

}  // namespace
}  // namespace tinyref
