// Kernel IR, optimizer and renderer: optimized kernels compute what the plain ones do, and the
// generated C++ has the documented shape.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <tuple>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/registry.h"
#include "tinyref/codegen/cpp_renderer.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/linearizer.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/renderer.h"
#include "tinyref/engine/realize.h"
#include "tinyref/env.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

namespace fs = std::filesystem;

// Realizes everything the last kernel of t's schedule reads, then returns that kernel.
ScheduleItem last_kernel(const Tensor& t) {
  std::vector<ScheduleItem> items = create_schedule({t.lazy()});
  ScheduleItem last = items.back();
  items.pop_back();
  run_schedule(items);
  return last;
}

std::vector<BufferArg> args(const ScheduleItem& item) {
  std::vector<BufferArg> a;
  for (const LazyRef& b : item.bufs) a.push_back({b->dtype(), b->numel()});
  return a;
}

// The optimizer's choices follow the machine (backends/cpu/cpu_target.h), so the tests that pin
// them down name one: an AVX2 core (16 ymm registers, a Zen 3's 512 KiB L2) or an AVX-512 core
// (32 zmm registers, a Zen 5's 1 MiB L2). The kernels run on any x86 machine either way: wider
// vectors than the core has compile to several narrower instructions.
const CodegenOptions kAvx2{.vector_bytes = 32, .threads = 2, .max_upcast = 64, .vector_registers = 16,
                           .l2_bytes = 512 << 10, .language = Language::kCpp};
const CodegenOptions kAvx512{.vector_bytes = 64, .threads = 2, .max_upcast = 256, .vector_registers = 32,
                             .l2_bytes = 1 << 20, .language = Language::kCpp};

// The item's kernel as the CPU optimizer leaves it for a machine.
Kernel cpu_optimized(const ScheduleItem& item, const CodegenOptions& machine = kAvx2) {
  Kernel k(item.ast, args(item));
  optimize(k, machine);
  return k;
}

// Runs a program on a device into a fresh output; returns the output as doubles.
std::vector<double> run(Program p, const ScheduleItem& item, const std::string& dev) {
  Device& d = get_device(dev);
  render(p, d.codegen_options().language);
  Buffer out(d, item.bufs[0]->dtype(), item.bufs[0]->numel());
  std::vector<void*> ptrs = {out.ptr()};
  for (size_t i = 1; i < item.bufs.size(); ++i) ptrs.push_back(item.bufs[i]->realized_buffer()->ptr());
  d.launch(*d.compile(p), ptrs);
  std::vector<float> host(out.numel());
  out.copy_out(host.data());
  return {host.begin(), host.end()};
}

TEST(Optimizer, OptimizedKernelsMatchPlainOnes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    Tensor::manual_seed(seed);
    auto r = [](Shape s) { return Tensor::randn(s, DType::kFloat32, "INTERP"); };
    Tensor x = r({64, 48}), w = r({48, 32}), img = r({2, 3, 10, 10}), k = r({8, 3, 3, 3});
    std::vector<std::pair<std::string, Tensor>> graphs = {
        {"matmul+relu", (x.matmul(w) + 1.0).relu()},
        {"full sum", (x * x).sum()},
        {"row max", x.max({1})},
        {"column sum", x.sum({0})},
        {"softmax", x.softmax(1)},
        {"conv", img.conv2d(k, Tensor(), 1, 1)},
        {"elementwise", (x.exp() * 2.0 - x).sqrt()},
        {"big sum", r({1 << 16}).sum()},
        // A reduce with an epilogue that compares and casts (ReLU's backward mask).
        {"matmul*mask", x.matmul(w) * r({64, 32}).gt(Tensor::zeros({1}, DType::kFloat32, "INTERP")).cast(DType::kFloat32)},
    };
    for (auto& [name, t] : graphs) {
      ScheduleItem item = last_kernel(t);
      Kernel plain(item.ast, args(item));
      std::vector<double> want = run(linearize(plain), item, "INTERP");
      const std::vector<std::pair<std::string, CodegenOptions>> machines = {
          {"AVX2", kAvx2}, {"AVX-512", kAvx512}, {"this machine", get_device("CPU").codegen_options()}};
      for (const auto& [machine, options] : machines) {
        Kernel opt = cpu_optimized(item, options);
        for (const std::string dev : {"INTERP", "CPU"}) {
          // Reductions change order under unrolling, SIMD lanes and partial sums (float32).
          EXPECT_TRUE(testing_util::all_close(want, run(linearize(opt), item, dev), 1e-4, 1e-4,
                                              name + " tuned for " + machine + ", on " + dev));
        }
      }
    }
  }
}

TEST(Optimizer, MatmulGetsLanesTilesAndThreads) {
  Tensor a = Tensor::zeros({256, 256}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel(a.matmul(a));
  Kernel k = cpu_optimized(item);
  EXPECT_EQ(to_string(k.applied), "vector 1 8, upcast 0 4, upcast 1 2, block 1 4, pack 0 2, parallel");
  EXPECT_EQ(k.name(), "r_4_64_4_256_8_4_2");  // 4 blocks x 64 row tiles x 4 column tiles; K; lanes, tiles
  std::string src = render_cpp(linearize(k));
  EXPECT_NE(src.find("#pragma omp parallel for"), std::string::npos);
  EXPECT_NE(src.find("f32x8 acc7"), std::string::npos) << src;  // 4 x 2 vector accumulators
  // B's block (4 column tiles x 256 K x 2 vectors x 8 lanes) packed once per block, per thread,
  // and the register tile reads it as whole vectors, 16 floats in a row per K step.
  EXPECT_NE(src.find("static thread_local float part0_[16384] __attribute__((aligned(64)));"), std::string::npos) << src;
  EXPECT_NE(src.find("tt_vload<f32x8>(part0+"), std::string::npos) << src;
  EXPECT_EQ(src.find("tt_vload<f32x8>(data"), std::string::npos) << src;
}

// GCC tuning for a Zen core (what -march=native is on one) folds a load that only multiply-adds
// read into each of them as a memory operand: a 4x2 register tile then loads B's two vectors 8
// times a K step instead of twice, and the core's load ports, not its FMA units, set the pace (a
// Zen 3 at 1024^3: 124 GFLOP/s, 177 with them held). The renderer wraps a vector load read more
// than once in tt_keep; the inner loop compiled for a Zen 3 shows whether that worked: every FMA
// takes registers only. (Tuned for Intel cores, GCC keeps them in registers by itself.)
TEST(Renderer, RegisterTileOperandsStayInRegisters) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "reads x86 assembly";
#endif
  Tensor a = Tensor::zeros({256, 256}, DType::kFloat32, "CPU").contiguous().realize();
  const std::string src = render_cpp(linearize(cpu_optimized(last_kernel(a.matmul(a)))));
  EXPECT_NE(src.find("tt_keep(tt_vload<f32x8>(part0+"), std::string::npos) << src;
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") / "register_tile";
  fs::create_directories(dir);
  { std::ofstream(dir / "k.cc") << src; }
  const std::string cmd = env_string("TT_CXX", "g++") + " -O3 -march=znver3 -fopenmp -S -o '" + (dir / "k.s").string() +
                          "' '" + (dir / "k.cc").string() + "' 2> '" + (dir / "k.log").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream asm_file(dir / "k.s");
  int fmas = 0;
  for (std::string l; std::getline(asm_file, l);) {
    if (l.find("vfmadd") == std::string::npos) continue;
    ++fmas;
    EXPECT_EQ(l.find('('), std::string::npos) << "an FMA reads memory: " << l;
  }
  EXPECT_EQ(fmas, 8) << "the 4x2 tile's multiply-adds, once each in the K loop";
}

// Packing (packing.h) changes where an input is read from, never what: the optimizer's choice
// on matmuls whose B is blocked (B as it is, transposed: lanes gathered into the panel) and a
// pack put by hand into kernels the optimizer would not pack (a padded conv's masked input, a
// column sum), each against the plain kernel, on INTERP and CPU. The kernels are small enough
// for INTERP and have 16 column tiles, the fewest that block_for_cache blocks.
TEST(Optimizer, PackedPanelsComputeWhatPlainKernelsDo) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    Tensor::manual_seed(seed);
    auto r = [](Shape s) { return Tensor::randn(s, DType::kFloat32, "INTERP"); };
    Tensor x = r({8, 40}), w = r({40, 256}), wt = r({256, 40}), img = r({2, 3, 10, 10}), kern = r({8, 3, 3, 3});
    const std::vector<std::pair<std::string, Tensor>> chosen = {
        {"matmul+relu", (x.matmul(w) + 1.0).relu()},
        {"matmul by a transposed B", x.matmul(wt.transpose())},
        // Two rows of zeros above B's first 38: the panel copies masked reads as 0.
        {"matmul by a padded B", x.matmul(w.pad({{2, 0}, {0, 0}}).shrink({{0, 40}, {0, 256}}))},
    };
    const std::vector<std::pair<std::string, Tensor>> by_hand = {
        {"conv (padded input)", img.conv2d(kern, Tensor(), 1, 1)},
        {"column sum of a product", (x * x).sum({0})},
    };
    auto check = [&](const std::string& name, const ScheduleItem& item, const Kernel& packed) {
      std::vector<double> want = run(linearize(Kernel(item.ast, args(item))), item, "INTERP");
      for (const std::string dev : {"INTERP", "CPU"}) {
        // Lanes, tiles and threads sum in another order than the plain kernel (float32).
        EXPECT_TRUE(testing_util::all_close(want, run(linearize(packed), item, dev), 1e-4, 1e-4,
                                            name + " (" + to_string(packed.applied) + ") on " + dev));
      }
    };
    for (const auto& [name, t] : chosen) {
      ScheduleItem item = last_kernel(t);
      const Kernel k = cpu_optimized(item);
      EXPECT_GE(k.pack_leaf, 1) << name << ": the optimizer packed nothing: " << to_string(k.applied);
      check(name, item, k);
    }
    for (const auto& [name, t] : by_hand) {
      ScheduleItem item = last_kernel(t);
      Kernel k(item.ast, args(item));
      int packed = 0;
      for (size_t i = 1; i < k.leaves.size() && packed == 0; ++i) {
        const Opt pack{OptKind::kPack, 0, static_cast<int64_t>(i)};
        if (k.leaves[i]->op == Op::BUFFER && k.can_apply(pack)) {
          k.apply(pack);
          packed = 1;
        }
      }
      ASSERT_EQ(packed, 1) << name << ": no input could be packed";
      check(name, item, k);
    }
  }
}

// Channel lanes (optimizer.cc): a convolution whose rows are narrower than the widest vector
// (8 outputs a row against AVX-512's 16 lanes) puts 16 output channels in a vector and packs its
// weights with the channels innermost; AVX2's 8 lanes fit the rows and keep them. Forward
// convs as a training step runs them (a ReLU after, a bias added) compute what the plain kernel
// does. Row lanes stay for 8 channels (fewer than a vector), a weight gradient too small to
// stream (its output gradient moves along the output channels and is packed only a streamed
// chunk at a time: StreamedWeightGradientsGetChannelLanesPackedPerChunk) and a conv that pads
// its input in the kernel: the masked image has no single stride along the channels
// (Kernel::stride), so nothing is seen reused there. (A training step pads the input
// gradient's input in a kernel of its own, and gets channel lanes.)
TEST(Optimizer, ConvsOnNarrowRowsGetChannelLanes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    Tensor::manual_seed(seed);
    auto r = [](Shape s) { return Tensor::randn(s, DType::kFloat32, "INTERP"); };
    Tensor img = r({2, 4, 12, 12}), kern = r({16, 4, 5, 5}), bias = r({16}), few = r({8, 4, 5, 5});
    const std::vector<std::pair<std::string, Tensor>> convs = {
        {"conv+relu", img.conv2d(kern).relu()},
        {"conv+bias", img.conv2d(kern, bias)},
    };
    for (const auto& [name, t] : convs) {
      ScheduleItem item = last_kernel(t);
      const Kernel wide = cpu_optimized(item, kAvx512), narrow = cpu_optimized(item, kAvx2);
      EXPECT_NE(to_string(wide.applied).find("vector 1 16"), std::string::npos) << name << ": " << to_string(wide.applied);
      EXPECT_GE(wide.pack_leaf, 1) << name << ": channel lanes without their panel: " << to_string(wide.applied);
      EXPECT_EQ(narrow.pack_leaf, -1) << name << " on AVX2: " << to_string(narrow.applied);
      std::vector<double> want = run(linearize(Kernel(item.ast, args(item))), item, "INTERP");
      for (const std::string dev : {"INTERP", "CPU"}) {
        // Lanes and tiles sum in another order than the plain kernel (float32).
        EXPECT_TRUE(testing_util::all_close(want, run(linearize(wide), item, dev), 1e-4, 1e-4,
                                            name + " (" + to_string(wide.applied) + ") on " + dev));
      }
    }
    Tensor grad = r({2, 16, 8, 8});
    Tensor w = kern.detach().requires_grad_();
    (img.conv2d(w) * grad).sum().backward();
    for (const auto& [name, t] : std::vector<std::pair<std::string, Tensor>>{{"8 channels", img.conv2d(few)},
                                                                              {"padded conv", img.conv2d(kern, Tensor(), 1, 2)},
                                                                              {"weight gradient", w.grad()}}) {
      const Kernel k = cpu_optimized(last_kernel(t), kAvx512);
      EXPECT_EQ(k.pack_leaf, -1) << name << ": " << to_string(k.applied);
    }
  }
}

// The panel of channel lanes may take half of L2: MNIST's conv4 (64 -> 64 channels, 3x3 on 8x8
// images, 6-wide output rows) has 147 KB of weights. On a Zen 3 (512 KiB L2) they are packed and
// a vector holds 8 output channels; left to its rows it gets 2 lanes (a 6-wide row), which
// measured 2.4x the time in a training step. On a 256 KiB L2 the weights stay where they are.
TEST(Optimizer, AConvWhoseWeightsTakeUnderHalfOfL2GetsChannelLanes) {
  Tensor::manual_seed(testing_util::seeds().front());
  Tensor img = Tensor::randn({2, 64, 8, 8}, DType::kFloat32, "INTERP");
  Tensor kern = Tensor::randn({64, 64, 3, 3}, DType::kFloat32, "INTERP");
  const ScheduleItem item = last_kernel(img.conv2d(kern).relu());
  const Kernel k = cpu_optimized(item, kAvx2);
  EXPECT_NE(to_string(k.applied).find("vector 1 8"), std::string::npos) << to_string(k.applied);
  EXPECT_GE(k.pack_leaf, 1) << to_string(k.applied);
  CodegenOptions small_l2 = kAvx2;
  small_l2.l2_bytes = 256 << 10;
  EXPECT_EQ(cpu_optimized(item, small_l2).pack_leaf, -1) << "147 KB of weights in a 256 KiB L2";
}

// A panel that no loop outside it moves (a conv's weights, the same for every image) is packed
// once, before the parallel loop, by the calling thread, and every thread reads that copy through
// a pointer (packing.h); a matmul's B panel changes with its column block and stays inside. Run
// on both cores: a thread that read its own (thread_local, never packed) array would get zeros.
TEST(Renderer, AConvsWeightPanelIsPackedOnceBeforeTheParallelLoop) {
  Tensor::manual_seed(testing_util::seeds().front());
  Tensor img = Tensor::randn({4, 64, 8, 8}, DType::kFloat32, "INTERP");
  Tensor kern = Tensor::randn({64, 64, 3, 3}, DType::kFloat32, "INTERP");
  const ScheduleItem item = last_kernel(img.conv2d(kern).relu());
  const Kernel k = cpu_optimized(item, kAvx2);
  ASSERT_GE(k.pack_leaf, 1) << to_string(k.applied);
  const std::string src = render_cpp(linearize(k));
  const size_t parallel = src.find("#pragma omp parallel for");
  ASSERT_NE(parallel, std::string::npos) << src;
  EXPECT_LT(src.find("static thread_local float part0_["), parallel) << src;
  EXPECT_LT(src.find("part0[(("), parallel) << "the copy, before the parallel loop:\n" << src;
  const std::vector<double> want = run(linearize(Kernel(item.ast, args(item))), item, "INTERP");
  EXPECT_TRUE(testing_util::all_close(want, run(linearize(k), item, "CPU"), 1e-4, 1e-4, to_string(k.applied)));
  Tensor a = Tensor::zeros({256, 256}, DType::kFloat32, "CPU").contiguous().realize();
  const std::string matmul = render_cpp(linearize(cpu_optimized(last_kernel(a.matmul(a)))));
  EXPECT_GT(matmul.find("static thread_local float part0_["), matmul.find("#pragma omp parallel for")) << matmul;
}

// A conv weight gradient whose batch streams (its inputs far larger than L2; here a 16 KiB L2,
// so that a small one does) and whose output channels fill a vector gets channel lanes too: its
// kernel rows (5 wide) and image rows (4 wide) would take no lanes or 4 of AVX-512's 16. Its
// output gradient moves along the channels: each batch chunk's share is packed channels
// innermost as the chunk begins (a pack at the chunk loop); the image is broadcast. It computes
// what the plain kernel does, with 16 lanes (AVX-512) and 8 (AVX2).
TEST(Optimizer, StreamedWeightGradientsGetChannelLanesPackedPerChunk) {
  CodegenOptions small_l2_avx512 = kAvx512, small_l2_avx2 = kAvx2;
  small_l2_avx512.l2_bytes = small_l2_avx2.l2_bytes = 16 << 10;
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    Tensor::manual_seed(seed);
    auto r = [](Shape s) { return Tensor::randn(s, DType::kFloat32, "INTERP"); };
    Tensor img = r({64, 4, 8, 8}), grad = r({64, 32, 4, 4});
    Tensor w = r({32, 4, 5, 5}).requires_grad_();
    (img.conv2d(w) * grad).sum().backward();
    const ScheduleItem item = last_kernel(w.grad());
    const std::vector<double> want = run(linearize(Kernel(item.ast, args(item))), item, "INTERP");
    for (const auto& [machine, options, lanes] : {std::tuple{"AVX-512", small_l2_avx512, 16}, std::tuple{"AVX2", small_l2_avx2, 8}}) {
      const Kernel k = cpu_optimized(item, options);
      const std::string opts = to_string(k.applied);
      ASSERT_FALSE(k.applied.empty()) << machine;
      EXPECT_EQ(to_string(k.applied[0]), "vector 0 " + std::to_string(lanes)) << machine << ": " << opts;  // the output channels
      ASSERT_GE(k.first_of(Axis::kOuterReduce), 0) << machine << ": " << opts;
      EXPECT_EQ(k.pack_at, k.first_of(Axis::kOuterReduce)) << machine << ": " << opts;
      EXPECT_GE(k.pack_leaf, 1) << machine << ": " << opts;
      const std::string src = render_cpp(linearize(k));
      const size_t chunk_loop = src.find("for (int oidx0");
      ASSERT_NE(chunk_loop, std::string::npos) << src;
      EXPECT_GT(src.find("static thread_local float part0_["), chunk_loop) << src;
      for (const std::string dev : {"INTERP", "CPU"}) {
        // Lanes, tiles and chunks sum in another order than the plain kernel (float32).
        EXPECT_TRUE(testing_util::all_close(want, run(linearize(k), item, dev), 1e-4, 1e-4,
                                            std::string(machine) + " (" + opts + ") on " + dev));
      }
    }
    // On more cores than its 2 vectors of channels, the threads still share those (a streamed
    // reduce cannot split its batch into parallel partial sums instead).
    CodegenOptions many_cores = small_l2_avx512;
    many_cores.threads = 16;
    const Kernel k = cpu_optimized(item, many_cores);
    EXPECT_TRUE(k.parallel && k.full_shape()[0] == 2) << to_string(k.applied);
  }
}

TEST(Opts, PackIsRefusedWhereNoPanelCanBe) {
  Tensor a = Tensor::zeros({64, 32}, DType::kFloat32, "CPU").contiguous().realize();
  std::string why;
  Kernel elementwise(last_kernel(a * 2.0).ast, args(last_kernel(a * 2.0)));
  EXPECT_FALSE(elementwise.can_apply({OptKind::kPack, 0, 1}, &why));  // no reduce reads a panel
  EXPECT_NE(why.find("reduce"), std::string::npos) << why;
  ScheduleItem item = last_kernel(a.matmul(a.transpose()));
  Kernel k(item.ast, args(item));
  EXPECT_FALSE(k.can_apply({OptKind::kPack, 0, 9}, &why));  // no such input
  EXPECT_FALSE(k.can_apply({OptKind::kPack, 2, 1}, &why));  // dimension 2 is the reduce
  k.apply({OptKind::kPack, 0, 2});
  EXPECT_FALSE(k.can_apply({OptKind::kUpcast, 0, 4}, &why));  // a panel names dimensions: it comes last
  EXPECT_NE(why.find("last"), std::string::npos) << why;
  EXPECT_TRUE(k.can_apply({OptKind::kParallel}));
}

// On an AVX-512 core: 16 lanes, and twice the registers hold a 4 x 4 tile of vector
// accumulators (16 of them, 4 + 1 operands: 21 of 32); AVX2's 4 x 2 tile would leave half the
// registers idle. A 1024^3 matmul (bench/matmul_cpu) ran at 79 GFLOP/s so, 46 with AVX2's choice
// (Zen 5, 2 cores).
TEST(Optimizer, MatmulOnAvx512GetsSixteenLanesAndAWiderTile) {
  Tensor a = Tensor::zeros({256, 256}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel(a.matmul(a));
  Kernel k = cpu_optimized(item, kAvx512);
  EXPECT_EQ(to_string(k.applied), "vector 1 16, upcast 0 4, upcast 1 4, parallel");
  std::string src = render_cpp(linearize(k));
  EXPECT_NE(src.find("f32x16 acc15"), std::string::npos) << src;  // 4 x 4 vector accumulators
  EXPECT_EQ(src.find("f32x16 acc16"), std::string::npos) << src;
}

// A machine with more cores than a reduction has outputs (a 16-core GPU host) asks for parallel
// partial sums; a kernel whose lanes run along its outputs cannot split its reduce that way
// (kernel.cc: a group's partials are scalars), so it keeps its lanes and threads its outputs.
// On the H100 machine this threw "cannot apply group 1 32" for x.sum(1) of a (3, 16384) x.
TEST(Optimizer, ManyCoresDoNotGroupAKernelWithLanesOfOutputs) {
  CodegenOptions many = kAvx512;
  many.threads = 16;
  Tensor x = Tensor::zeros({3, 1024, 64}, DType::kFloat32, "CPU").contiguous().realize();
  for (const Tensor& t : {x.sum({1}), x.sum({2}), x.reshape({3, 65536}).sum({1})}) {
    ScheduleItem item = last_kernel(t);
    Kernel k(item.ast, args(item));
    EXPECT_NO_THROW(optimize(k, many)) << print_ast(item.ast);
    Kernel plain(item.ast, args(item));
    EXPECT_TRUE(testing_util::all_close(run(linearize(plain), item, "INTERP"), run(linearize(k), item, "CPU"), 1e-5, 1e-5,
                                        to_string(k.applied)));
  }
}

// The reduce loop runs on SIMD lanes even when the epilogue after it has ops without a vector
// form (compare, cast): those are computed lane by lane (conv input gradients with ReLU's mask).
TEST(Optimizer, ReduceWithMaskEpilogueGetsLanes) {
  Tensor a = Tensor::zeros({256, 256}, DType::kFloat32, "CPU").contiguous().realize();
  Tensor m = Tensor::zeros({256, 256}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel(a.matmul(a) * m.gt(Tensor::zeros({1}, DType::kFloat32, "CPU")).cast(DType::kFloat32));
  Kernel k = cpu_optimized(item);
  ASSERT_FALSE(k.applied.empty());
  EXPECT_EQ(to_string(k.applied[0]), "vector 1 8");
  EXPECT_NE(render_cpp(linearize(k)).find("f32x8 acc"), std::string::npos);
}

// Comparisons, casts, AND and WHERE compute on whole vectors of masks beside float32 (ops.def):
// a ReLU's gradient, a max-pool's (which input equals the pooled maximum) and a BN backward over
// them, as a training step fuses them. Each kernel gets lanes, and computes what the plain kernel
// does on INTERP, exactly (no sum changes order here), on inputs with ties, zeros and NaN.
TEST(Optimizer, MasksComputeOnWholeVectors) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    Tensor::manual_seed(seed);
    auto r = [](Shape s) { return Tensor::randn(s, DType::kFloat32, "CPU").realize(); };
    // Rounded to quarters: many ties between x and the pooled y, and exact zeros.
    Tensor x = (r({4, 8, 16}) * 4.0).cast(DType::kInt32).cast(DType::kFloat32).realize();
    Tensor y = (r({4, 8, 16}) * 4.0).cast(DType::kInt32).cast(DType::kFloat32).realize();
    Tensor g = r({4, 8, 16}), w = r({8, 1});
    Tensor nan = Tensor::full({4, 8, 16}, std::nan(""), DType::kFloat32, "CPU").realize();
    const std::vector<std::pair<std::string, Tensor>> kernels = {
        {"relu gradient", x.gt(Tensor::zeros({1}, DType::kFloat32, "CPU")).cast(DType::kFloat32) * g},
        {"max-pool gradient", (x * w).eq(y).cast(DType::kFloat32) * g},
        {"where", x.lt(y).where(g, x)},
        {"and, not", x.gt(y).logical_and(y.ne(g).logical_not()).cast(DType::kFloat32) + g},
        {"NaN compares unequal", nan.ne(x).cast(DType::kFloat32) - nan.lt(x).cast(DType::kFloat32)},
        {"masked sum", ((x * w).eq(y).cast(DType::kFloat32) * g).sum({1})},
    };
    for (const auto& [name, t] : kernels) {
      const ScheduleItem item = last_kernel(t);
      const std::vector<double> want = run(linearize(Kernel(item.ast, args(item))), item, "INTERP");
      for (const CodegenOptions& machine : {kAvx2, kAvx512}) {  // 8 and 16 lanes
        const Kernel k = cpu_optimized(item, machine);
        EXPECT_NE(to_string(k.applied).find("vector"), std::string::npos) << name << ": " << to_string(k.applied);
        const std::string src = render_cpp(linearize(k));
        EXPECT_NE(src.find("typedef int i32x"), std::string::npos) << name << ": no mask vectors in\n" << src;
        for (const std::string dev : {"INTERP", "CPU"}) {
          EXPECT_TRUE(testing_util::all_close(want, run(linearize(k), item, dev), 0, 0, name + " (" + to_string(k.applied) + ") on " + dev));
        }
      }
    }
    // float64 keeps its masks lane by lane (a mask vector has float32's lanes).
    Tensor x64 = x.cast(DType::kFloat64).realize();
    const Kernel k64 = cpu_optimized(last_kernel(x64.gt(Tensor::zeros({1}, DType::kFloat64, "CPU")).cast(DType::kFloat64) * x64));
    EXPECT_EQ(to_string(k64.applied).find("vector"), std::string::npos) << to_string(k64.applied);
  }
}

// An optimizer's decision is a list of Opts: printed, parsed back and replayed on a fresh kernel,
// it rebuilds the same kernel (what the GPU search caches).
TEST(Opts, PrintParseAndReplayRebuildTheKernel) {
  Tensor a = Tensor::zeros({256, 256}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel((a.matmul(a) + 1.0).relu());
  const Kernel k = cpu_optimized(item);
  const std::optional<std::vector<Opt>> parsed = parse_opts(to_string(k.applied));
  ASSERT_TRUE(parsed.has_value()) << to_string(k.applied);
  EXPECT_EQ(*parsed, k.applied);
  Kernel replayed(item.ast, args(item));
  for (const Opt& o : *parsed) replayed.apply(o);
  EXPECT_EQ(render_cpp(linearize(replayed)), render_cpp(linearize(k)));
  EXPECT_FALSE(parse_opts("upcast 0").has_value());
  EXPECT_FALSE(parse_opts("warp 0 4").has_value());
}

TEST(Opts, AnOptThatDoesNotFitIsRefusedWithAReason) {
  Tensor a = Tensor::zeros({12, 10}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel(a.sum({1}));  // dimensions: 12 outputs, 10 reduced
  Kernel k(item.ast, args(item));
  std::string why;
  EXPECT_FALSE(k.can_apply({OptKind::kUpcast, 0, 5}, &why));  // 5 does not divide 12
  EXPECT_NE(why.find("divide"), std::string::npos) << why;
  EXPECT_FALSE(k.can_apply({OptKind::kUnroll, 0, 4}, &why));  // dimension 0 is an output
  EXPECT_FALSE(k.can_apply({OptKind::kLocal, 0, 4}, &why));   // a CPU kernel has no threads
  EXPECT_FALSE(k.can_apply({OptKind::kUpcast, 7, 2}, &why));
  EXPECT_THROW(k.apply({OptKind::kUpcast, 0, 5}), Error);
  EXPECT_TRUE(k.can_apply({OptKind::kUnroll, 1, 5}));
  k.apply({OptKind::kUnroll, 1, 5});
  EXPECT_EQ(k.name(), "r_12_2_5");
}

TEST(Renderer, GeneratedCodeReadsLikeTinygrad) {
  Tensor a = Tensor::zeros({3, 5}, DType::kFloat32, "CPU").contiguous().realize();
  Tensor b = Tensor::zeros({5}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel((a + b).sum({1}));
  Kernel k(item.ast, args(item));
  const std::string src = render_cpp(linearize(k));
  const std::string want =
      "extern \"C\" void r_3_5(float* __restrict__ data0, const float* __restrict__ data1, const float* __restrict__ data2) {\n"
      "  for (int gidx0 = 0; gidx0 < 3; gidx0++) {\n"
      "    float acc0 = 0.0f;\n"
      "    for (int ridx0 = 0; ridx0 < 5; ridx0++) {\n"
      "      float val0 = data1[((gidx0*5)+ridx0)];\n"
      "      float val1 = data2[ridx0];\n"
      "      acc0 = (acc0+(val0+val1));\n"
      "    }\n"
      "    data0[gidx0] = acc0;\n"
      "  }\n"
      "}\n";
  EXPECT_NE(src.find(want), std::string::npos) << src;
}

// A weight gradient: a long batch reduction into few outputs whose inputs (here 4 MB) are far
// larger than L2. The batch loop moves inside the outermost (parallel) output loop, in chunks,
// and each chunk adds its share into the output.
TEST(Optimizer, WeightGradientStreamsTheBatchInChunks) {
  const uint64_t seed = testing_util::seeds()[0];
  SCOPED_TRACE(testing_util::seed_note(seed));
  Tensor::manual_seed(seed);
  // Small whole numbers: every partial sum of 32768 of their products is exact in float32, so
  // the streamed order must match the plain one exactly (with randn values, a float32 sum that
  // long moves by about 1e-3 with the order alone).
  auto whole = [](Shape s) { return Tensor::randint(s, -3, 4, "CPU").cast(DType::kFloat32).contiguous().realize(); };
  Tensor x = whole({1 << 15, 16}), g = whole({1 << 15, 16});
  ScheduleItem item = last_kernel(x.transpose(0, 1).matmul(g));
  Kernel plain(item.ast, args(item));
  Kernel k = cpu_optimized(item);
  const std::vector<double> want = run(linearize(plain), item, "INTERP");
  for (const std::string dev : {"INTERP", "CPU"}) {
    EXPECT_TRUE(testing_util::all_close(want, run(linearize(k), item, dev), 0, 0, "x^T g on " + dev));
  }
  ASSERT_GE(k.first_of(Axis::kOuterReduce), 0) << to_string(k.applied);
  EXPECT_EQ(k.axes[0], Axis::kGlobal);
  EXPECT_EQ(k.first_of(Axis::kOuterReduce), 1);  // inside the parallel loop: threads meet once
  const std::string src = render_cpp(linearize(k));
  const size_t chunks = src.find("for (int oidx0 = 0; oidx0 < 16; oidx0++)");  // 4 MB / 256 KB
  ASSERT_NE(chunks, std::string::npos) << src;
  EXPECT_LT(src.find("tt_vstore(data0"), chunks) << src;  // the output is cleared first
  // Then each chunk adds into it: a store of (what the output held + the accumulator).
  std::istringstream lines(src);
  bool adds = false;
  for (std::string line; std::getline(lines, line);) {
    adds = adds || (line.find("tt_vstore(data0") != std::string::npos && line.find("+acc0)") != std::string::npos);
  }
  EXPECT_TRUE(adds) << src;
}

// A reduce with something applied after it cannot add into its output: it does not stream.
TEST(Optimizer, AReduceWithAnEpilogueDoesNotStream) {
  Tensor x = Tensor::zeros({1 << 15, 16}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel(x.transpose(0, 1).matmul(x).relu());
  Kernel k = cpu_optimized(item);
  EXPECT_LT(k.first_of(Axis::kOuterReduce), 0) << to_string(k.applied);
}

// TT_DEBUG=2's GFLOPS: an op under the reduce counts once per iteration, an op after it once per
// output. A matmul into a ReLU: 2 ops (multiply, add) x M*N*K, plus the ReLU's M*N.
TEST(Linearizer, FlopsCountAnEpilogueOncePerOutput) {
  const int64_t m = 8, n = 16, kk = 32;
  Tensor a = Tensor::zeros({m, kk}, DType::kFloat32, "CPU").contiguous().realize();
  Tensor b = Tensor::zeros({kk, n}, DType::kFloat32, "CPU").contiguous().realize();
  const ScheduleItem plain = last_kernel(a.matmul(b));
  EXPECT_EQ(linearize(cpu_optimized(plain)).flops, 2 * m * n * kk);
  const ScheduleItem relu = last_kernel(a.matmul(b).relu());
  EXPECT_EQ(linearize(cpu_optimized(relu)).flops, 2 * m * n * kk + m * n) << print_ast(relu.ast);
}

// Loop indices are int32: a plain kernel summing 2^32 values (an expanded scalar: no big buffer)
// would loop forever on a wrapped counter; the linearizer refuses it. Its optimized form, whose
// loops are split in parts that each fit, is fine: the iteration count itself may pass 2^31.
TEST(Linearizer, RefusesALoopPastInt32) {
  Tensor one = Tensor::ones({1}, DType::kFloat32, "CPU").contiguous().realize();
  const ScheduleItem item = last_kernel(one.expand({int64_t{1} << 16, int64_t{1} << 16}).sum());
  try {
    linearize(Kernel(item.ast, args(item)));
    ADD_FAILURE() << "a loop of 2^32 iterations was linearized";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("int32"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(linearize(cpu_optimized(item)));
}

// A 5x5 conv on 24x24 images (20-wide output rows: 5 vectors of 4) whose 8 channels do not
// fill an AVX-512 vector (no channel lanes) tiles 5 row vectors x 4 channels: 9 loads for 20
// accumulators, each image value loaded once for 4 channels. On AVX2 the 8 channels fill a
// vector and take the lanes (ConvsOnNarrowRowsGetChannelLanes).
TEST(Optimizer, ConvTilesNeighbouringRowVectorsAndChannels) {
  Tensor img = Tensor::zeros({8, 4, 24, 24}, DType::kFloat32, "CPU").contiguous().realize();
  Tensor w = Tensor::zeros({8, 4, 5, 5}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel(img.conv2d(w));
  Kernel k = cpu_optimized(item, kAvx512);
  EXPECT_EQ(to_string(k.applied), "vector 3 4, upcast 1 4, upcast 3 5, parallel");
  const std::string src = render_cpp(linearize(k));
  EXPECT_NE(src.find("f32x4 acc19 "), std::string::npos) << src;
  EXPECT_EQ(src.find("f32x4 acc20 "), std::string::npos) << src;
  EXPECT_EQ(to_string(cpu_optimized(item, kAvx2).applied), "vector 1 8, upcast 2 4, upcast 3 2, pack 0 2, parallel");
}

// Where two register tiles load as often per accumulator and lie as close together, the one
// that reads fewer vectors of the lanes' input wins. MNIST's conv2 forward with channel lanes:
// 4 channel vectors x 2 pixels and 2 x 4 both load 6 times for 8 accumulators, but its channel
// vectors come from the packed weights (100 KB: L2) and its pixels from an image row (L1); 2 x 4
// reads half the panel a step (a Zen 3: 70.9 -> 62.3 ms a training step).
TEST(Optimizer, RegisterTileTiesGoToFewerVectorsOfTheLanesInput) {
  Tensor img = Tensor::zeros({2, 32, 24, 24}, DType::kFloat32, "CPU").contiguous().realize();
  Tensor w = Tensor::zeros({32, 32, 5, 5}, DType::kFloat32, "CPU").contiguous().realize();
  const Kernel k = cpu_optimized(last_kernel(img.conv2d(w)), kAvx2);
  EXPECT_EQ(to_string(k.applied), "vector 1 8, upcast 1 2, upcast 3 4, pack 0 2, parallel") << "2 channel vectors x 4 pixels";
  Tensor a = Tensor::zeros({256, 256}, DType::kFloat32, "CPU").contiguous().realize();
  EXPECT_EQ(to_string(cpu_optimized(last_kernel(a.matmul(a))).applied).substr(0, 34), "vector 1 8, upcast 0 4, upcast 1 2")
      << "a matmul keeps 4 rows x 2 vectors of B";
}

// Outputs 10 wide (a padded 3x3 conv on 10x10 images) take two lanes rather than none.
TEST(Optimizer, TenWideOutputsGetTwoLanes) {
  Tensor img = Tensor::zeros({4, 8, 10, 10}, DType::kFloat32, "CPU").contiguous().realize();
  Tensor w = Tensor::zeros({8, 8, 3, 3}, DType::kFloat32, "CPU").contiguous().realize();
  ScheduleItem item = last_kernel(img.conv2d(w, Tensor(), 1, 1));
  Kernel k = cpu_optimized(item);
  ASSERT_FALSE(k.applied.empty());
  EXPECT_EQ(k.applied[0].kind, OptKind::kVector);
  EXPECT_EQ(k.applied[0].amount, 2);
  EXPECT_NE(render_cpp(linearize(k)).find("f32x2 acc"), std::string::npos);
}

}  // namespace
}  // namespace tinyref
