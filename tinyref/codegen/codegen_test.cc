// Kernel IR, optimizer and renderer: optimized kernels compute what the plain ones do, and the
// generated C++ has the documented shape (packed panels, streamed reductions, opts, the
// linearizer). cpu_tiles_test.cc: the SIMD lanes and register tiles chosen for a machine.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/registry.h"
#include "tinyref/codegen/cpp_renderer.h"
#include "tinyref/codegen/cpu_codegen_testing.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/linearizer.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/renderer.h"
#include "tinyref/engine/realize.h"
#include "tinyref/env.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

using namespace codegen_testing;  // NOLINT(build/namespaces): the shared helpers, read as local ones

namespace fs = std::filesystem;

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

// A panel that no loop outside it moves (a conv's weights, the same for every image) is packed
// once, before the parallel loop, by the calling thread, and every thread reads that copy through
// a pointer (packing.h); a matmul's B panel changes with its column block and stays inside. Run
// on both cores: a thread that read its own (thread_local, never packed) array would get zeros.
TEST(Renderer, AConvsWeightPanelIsPackedOnceBeforeTheParallelLoop) {
  const ScheduleItem item = mnist_conv4(4, testing_util::seeds().front());
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

}  // namespace
}  // namespace tinyref
