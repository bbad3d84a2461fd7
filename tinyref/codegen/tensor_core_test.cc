// TF32 tensor cores (Opt kTensorCore, kernel.h: TensorCoreDims): which kernels qualify, what the
// lowering emits, and every tensor-core variant run against a float64 reference, on a GPU or on
// the CUDA emulator (whose tt_mma_tf32 is a C++ version of the same fragments: cuda_renderer.cc).
// A convolution's choices (its sliding window, padded rows and row sums): tensor_core_conv_test.cc.
//
// The tolerance: tensor_core_testing.h.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/cuda/compiler.h"
#include "tinyref/backends/cuda/nvrtc.h"
#include "tinyref/backends/registry.h"
#include "tinyref/codegen/cuda_renderer.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/staging.h"
#include "tinyref/codegen/tensor_core_testing.h"
#include "tinyref/engine/realize.h"
#include "tinyref/engine/search.h"
#include "tinyref/error.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

// --- which kernels qualify

TEST(TensorCoreChoices, AMatmulHasOneForEachOrderOfItsSources) {
  Tensor a = Tensor::randn({64, 32}, DType::kFloat32, "INTERP"), b = Tensor::randn({32, 48}, DType::kFloat32, "INTERP");
  Kernel k = gpu_kernel(a.matmul(b));
  const std::vector<TensorCoreChoice> choices = tensor_core_choices(k);
  ASSERT_EQ(choices.size(), 2u) << "rows of a by columns of b, or (transposed) columns of b by rows of a";
  EXPECT_NE(choices[0].m, choices[0].n);
  EXPECT_EQ(choices[0].m, choices[1].n);
  EXPECT_TRUE(k.can_apply({OptKind::kTensorCore, 0, 8}));
}

TEST(TensorCoreChoices, RefusedWithAReasonWhereTheMmaCannotComputeIt) {
  const auto refused = [](const Tensor& t, const std::string& what) {
    Kernel k = gpu_kernel(t);
    std::string why;
    EXPECT_FALSE(k.can_apply({OptKind::kTensorCore, 0, 8}, &why)) << what;
    EXPECT_NE(why.find("tensor"), std::string::npos) << what << ": " << why;
    EXPECT_THROW(k.apply({OptKind::kTensorCore, 0, 8}), Error) << what;
  };
  Tensor a = Tensor::randn({64, 32}, DType::kFloat32, "INTERP"), b = Tensor::randn({32, 48}, DType::kFloat32, "INTERP");
  refused(a.cast(DType::kFloat64).matmul(b.cast(DType::kFloat64)), "float64");
  refused(Tensor::randn({64, 36}, DType::kFloat32, "INTERP").matmul(Tensor::randn({36, 48}, DType::kFloat32, "INTERP")),
          "K = 36, no multiple of 8");
  refused(Tensor::randn({24, 32}, DType::kFloat32, "INTERP").matmul(Tensor::randn({32, 12}, DType::kFloat32, "INTERP")),
          "neither 24 nor 12 a multiple of 16");
  refused((a.reshape({64, 32, 1}) * b.reshape({1, 32, 48})).max({1}), "a max of products");
  refused(a.sum({1}), "a sum of no products");
  Kernel k = gpu_kernel(a.matmul(b));
  EXPECT_FALSE(k.can_apply({OptKind::kTensorCore, 0, 16})) << "the mma's K is 8";
  k.apply({OptKind::kTensorCore, 0, 8});
  EXPECT_FALSE(k.can_apply({OptKind::kTensorCore, 0, 8})) << "once";
  EXPECT_FALSE(k.can_apply({OptKind::kGroup, k.first_of(Axis::kReduce), 2})) << "a warp keeps whole sums";
  EXPECT_FALSE(k.can_apply({OptKind::kVector, 0, 4})) << "fragments are scalars";
}

// --- what the lowering emits

TEST(TensorCoreLowering, AWarpComputesItsTilesWithOneMmaEachPerStepOfEight) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP"), b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  const std::vector<Program> variants = lower_variants(create_schedule({a.matmul(b).lazy()}).back(), gpu_tf32_options());
  ASSERT_FALSE(variants.empty());
  const Program& p = variants[0];  // 2x2 warps, each 2x4 tiles of 16x8: a block covers 64x64
  SCOPED_TRACE(p.opts + "\n" + p.to_string());
  EXPECT_NE(p.opts.find("tensor_core"), std::string::npos) << "asked for, tensor cores come first";
  EXPECT_EQ(p.local_size, 4 * 32);
  EXPECT_EQ(p.global_size, (256 / 64) * (512 / 64));
  EXPECT_EQ(count(p, UOpKind::kMma), 2 * 4);
  EXPECT_EQ(count(p, UOpKind::kDefineAcc), 2 * 4 * 4) << "four accumulators a tile";
  EXPECT_EQ(count(p, UOpKind::kStore), 2 * 4 * 4);
  // A's fragments: 4 a tile row, B's 2 a tile column (shared by the other tiles: loaded once).
  EXPECT_EQ(count(p, UOpKind::kLoad), 2 * 4 + 4 * 2);
  int loops = 0;
  for (const UOp& u : p.uops) loops += u.kind == UOpKind::kRange;
  EXPECT_EQ(loops, 1) << "K / 8 steps";
  const std::string src = render_cuda(p);
  EXPECT_NE(src.find("tt_mma_tf32("), std::string::npos);
  if (!cuda::nvrtc_available()) return;  // the CUDA toolkit: compile checks only where it is
  cuda::Compiler nvrtc(90, "");
  for (const Program& v : variants) EXPECT_NO_THROW(nvrtc.compile(render_cuda(v), v.name)) << v.opts;
}

TEST(TensorCoreLowering, StagedVariantsReadTheirFragmentsFromSharedMemory) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP"), b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  int staged = 0;
  for (const Program& p : lower_variants(create_schedule({a.matmul(b).lazy()}).back(), gpu_tf32_options())) {
    if (p.opts.find("tensor_core") == std::string::npos || p.opts.find("stage") == std::string::npos) continue;
    SCOPED_TRACE(p.opts + "\n" + p.to_string());
    ++staged;
    EXPECT_EQ(count(p, UOpKind::kDefineLocal), 2) << "A's and B's K-tiles";
    EXPECT_EQ(count(p, UOpKind::kBarrier), 2);
    int global_reads_in_loop = 0, depth = 0;
    for (const UOp& u : p.uops) {
      depth += u.kind == UOpKind::kRange ? 1 : u.kind == UOpKind::kEndRange ? -1 : 0;
      global_reads_in_loop += depth > 1 && u.kind == UOpKind::kLoad && p.uops[u.src[0]].kind == UOpKind::kDefineGlobal;
    }
    EXPECT_EQ(global_reads_in_loop, 0) << "inside the tile, fragments come from shared memory only";
  }
  EXPECT_EQ(staged, 2 * (8 + 6)) << "eight staged warp tiles within 48 KB for each order of the sources, six of them also "
                                   "prefetched (128x256 blocks of K-tile 32 are only rings, which these options leave out)";
}

// Staged, A and B are rounded to TF32 once, as they are copied into shared memory (a STORE
// tagged "tf32"), and the mmas take the bits as they are (MMA arg 1): not once per warp that
// reads them. Unstaged, or where a source is computed from a buffer ((a*a) @ b: the copy holds
// a, not a*a), the mma rounds what it multiplies.
TEST(TensorCoreLowering, StagedOperandsAreRoundedOnceWhereTheyAreCopied) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP"), b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  const ScheduleItem matmul = create_schedule({a.matmul(b).lazy()}).back();
  for (const bool fused : {false, true}) {
    int staged = 0;
    for (const Program& p : lower_variants(fused ? with_a_squared(matmul) : matmul, gpu_tf32_options())) {
      if (p.opts.find("tensor_core") == std::string::npos) continue;
      SCOPED_TRACE(std::string(fused ? "(a*a)@b " : "a@b ") + p.opts);
      const bool is_staged = p.opts.find("stage") != std::string::npos;
      staged += is_staged;
      int rounded_copies = 0, copies = 0, rounded_mmas = 0;
      for (const UOp& u : p.uops) {
        const bool copy = u.kind == UOpKind::kStore && p.uops[u.src[0]].kind == UOpKind::kDefineLocal;
        copies += copy;
        rounded_copies += copy && u.tag == "tf32";
        rounded_mmas += u.kind == UOpKind::kMma && u.arg == 1;
      }
      const bool rounds_at_copy = is_staged && !fused;
      EXPECT_EQ(rounded_copies, rounds_at_copy ? copies : 0);
      EXPECT_EQ(rounded_mmas, rounds_at_copy ? count(p, UOpKind::kMma) : 0);
      const std::string src = render_cuda(p);
      EXPECT_EQ(src.find("= tt_mma_tf32_rounded(") != std::string::npos, rounds_at_copy);
      EXPECT_EQ(src.find("= tt_mma_tf32(") != std::string::npos, !rounds_at_copy);
    }
    EXPECT_EQ(staged, 2 * (8 + 6));
  }
}

// Where a lane's fragment element lies in its staged array (staging.h), by PTX's layout of
// mma.m16n8k8 (kernel.h: TensorCoreDims): A's a0 at row lane / 4, K lane % 4; B's b0 at K lane % 4,
// column lane / 4 (col_lane = lane / 8, col_pair = lane / 4 % 2). Shared memory serves the warp in
// one pass only if the 32 elements fall in 32 different banks (4-byte words, 32 banks).
std::set<int64_t> fragment_banks(const Kernel& k, const StagedLeaf& s, bool is_a) {
  const TensorCoreDims& t = *k.tensor_core;
  auto stride_of = [&](int d) {
    for (size_t j = 0; j < s.dims.size(); ++j) {
      if (static_cast<int>(s.dims[j]) == d) return s.strides[j];
    }
    return int64_t{0};
  };
  std::set<int64_t> banks;
  for (int64_t lane = 0; lane < 32; ++lane) {
    const int64_t row = lane / 4, kk = lane % 4;
    const int64_t at = is_a ? row * stride_of(t.row_lane) + kk * stride_of(t.k)
                            : kk * stride_of(t.k) + row / 2 * stride_of(t.col_lane) + row % 2 * stride_of(t.col_pair);
    banks.insert(at % 32);
  }
  return banks;
}

// Unpadded, a K-tile of 32 puts A's 8 fragment rows 32 floats apart, all in the bank of their K:
// 8 passes a read (and B's 4 of K 64 or 128 apart: 4 passes). The chosen layout pads the rows.
TEST(TensorCoreLowering, StagedFragmentsFallInEveryBankOnce) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP"), b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  const Tensor c = a.matmul(b);
  int staged = 0;
  for (const Program& p : lower_variants(create_schedule({c.lazy()}).back(), gpu_tf32_options())) {
    if (p.opts.find("tensor_core") == std::string::npos || p.opts.find("stage") == std::string::npos) continue;
    SCOPED_TRACE(p.opts);
    Kernel k = gpu_kernel(c);
    const std::optional<std::vector<Opt>> opts = parse_opts(p.opts);
    ASSERT_TRUE(opts.has_value());
    for (const Opt& o : *opts) k.apply(o);
    const std::vector<StagedLeaf> plan = plan_staging(k);
    ASSERT_EQ(plan.size(), 2u);
    for (const StagedLeaf& s : plan) {
      const bool is_a = k.leaves[s.leaf] == k.reduce->src[0]->src[k.tensor_core->a_src].get();
      EXPECT_EQ(fragment_banks(k, s, is_a).size(), 32u) << (is_a ? "A" : "B") << "'s fragment, array of " << s.array_size;
      EXPECT_GE(s.array_size, s.size);
    }
    ++staged;
  }
  EXPECT_EQ(staged, 2 * (8 + 6));
}

TEST(TensorCoreLowering, OffWhenAskedAndNeverOnTheCpu) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP"), b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  CodegenOptions plain = gpu_tf32_options();
  plain.tf32 = Tf32::kOff;
  for (const Program& p : lower_variants(create_schedule({a.matmul(b).lazy()}).back(), plain)) {
    EXPECT_EQ(p.opts.find("tensor_core"), std::string::npos) << p.opts;
  }
  Kernel cpu = gpu_kernel(a.matmul(b));
  cpu.gpu = false;
  EXPECT_TRUE(tensor_core_choices(cpu).empty());
}

TEST(TensorCoreLowering, ByDefaultOnlyAConvolutionsSearchTriesTensorCores) {
  const auto tensor_core_positions = [](const Tensor& t, Tf32 mode) {
    CodegenOptions o = gpu_tf32_options();
    o.tf32 = mode;
    std::vector<size_t> at;
    const std::vector<Program> v = lower_variants(create_schedule({t.lazy()}).back(), o);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].opts.find("tensor_core") != std::string::npos) at.push_back(i);
    }
    return std::make_pair(at, v.size());
  };
  Tensor x = Tensor::randn({4, 16, 8, 8}, DType::kFloat32, "INTERP"), w = Tensor::randn({16, 16, 3, 3}, DType::kFloat32, "INTERP");
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP"), b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  const auto [conv, conv_variants] = tensor_core_positions(x.conv2d(w, Tensor(), 1, 1), Tf32::kConvolutions);
  ASSERT_FALSE(conv.empty()) << "the search times the conv's tensor-core variants";
  EXPECT_EQ(conv.back(), conv_variants - 1) << "after the float32 ones";
  EXPECT_GT(conv.front(), 0u) << "what runs unsearched stays float32";
  EXPECT_TRUE(tensor_core_positions(a.matmul(b), Tf32::kConvolutions).first.empty()) << "a matmul stays float32";
  EXPECT_TRUE(tensor_core_positions(x.conv2d(w, Tensor(), 1, 1), Tf32::kOff).first.empty());
  EXPECT_EQ(tensor_core_positions(a.matmul(b), Tf32::kAll).first.front(), 0u) << "TT_TF32=1: first, for every kernel";
  // What TT_TF32 says.
  testing_util::ScopedEnv tf32("TT_TF32", nullptr);
  EXPECT_EQ(tf32_mode(), Tf32::kConvolutions);
  tf32.set("1");
  EXPECT_EQ(tf32_mode(), Tf32::kAll);
  tf32.set("0");
  EXPECT_EQ(tf32_mode(), Tf32::kOff);
  tf32.set("yes");
  EXPECT_THROW(tf32_mode(), Error);
}

// The convolutions of beautiful_mnist (what `./course mnist` trains), forward and backward: the
// kernels that qualify take tensor cores, and every one lowers and renders (and compiles, where
// NVRTC is). conv1 (one input channel) has no K of 8 and stays float32.
TEST(TensorCoreLowering, TheMnistConvolutionsForwardAndBackwardLower) {
  Tensor x = Tensor::randn({32, 1, 28, 28}, DType::kFloat32, "INTERP");
  std::vector<Tensor> w = {Tensor::randn({32, 1, 5, 5}, DType::kFloat32, "INTERP").requires_grad_(),
                           Tensor::randn({32, 32, 5, 5}, DType::kFloat32, "INTERP").requires_grad_(),
                           Tensor::randn({64, 32, 3, 3}, DType::kFloat32, "INTERP").requires_grad_(),
                           Tensor::randn({64, 64, 3, 3}, DType::kFloat32, "INTERP").requires_grad_()};
  Tensor h = x.conv2d(w[0]).relu().conv2d(w[1]).relu().max_pool2d(2);
  h.conv2d(w[2]).relu().conv2d(w[3]).relu().sum().backward();
  std::vector<LazyRef> grads;
  for (const Tensor& wi : w) grads.push_back(wi.grad().lazy());
  int on_tensor_cores = 0, kernels = 0;
  const bool nvrtc = cuda::nvrtc_available();
  std::optional<cuda::Compiler> compiler;
  if (nvrtc) compiler.emplace(90, "");
  for (const ScheduleItem& item : create_schedule(grads)) {
    if (item.is_copy) continue;
    ++kernels;
    const Program p = lower_item(item, gpu_tf32_options());
    on_tensor_cores += p.opts.find("tensor_core") != std::string::npos;
    const std::string src = render_cuda(p);
    if (nvrtc) {
      EXPECT_NO_THROW(compiler->compile(src, p.name)) << p.name << " (" << p.opts << ")";
    }
  }
  EXPECT_GE(on_tensor_cores, 9) << "of " << kernels << " kernels: conv2-4 forward, their input and weight gradients";
}

// --- on a GPU, or on the CUDA emulator

int occurrences(const std::string& opts, const std::string& kind) {
  int n = 0;
  for (size_t at = opts.find(kind); at != std::string::npos; at = opts.find(kind, at + 1)) ++n;
  return n;
}

TEST(TensorCoreCuda, EveryMatmulVariantIsWithinTf32sBoundOfFloat64) {
  const auto mm = [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]); };
  {
    // Every variant once (80 emulated kernels are most of this file's time, under the sanitizers
    // minutes); the seeds below vary the inputs of the smaller cases.
    const uint64_t seed = testing_util::seeds().front();
    SCOPED_TRACE(testing_util::seed_note(seed));
    EXPECT_EQ(expect_tensor_core_variants_match(mm, {{128, 64}, {64, 128}}, 64, seed).size(), 2u * (7u + 7u + 5u + 3u * 7u))
        << "both orders of the sources, every warp tile, staged or not, prefetched, copied asynchronously (rings of 2, 3 "
           "and 4) or neither";
  }
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    // Sizes that only the smaller tiles divide (48 = 3 x 16 rows, 40 = 5 x 8 columns).
    EXPECT_GE(expect_tensor_core_variants_match(mm, {{48, 24}, {24, 40}}, 24, seed).size(), 1u);
    // An epilogue after the reduce and a batch: the fragments' indices pass through both.
    EXPECT_GE(expect_tensor_core_variants_match(
                  [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]).relu(); }, {{3, 32, 16}, {3, 16, 32}}, 16, seed)
                  .size(),
              1u);
  }
}

// cvt.rna.tf32.f32 rounds to nearest with ties away from zero: 1 + 2^-11 (a tie between 1 and
// 1 + 2^-10) becomes 1 + 2^-10 in every fragment register. Truncating, or rounding ties to even,
// gives 1; not rounding keeps 1 + 2^-11. The sums are exact in float32 either way.
// A convolution's tensor-core variants are what its search times by default (Tf32::kConvolutions),
// so each must hold TF32's bound too: the forward pass with its padding (masked loads inside a
// fragment) and the weight gradient, whose K is the batch and the pixels.
// The variants whose shared arrays outgrow 48 KB (dynamic shared memory, cuda_renderer.h): deep
// rings, and the 128x256 blocks of K-tile 32 that exist only as rings (add_variant), each within
// TF32's bound on a matmul just big enough for them (two K-tiles of 32).
TEST(TensorCoreCuda, RingsPast48KBAreWithinTf32sBoundOfFloat64) {
  const uint64_t seed = testing_util::seeds().front();
  SCOPED_TRACE(testing_util::seed_note(seed));
  int ring_only = 0;  // whose synchronous twin (a ring of S: 1/S of the bytes) would not fit either
  const VariantFilter past_48kb = [&](const Program& p) {
    const int64_t bytes = shared_array_bytes(p);
    if (bytes <= (48 << 10)) return false;
    const std::optional<std::vector<Opt>> opts = parse_opts(p.opts);
    EXPECT_TRUE(opts.has_value() && opts->back().kind == OptKind::kAsync) << p.opts << ": only rings may outgrow 48 KB";
    if (opts.has_value() && opts->back().kind == OptKind::kAsync) ring_only += bytes / opts->back().amount > (48 << 10);
    return true;
  };
  const std::vector<std::string> ran = expect_tensor_core_variants_match(
      [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]); }, {{128, 64}, {64, 256}}, 64, seed, past_48kb);
  EXPECT_EQ(ran.size(), 43u) << "both orders of the sources: every ring past 48 KB";
  EXPECT_EQ(ring_only, 6) << "the 128x256 blocks of K-tile 32, rings of 2, 3 and 4";
}

TEST(TensorCoreCuda, EveryConvVariantIsWithinTf32sBoundOfFloat64) {
  const uint64_t seed = testing_util::seeds().front();
  SCOPED_TRACE(testing_util::seed_note(seed));
  const auto forward = [](const std::vector<Tensor>& in) { return in[0].conv2d(in[1], Tensor(), 1, 1); };
  EXPECT_GE(expect_tensor_core_variants_match(forward, {{4, 16, 8, 8}, {16, 16, 3, 3}}, 16 * 9, seed).size(), 1u);
  const auto weight_gradient = [](const std::vector<Tensor>& in) {
    Tensor w = in[1].detach().requires_grad_();
    (in[0].conv2d(w) * in[2]).sum().backward();
    return w.grad();
  };
  EXPECT_GE(expect_tensor_core_variants_match(weight_gradient, {{8, 16, 6, 6}, {16, 16, 3, 3}, {8, 16, 4, 4}}, 8 * 16, seed).size(), 1u);
  // Unpadded: 12-wide output rows padded to 16 (stores gated), and the input gradient's 14-wide
  // ones; both with warp tiles down the rows (8 and 10 of them) and the weights staged alone. The
  // weight gradient's sum along those 12-wide rows padded to 16 (the mma's K), its warps on the
  // kernel's 3 offsets along a row.
  const auto unpadded = [](const std::vector<Tensor>& in) { return in[0].conv2d(in[1]); };
  const auto input_gradient = [](const std::vector<Tensor>& in) {
    Tensor x = in[0].detach().requires_grad_();
    (x.conv2d(in[1]) * in[2]).sum().backward();
    return x.grad();
  };
  struct Case {
    std::function<Tensor(const std::vector<Tensor>&)> f;
    std::vector<Shape> shapes;
    int64_t k;
  };
  for (const Case& c : {Case{unpadded, {{1, 32, 10, 14}, {32, 32, 3, 3}}, 32 * 9},
                        Case{input_gradient, {{1, 32, 10, 14}, {32, 32, 3, 3}, {1, 32, 8, 12}}, 32 * 9},
                        Case{weight_gradient, {{2, 16, 8, 14}, {16, 16, 3, 3}, {2, 16, 6, 12}}, 2 * 6 * 12}}) {
    int padded = 0, row_tiles = 0;
    std::string all;
    for (const std::string& opts : expect_tensor_core_variants_match(c.f, c.shapes, c.k, seed)) {
      all += "\n  " + opts;
      padded += opts.find("pad ") != std::string::npos;
      row_tiles += occurrences(opts, "local") == 1;  // warps down the rows or along the offsets (kWarpTiles: none or 2)
    }
    EXPECT_GE(padded, 1) << "variants:" << all;
    EXPECT_GE(row_tiles, 1) << "variants:" << all;
  }
}

TEST(TensorCoreCuda, InputsAreRoundedToTf32TiesAwayFromZero) {
  const std::string dev = gpu();
  Tf32On tf32;
  const float tie = 1.0f + 1.0f / 2048;
  Tensor a = Tensor::from_vector(std::vector<float>(16 * 8, tie), {16, 8}, dev);
  Tensor b = Tensor::from_vector(std::vector<float>(8 * 16, 1.0f), {8, 16}, dev);
  Tensor neg = Tensor::from_vector(std::vector<float>(16 * 8, -tie), {16, 8}, dev);
  for (double got : a.matmul(b).to_doubles()) ASSERT_EQ(got, 8 * (1.0 + 1.0 / 1024));
  for (double got : neg.matmul(b).to_doubles()) ASSERT_EQ(got, -8 * (1.0 + 1.0 / 1024));
}

// The same ties through every tensor-core variant of a bigger matmul, the staged ones among them,
// whose copies round (tt_round_tf32) and whose mmas then take the bits as they are: a copy that
// forgot to round would leave 1 + 2^-11, which the hardware truncates to 1. (The asynchronous
// copies move the bits as they are; their mmas round.)
TEST(TensorCoreCuda, StagedCopiesRoundTiesAwayFromZeroToo) {
  const std::string dev = gpu();
  Tf32On tf32;
  const float tie = 1.0f + 1.0f / 2048;
  Tensor a = Tensor::from_vector(std::vector<float>(128 * 64, tie), {128, 64}, dev);
  Tensor b = Tensor::from_vector(std::vector<float>(64 * 128, -1.0f), {64, 128}, dev);
  int staged = 0;
  for (const auto& [p, got] : run_tensor_core_variants(a.matmul(b), dev)) {
    SCOPED_TRACE(p.opts);
    staged += p.opts.find("stage") != std::string::npos;
    for (float g : got) ASSERT_EQ(g, -64 * (1.0 + 1.0 / 1024));
  }
  EXPECT_EQ(staged, 2 * (7 + 5 + 3 * 7));
}

// INTERP (float32, no tensor cores) against CUDA with TT_TF32=1 on a small conv: the image's
// padding (masked loads inside a fragment) and the 3x3 window as loops around the mma's channels.
TEST(TensorCoreCuda, SmallConvMatchesInterpWithinTf32sBound) {
  const std::string dev = gpu();
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    Tensor::manual_seed(seed);
    Tensor x = Tensor::randn({4, 16, 8, 8}, DType::kFloat32, "INTERP").realize();
    Tensor w = Tensor::randn({16, 16, 3, 3}, DType::kFloat32, "INTERP").realize();
    const std::vector<double> want = x.conv2d(w, Tensor(), 1, 1).to_doubles();
    const std::vector<double> scale = x.abs().conv2d(w.abs(), Tensor(), 1, 1).to_doubles();
    Tf32On tf32;
    Tensor y = x.to(dev).conv2d(w.to(dev), Tensor(), 1, 1);
    const std::vector<ScheduleItem> items = create_schedule({y.lazy()});
    Kernel k(items.back().ast, buffer_args(items.back()));
    k.gpu = true;
    ASSERT_FALSE(tensor_core_choices(k).empty()) << "16 channels out (the mma's M), 8 pixels a row (N), 16 in (K)";
    const std::vector<double> got = y.to_doubles();
    // 144 terms (16 channels x 3 x 3); INTERP's float32 sum adds its own K v to the bound.
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_LE(std::abs(got[i] - want[i]), (tf32_bound(144) + 144 * kFloat32Roundoff) * scale[i])
          << "element " << i << ": INTERP " << want[i] << ", " << dev << " with TF32 " << got[i];
    }
  }
}

}  // namespace
}  // namespace tinyref
