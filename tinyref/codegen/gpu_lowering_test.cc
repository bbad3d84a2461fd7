// GPU code generation, checked everywhere without running a kernel: lowering for a GPU (the
// output loops become block and thread indices, group reductions go through shared memory,
// staged K-tiles copy into shared memory between barriers) and NVRTC compiling what the CUDA
// renderer prints. gpu_test.cc runs the kernels.
#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/cuda/compiler.h"
#include "tinyref/backends/cuda/nvrtc.h"
#include "tinyref/backends/registry.h"
#include "tinyref/codegen/cuda_renderer.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/renderer.h"
#include "tinyref/codegen/staging.h"
#include "tinyref/engine/realize.h"
#include "tinyref/engine/search.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

CodegenOptions gpu_options() {
  CodegenOptions o;
  o.gpu = true;
  o.vector_bytes = 0;
  o.threads = 1;
  return o;
}

// The last kernel of t's schedule, lowered for a GPU (nothing runs).
Program lower_last(const Tensor& t) {
  std::vector<ScheduleItem> items = create_schedule({t.lazy()});
  return lower_item(items.back(), gpu_options());
}

// NVRTC needs the CUDA toolkit, not a GPU: where the build has none, the compile checks skip.
#define REQUIRE_NVRTC()                                                                                \
  do {                                                                                                 \
    if (!cuda::nvrtc_available()) GTEST_SKIP() << "built without the CUDA toolkit: no NVRTC to compile with"; \
  } while (0)

int count(const Program& p, UOpKind kind) {
  int n = 0;
  for (const UOp& u : p.uops) n += u.kind == kind;
  return n;
}

TEST(GpuLowering, MatmulIsATwoDimensionalRegisterTileWithNoOutputLoops) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP");
  Tensor b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  Program p = lower_last(a.matmul(b));
  SCOPED_TRACE(p.to_string());
  EXPECT_EQ(p.local_size, 256) << "16x16 threads a block";
  EXPECT_EQ(p.global_size, (256 / 64) * (512 / 64)) << "a block covers 64x64 outputs";
  EXPECT_EQ(count(p, UOpKind::kSpecial), 2);
  int loops = 0;
  for (const UOp& u : p.uops) loops += u.kind == UOpKind::kRange;
  EXPECT_EQ(loops, 1) << "only the K loop is a loop";
  int stores = count(p, UOpKind::kStore);
  EXPECT_EQ(stores, 16) << "a 4x4 register tile per thread";
}

TEST(GpuLowering, FullSumIsOneBlockWithSharedMemoryAndABarrier) {
  Program p = lower_last(Tensor::randn({1 << 16}, DType::kFloat32, "INTERP").sum());
  SCOPED_TRACE(p.to_string());
  EXPECT_EQ(p.global_size, 1);
  EXPECT_EQ(p.local_size, 256);
  EXPECT_EQ(count(p, UOpKind::kDefineLocal), 1);
  EXPECT_EQ(count(p, UOpKind::kBarrier), 1);
  for (const UOp& u : p.uops) {
    if (u.kind == UOpKind::kStore && p.uops[u.src[0]].kind == UOpKind::kDefineGlobal) {
      EXPECT_EQ(u.src.size(), 4u) << "the result is written by one thread (a gated store)";
    }
  }
}

TEST(GpuLowering, GroupPartialsAreAddedUpByColumns) {
  // A weight-gradient-shaped matmul: 256 threads a block, each with 4x4 outputs of its share of
  // the 8192 products. Thread c adds up column c of the 256 x 16 partials (one shared read in a
  // loop) and, after a second barrier, every thread reads the 16 sums: 1 + 16 reads of shared
  // memory in the program, where one thread adding up every column would read 16 in the loop.
  Tensor a = Tensor::randn({64, 8192}, DType::kFloat32, "INTERP"), b = Tensor::randn({8192, 64}, DType::kFloat32, "INTERP");
  Program p = lower_last(a.matmul(b));
  SCOPED_TRACE(p.to_string());
  ASSERT_EQ(p.local_size, 256);
  int shared_reads = 0, reads_in_loop = 0, depth = 0;
  for (const UOp& u : p.uops) {
    depth += u.kind == UOpKind::kRange ? 1 : u.kind == UOpKind::kEndRange ? -1 : 0;
    if (u.kind == UOpKind::kLoad && p.uops[u.src[0]].kind == UOpKind::kDefineLocal) {
      ++shared_reads;
      reads_in_loop += depth > 0;
    }
  }
  EXPECT_EQ(reads_in_loop, 1);
  EXPECT_EQ(shared_reads, 17);
  EXPECT_EQ(count(p, UOpKind::kBarrier), 2);
}

TEST(GpuLowering, ElementwiseSpreadsThreadsOverTheContiguousOutput) {
  Tensor x = Tensor::randn({1000, 64}, DType::kFloat32, "INTERP");
  Program p = lower_last((x * 2.0 + 1.0).relu());
  EXPECT_EQ(p.local_size * p.global_size, 64000) << "one thread per output";
  EXPECT_EQ(p.local_size, 256);
}

TEST(GpuLowering, TheCudaRendererOutputCompilesWithNvrtc) {
  // NVRTC needs no GPU, so CI checks that every kind of kernel renders to valid CUDA C.
  Tensor x = Tensor::randn({64, 96}, DType::kFloat32, "INTERP");
  Tensor w = Tensor::randn({96, 128}, DType::kFloat32, "INTERP");
  Tensor img = Tensor::randn({4, 3, 12, 12}, DType::kFloat32, "INTERP");
  Tensor k = Tensor::randn({8, 3, 3, 3}, DType::kFloat32, "INTERP");
  std::vector<std::pair<std::string, Tensor>> graphs = {
      {"matmul+relu", (x.matmul(w) + 1.0).relu()},
      {"full sum", Tensor::randn({1 << 14}, DType::kFloat32, "INTERP").sum()},
      {"row max", x.max({1})},
      {"softmax", x.softmax(1)},
      {"conv with padding", img.conv2d(k, Tensor(), 1, 1)},
      {"exp, log, sin, sqrt", ((x.exp() + x.sin().abs()).log() + x.abs().sqrt())},
      {"int32 and bool", x.cast(DType::kInt32).mod(Tensor::full({64, 96}, 3, DType::kInt32, "INTERP")).eq(
                             Tensor::full({64, 96}, 1, DType::kInt32, "INTERP")).cast(DType::kFloat32)},
      {"float64", x.cast(DType::kFloat64).exp()},
      {"infinity and nan constants", x.max({0}) + x.min({0})},
  };
  REQUIRE_NVRTC();
  cuda::Compiler nvrtc(90, "");  // sm_90a, the H100's and H200's architecture
  for (const auto& [what, t] : graphs) {
    for (const ScheduleItem& item : create_schedule({t.lazy()})) {
      if (item.is_copy) continue;
      Program p = lower_item(item, gpu_options());
      const std::string src = render_cuda(p);
      EXPECT_NO_THROW(nvrtc.compile(src, p.name)) << what << ":\n" << src;
    }
  }
}

TEST(GpuLowering, EverySearchVariantRendersAndCompiles) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP");
  Tensor b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  std::vector<std::pair<std::string, Tensor>> graphs = {
      {"matmul (2d tiles)", a.matmul(b)},
      {"row sums (group)", Tensor::randn({8, 8192}, DType::kFloat32, "INTERP").sum({1})},
      {"elementwise (spread)", (a * 2.0).exp()},
      {"padded conv (spread, staged)", Tensor::randn({32, 16, 12, 12}, DType::kFloat32, "INTERP").conv2d(
                                           Tensor::randn({32, 16, 5, 5}, DType::kFloat32, "INTERP"), Tensor(), 1, 2)},
      {"long K matmul (group)", Tensor::randn({64, 8192}, DType::kFloat32, "INTERP").matmul(
                                    Tensor::randn({8192, 64}, DType::kFloat32, "INTERP"))},
      {"conv weight gradient (group, few outputs)", [] {
         Tensor w = Tensor::randn({16, 8, 5, 5}, DType::kFloat32, "INTERP").requires_grad_();
         (Tensor::randn({64, 8, 20, 20}, DType::kFloat32, "INTERP").conv2d(w) *
          Tensor::randn({64, 16, 16, 16}, DType::kFloat32, "INTERP")).sum().backward();
         return w.grad();
       }()},
  };
  REQUIRE_NVRTC();
  cuda::Compiler nvrtc(90, "");
  for (const auto& [what, t] : graphs) {
    const std::vector<Program> variants = lower_variants(create_schedule({t.lazy()}).back(), gpu_options());
    for (size_t v = 0; v < variants.size(); ++v) {
      EXPECT_NO_THROW(nvrtc.compile(render_cuda(variants[v]), variants[v].name)) << what << " variant " << v;
    }
    EXPECT_GE(variants.size(), 3u) << what << ": the search needs choices";
    size_t staged = 0;
    for (const Program& p : variants) {
      staged += p.opts.find("stage") != std::string::npos;
      // The copies into shared memory are unrolled: a block of few threads copying a big tile
      // would be thousands of statements (NVRTC took minutes over one).
      int copies = 0;
      for (const UOp& u : p.uops) copies += u.kind == UOpKind::kStore && p.uops[u.src[0]].tag == "stage";
      EXPECT_LE(copies, 64) << what << ": " << p.name << " (" << p.opts << ")";
    }
    if (what == "matmul (2d tiles)") {
      EXPECT_EQ(variants.size(), 20u + 11u) << "with the float4, the staged and the paired tiles, 11 staged ones prefetched too";
      EXPECT_EQ(staged, 12u + 11u);
    }
    if (what == "elementwise (spread)") {
      EXPECT_EQ(variants.size(), 4u) << "block sizes only";
    }
    if (what == "padded conv (spread, staged)") {
      EXPECT_EQ(variants.size(), 14u + 4u) << "threads first, or the register tile first";
      EXPECT_EQ(staged, 4u + 4u) << "each staged one prefetched too";
    }
    if (what == "long K matmul (group)") {
      size_t grouped = 0;
      for (const Program& p : variants) grouped += p.opts.find("group") != std::string::npos;
      EXPECT_EQ(grouped, 7u) << "1024 threads x 16 partials do not fit";
      EXPECT_NE(variants[0].opts.find("group"), std::string::npos) << "a long reduction: a group reduce first";
      EXPECT_EQ(variants.size(), 7u + 18u) << "then every spread";
      EXPECT_EQ(staged, 4u + 4u);
    }
  }
}

// The staged variants of a matmul-shaped kernel (opts name "stage").
std::vector<Program> staged_variants(const Tensor& t) {
  std::vector<Program> out;
  for (Program& p : lower_variants(create_schedule({t.lazy()}).back(), gpu_options())) {
    if (p.opts.find("stage") != std::string::npos) out.push_back(std::move(p));
  }
  return out;
}

// Inside the K-tile loop (the first RANGE): the copies into shared memory, a barrier, the
// register tile reading shared memory only, and a barrier before the next turn's copies.
// Prefetched, the copies store registers loaded before the loop, and the only global reads
// after the first barrier are the next K-tile's, each into one of those registers.
void expect_staged_k_tile(const Program& p, int staged_inputs) {
  const bool prefetched = p.opts.find("prefetch") != std::string::npos;
  SCOPED_TRACE(p.opts + "\n" + p.to_string());
  EXPECT_EQ(count(p, UOpKind::kDefineLocal), staged_inputs);
  int tile_loop = -1, end = -1;
  for (size_t i = 0; i < p.uops.size(); ++i) {
    if (p.uops[i].kind == UOpKind::kRange && tile_loop < 0) tile_loop = static_cast<int>(i);
    if (p.uops[i].kind == UOpKind::kEndRange && p.uops[i].src[0] == tile_loop) end = static_cast<int>(i);
  }
  ASSERT_GE(tile_loop, 0);
  std::vector<int> barriers;
  for (int i = tile_loop; i < end; ++i) {
    if (p.uops[i].kind == UOpKind::kBarrier) barriers.push_back(i);
  }
  ASSERT_EQ(barriers.size(), 2u) << "two barriers per K-tile";
  EXPECT_EQ(p.uops[end - 1].kind, UOpKind::kBarrier) << "the second one ends the turn";
  auto is_local = [&](const UOp& u) { return p.uops[u.src[0]].kind == UOpKind::kDefineLocal; };
  int copies = 0, shared_reads = 0, global_reads_after = 0, prefetches = 0;
  auto is_register = [&](int v) {  // a DEFINE_ACC from before the loop (or one lane of one)...
    if (p.uops[v].kind == UOpKind::kGep) v = p.uops[v].src[0];
    return p.uops[v].kind == UOpKind::kDefineAcc && v < tile_loop;
  };
  std::set<int> registers;  // ...that a copy stores
  for (int i = tile_loop; i < end; ++i) {
    const UOp& u = p.uops[i];
    if (u.kind == UOpKind::kStore && is_local(u) && is_register(u.src[2])) {
      registers.insert(p.uops[u.src[2]].kind == UOpKind::kGep ? p.uops[u.src[2]].src[0] : u.src[2]);
    }
  }
  for (int i = tile_loop; i < end; ++i) {
    const UOp& u = p.uops[i];
    if (u.kind == UOpKind::kStore && is_local(u)) {
      EXPECT_LT(i, barriers[0]) << "copies before the first barrier";
      EXPECT_EQ(is_register(u.src[2]), prefetched) << "uop " << i << ": prefetched, a copy stores a register";
      ++copies;
    }
    if (u.kind == UOpKind::kAssign && i > barriers[0] && registers.count(u.src[0])) {
      const UOp& v = p.uops[u.src[1]];
      EXPECT_TRUE(v.kind == UOpKind::kLoad && !is_local(v)) << "uop " << i << ": a register takes the next K-tile's load";
      ++prefetches;
    }
    if (u.kind == UOpKind::kLoad && is_local(u)) {
      EXPECT_GT(i, barriers[0]) << "reads after it";
      ++shared_reads;
    }
    if (u.kind == UOpKind::kLoad && !is_local(u) && i > barriers[0]) ++global_reads_after;
  }
  EXPECT_GT(copies, 0);
  EXPECT_GT(shared_reads, 0);
  EXPECT_EQ(global_reads_after, prefetches) << "every input of this kernel is staged";
  EXPECT_EQ(prefetches > 0, prefetched);
}

TEST(GpuLowering, StagedMatmulCopiesTilesToSharedMemoryBetweenTwoBarriers) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP");
  Tensor b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  const std::vector<Program> staged = staged_variants(a.matmul(b));
  ASSERT_GE(staged.size(), 4u);
  for (const Program& p : staged) expect_staged_k_tile(p, 2);
  // 16x16 threads, 8x8 outputs each, K-tile 16: A's 128x16 tile and B's 16x128 (each array
  // perhaps padded a little: staging.cc, choose_layout), 8 copies each.
  // Each copy loads 4 neighbours of global memory as one float4 (K and the columns are
  // contiguous there); it stores them as one where they are neighbours in the array too.
  const Program& p = staged[0];
  int copied = 0, float4_loads = 0, scalar_loads = 0;
  for (const UOp& u : p.uops) {
    if (u.kind == UOpKind::kDefineLocal) {
      EXPECT_GE(u.arg, 128 * 16);
      EXPECT_LE(u.arg, 128 * 16 * 3 / 2);
    }
    if (u.kind == UOpKind::kStore && p.uops[u.src[0]].kind == UOpKind::kDefineLocal) copied += u.lanes;
    if (u.kind == UOpKind::kLoad && p.uops[u.src[0]].kind == UOpKind::kDefineGlobal) {
      float4_loads += u.lanes == 4 && u.arg == 1;
      scalar_loads += u.lanes == 1;
    }
  }
  EXPECT_EQ(copied, 2 * 128 * 16 / 256);
  EXPECT_EQ(float4_loads, copied / 4);
  EXPECT_EQ(scalar_loads, 0);
  for (const Program& v : staged) {
    SCOPED_TRACE(v.opts);
    // Every thread's register tile is 4 or 8 a side, so it reads the staged operands four
    // neighbouring values at a time, as aligned float4s: a quarter of the loads of scalar reads,
    // and no more bank passes.
    for (const UOp& u : v.uops) {
      if (u.kind != UOpKind::kLoad || v.uops[u.src[0]].kind != UOpKind::kDefineLocal) continue;
      EXPECT_EQ(u.lanes, 4);
      EXPECT_EQ(u.arg, 1) << "aligned";
    }
  }
  REQUIRE_NVRTC();
  cuda::Compiler nvrtc(90, "");
  for (const Program& v : staged) {
    const std::string src = render_cuda(v);
    EXPECT_NE(src.find("__shared__"), std::string::npos);
    EXPECT_NO_THROW(nvrtc.compile(src, v.name)) << v.opts << ":\n" << src;
  }
}

// Copied by cp.async into a ring of S arrays (Opt kAsync, staging.h): S - 1 K-tiles started
// before the loop, each a group; a turn waits until S - 2 groups are left (its own K-tile has
// landed), meets the others at its one barrier, only then starts the copies of the K-tile S - 1
// ahead (into the array the turn before read) and reads shared memory; after the loop nothing is
// left in flight. (The emulator lands each copy at the wait that lets it finish, so gpu_test
// catches a wait in the wrong place too, as a read of shared memory nobody wrote or a race.)
TEST(GpuLowering, AsyncCopiesLandBeforeTheTurnsOneBarrierAndRunAhead) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP");
  Tensor b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  CodegenOptions o = gpu_options();
  o.async_copies = true;
  std::vector<Program> ring;
  std::map<std::string, std::vector<int64_t>> array_sizes;  // by opts: each DEFINE_LOCAL's
  for (Program& p : lower_variants(create_schedule({a.matmul(b).lazy()}).back(), o)) {
    for (const UOp& u : p.uops) {
      if (u.kind == UOpKind::kDefineLocal) array_sizes[p.opts].push_back(u.arg);
    }
    if (p.opts.find("async") != std::string::npos) ring.push_back(std::move(p));
  }
  ASSERT_EQ(ring.size(), 19u) << "the staged tiles' rings of 2, 3 and 4 that fit in 48 KB";
  REQUIRE_NVRTC();
  cuda::Compiler nvrtc(90, "");
  for (const Program& p : ring) {
    SCOPED_TRACE(p.opts + "\n" + p.to_string());
    const std::optional<std::vector<Opt>> opts = parse_opts(p.opts);
    ASSERT_TRUE(opts.has_value());
    const int64_t stages = opts->back().amount;
    int tile_loop = -1, end = -1;
    for (size_t i = 0; i < p.uops.size(); ++i) {
      if (p.uops[i].kind == UOpKind::kRange && tile_loop < 0) tile_loop = static_cast<int>(i);
      if (p.uops[i].kind == UOpKind::kEndRange && p.uops[i].src[0] == tile_loop) end = static_cast<int>(i);
    }
    ASSERT_GE(end, 0);
    int commits_before = 0, copies_before = 0;
    for (int i = 0; i < tile_loop; ++i) {
      commits_before += p.uops[i].kind == UOpKind::kAsyncCommit;
      copies_before += p.uops[i].kind == UOpKind::kCopyAsync;
    }
    EXPECT_EQ(commits_before, stages - 1) << "the K-tiles ahead, a group each";
    std::vector<int> waits, barriers, commits, copies, shared_reads;
    for (int i = tile_loop; i < end; ++i) {
      const UOp& u = p.uops[i];
      if (u.kind == UOpKind::kAsyncWait) waits.push_back(i);
      if (u.kind == UOpKind::kBarrier) barriers.push_back(i);
      if (u.kind == UOpKind::kAsyncCommit) commits.push_back(i);
      if (u.kind == UOpKind::kCopyAsync) copies.push_back(i);
      if (u.kind == UOpKind::kLoad && p.uops[u.src[0]].kind == UOpKind::kDefineLocal) shared_reads.push_back(i);
      EXPECT_FALSE(u.kind == UOpKind::kStore && p.uops[u.src[0]].kind == UOpKind::kDefineLocal) << "uop " << i << ": copies skip the registers";
    }
    ASSERT_EQ(waits.size(), 1u);
    EXPECT_EQ(p.uops[waits[0]].arg, stages - 2) << "this turn's K-tile is the oldest group out";
    ASSERT_EQ(barriers.size(), 1u) << "one barrier a turn";
    EXPECT_LT(waits[0], barriers[0]);
    ASSERT_EQ(commits.size(), 1u);
    EXPECT_EQ(static_cast<int>(copies.size()), copies_before / (stages - 1)) << "a K-tile's copies, as before the loop";
    EXPECT_GT(copies.front(), barriers[0]) << "the ring's next array is free only once every thread has passed the barrier";
    EXPECT_LT(copies.back(), commits[0]);
    ASSERT_FALSE(shared_reads.empty());
    EXPECT_GT(shared_reads.front(), barriers[0]);
    ASSERT_LT(end + 1, static_cast<int>(p.uops.size()));
    EXPECT_EQ(p.uops[end + 1].kind, UOpKind::kAsyncWait) << "after the loop";
    EXPECT_EQ(p.uops[end + 1].arg, 0);
    const std::string synchronous = p.opts.substr(0, p.opts.rfind(", async"));
    ASSERT_TRUE(array_sizes.count(synchronous)) << "the same tile, copied through registers";
    std::vector<int64_t> rings = array_sizes[synchronous];
    for (int64_t& n : rings) n *= stages;
    EXPECT_EQ(array_sizes[p.opts], rings) << "each array a ring of " << stages;
    const std::string src = render_cuda(p);
    EXPECT_NE(src.find("tt_copy_async16("), std::string::npos) << "float4 copies";
    EXPECT_NO_THROW(nvrtc.compile(src, p.name)) << src;
  }
}

// A ring of K-tiles may outgrow the 48 KB a CUDA kernel declares: where the GPU lets a kernel opt
// in to more (227 KB on an H100), the search tries rings of 3 and 4 too, and the renderer makes
// every shared array a pointer into one extern __shared__ block that the launch sizes
// (Program::dynamic_shared_bytes; cuda_renderer.h). Kernels within 48 KB keep their arrays.
TEST(GpuLowering, RingsPast48KBComeFromDynamicSharedMemory) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP");
  Tensor b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  CodegenOptions o = gpu_options();
  o.async_copies = true;
  o.max_shared_bytes_opt_in = 227 << 10;
  std::vector<Program> dynamic;
  std::string listed;
  for (Program& p : lower_variants(create_schedule({a.matmul(b).lazy()}).back(), o)) {
    render(p, Language::kCuda);
    const int64_t bytes = shared_array_bytes(p);
    listed += p.opts + ": " + std::to_string(bytes) + " bytes\n";
    if (bytes <= (48 << 10)) {
      EXPECT_EQ(p.dynamic_shared_bytes, 0) << p.opts;
      EXPECT_EQ(p.src.find("extern __shared__"), std::string::npos) << p.opts;
      continue;
    }
    EXPECT_NE(p.opts.find("async"), std::string::npos) << p.opts << ": only rings may outgrow 48 KB";
    EXPECT_EQ(p.dynamic_shared_bytes, bytes) << p.opts;
    EXPECT_NE(p.src.find("extern __shared__ float4 tt_shared[];"), std::string::npos) << p.src;
    EXPECT_EQ(p.src.find("__shared__ __align__"), std::string::npos) << "no array of its own: " << p.src;
    dynamic.push_back(std::move(p));
  }
  EXPECT_EQ(dynamic.size(), 36u - 19u) << "the rings that AsyncCopiesLandBeforeTheTurnsOneBarrierAndRunAhead leaves out\n" << listed;
  REQUIRE_NVRTC();
  cuda::Compiler nvrtc(90, "");
  for (const Program& p : dynamic) EXPECT_NO_THROW(nvrtc.compile(p.src, p.name)) << p.src;
}

// cp.async copies float32s here (the CUDA prefix's tt_copy_async16/4): a float64 matmul's staged
// variants copy through registers, whatever the options allow.
TEST(GpuLowering, OnlyFloat32TilesAreCopiedAsynchronously) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat64, "INTERP");
  Tensor b = Tensor::randn({128, 512}, DType::kFloat64, "INTERP");
  CodegenOptions o = gpu_options();
  o.async_copies = true;
  int staged = 0;
  for (const Program& p : lower_variants(create_schedule({a.matmul(b).lazy()}).back(), o)) {
    staged += p.opts.find("stage") != std::string::npos;
    EXPECT_EQ(p.opts.find("async"), std::string::npos) << p.opts;
  }
  EXPECT_GT(staged, 0) << "float64 tiles are staged all the same";
}

// The paired tile (optimizer_gpu.cc, tile_2d): lanes l and l ^ 1 of a warp read the same float4
// of B and lanes l and l ^ 2 the same of A, so shared memory serves each read in two passes.
// Checked from the kernel's thread digits and the arrays' strides, not from the chooser's model.
TEST(GpuLowering, PairedTileLanesShareTheirStagedReadsInPairs) {
  Tensor a = Tensor::randn({256, 128}, DType::kFloat32, "INTERP"), b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  const Tensor c = a.matmul(b);
  const ScheduleItem item = create_schedule({c.lazy()}).back();
  int paired = 0;
  for (const Program& p : lower_variants(item, gpu_options())) {
    if (p.opts.find("local 0 2") == std::string::npos) continue;
    SCOPED_TRACE(p.opts);
    ++paired;
    Kernel k(item.ast, buffer_args(item));
    k.gpu = true;
    const std::optional<std::vector<Opt>> opts = parse_opts(p.opts);
    ASSERT_TRUE(opts.has_value());
    for (const Opt& o : *opts) k.apply(o);
    const std::vector<size_t> locals = k.dims(Axis::kLocal);
    ASSERT_EQ(locals.size(), 4u) << "rows' threads, columns' threads, columns' pair, rows' pair";
    const Shape full = k.full_shape();
    const std::vector<StagedLeaf> plan = plan_staging(k);
    ASSERT_EQ(plan.size(), 2u);
    size_t lanes = 1;  // distinct reads of A times distinct reads of B
    for (const StagedLeaf& s : plan) {
      const bool is_a = k.leaves[s.leaf] == k.reduce->src[0]->src[0].get();
      EXPECT_EQ(s.read_lanes, 4);
      ASSERT_GE(s.read_dim, 0);
      const size_t inner = std::find(s.dims.begin(), s.dims.end(), static_cast<size_t>(s.read_dim)) - s.dims.begin();
      EXPECT_EQ(s.strides[inner], 1) << "a float4's lanes side by side";
      // Where lane l reads at K 0 and its register tile's first position.
      auto element = [&](int64_t lane) {
        std::vector<int64_t> at(k.ndim(), 0);
        for (size_t i = locals.size(); i-- > 0; lane /= full[locals[i]]) at[locals[i]] = lane % full[locals[i]];
        int64_t e = 0;
        for (size_t j = 0; j < s.dims.size(); ++j) e += at[s.dims[j]] * s.strides[j];
        return e;
      };
      const int64_t partner = is_a ? 2 : 1;
      std::set<int64_t> distinct;
      for (int64_t lane = 0; lane < 32; ++lane) {
        EXPECT_EQ(element(lane), element(lane ^ partner)) << (is_a ? "A" : "B") << ", lane " << lane;
        distinct.insert(element(lane));
      }
      EXPECT_GE(distinct.size(), 2u);
      lanes *= distinct.size();
    }
    EXPECT_EQ(lanes, 32u) << "each lane its own (threads of rows, threads of columns) pair";
  }
  EXPECT_EQ(paired, 5 + 4) << "16x16 threads with K-tiles of 8, 16 and 32; 8x8 with 16 and 32; all but the last also prefetched";
}

// A's tile read from a view one column into a 256x129 buffer: its K runs are contiguous, but
// element k of a row sits at 129*row + 1 + k, no multiple of 4, so its copies load one float at a
// time (a float4 load there would be misaligned); B's still load float4s.
TEST(GpuLowering, StagedCopiesOfAnUnalignedViewLoadOneFloatAtATime) {
  Tensor a = Tensor::randn({256, 129}, DType::kFloat32, "INTERP").realize().shrink({{0, 256}, {1, 129}});
  Tensor b = Tensor::randn({128, 512}, DType::kFloat32, "INTERP");
  const std::vector<Program> staged = staged_variants(a.matmul(b));
  ASSERT_FALSE(staged.empty());
  for (const Program& p : staged) {
    SCOPED_TRACE(p.opts);
    int scalar_a = 0, float4_b = 0, float4_a = 0;
    for (const UOp& u : p.uops) {
      if (u.kind != UOpKind::kLoad || p.uops[u.src[0]].kind != UOpKind::kDefineGlobal) continue;
      const bool from_a = p.uops[u.src[0]].arg == 1;  // data1
      scalar_a += from_a && u.lanes == 1;
      float4_a += from_a && u.lanes == 4;
      float4_b += !from_a && u.lanes == 4;
    }
    EXPECT_GT(scalar_a, 0);
    EXPECT_EQ(float4_a, 0) << "A's elements at 129*row + 1 + k are not 16-byte aligned";
    EXPECT_GT(float4_b, 0);
  }
}

TEST(GpuLowering, StagedConvCopiesTheWeightTileWithTheThreadsPastItsEndIdle) {
  // The weight is shared by the threads (one per output pixel); its K-tile (8 channels x 3x3)
  // is smaller than the block, so the copy is gated. The image is not shared: read directly.
  Tensor x = Tensor::randn({2, 8, 66, 66}, DType::kFloat32, "INTERP");
  Tensor w = Tensor::randn({16, 8, 3, 3}, DType::kFloat32, "INTERP");
  const std::vector<Program> staged = staged_variants(x.conv2d(w));
  ASSERT_GE(staged.size(), 2u);
  for (const Program& p : staged) {
    SCOPED_TRACE(p.opts);
    EXPECT_EQ(count(p, UOpKind::kDefineLocal), 1);
    EXPECT_EQ(count(p, UOpKind::kBarrier), 2);
    bool gated_copy = false;
    for (const UOp& u : p.uops) gated_copy |= u.kind == UOpKind::kStore && p.uops[u.src[0]].kind == UOpKind::kDefineLocal && u.src.size() == 4;
    EXPECT_TRUE(gated_copy);
  }
  REQUIRE_NVRTC();
  cuda::Compiler nvrtc(90, "");
  for (const Program& v : staged) EXPECT_NO_THROW(nvrtc.compile(render_cuda(v), v.name)) << v.opts;
}

}  // namespace
}  // namespace tinyref
