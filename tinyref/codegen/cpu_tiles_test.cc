// The CPU optimizer's SIMD lanes and register tiles for a named machine (AVX2, AVX-512): lanes
// along contiguous rows or, where rows are narrower than a vector, along channels with their
// weights packed (oneDNN's nChw16c); masks on whole vectors; which register tile a conv or a
// matmul gets. Each kernel also computes what the plain one does. codegen_test.cc: the rest.
#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/codegen/cpp_renderer.h"
#include "tinyref/codegen/cpu_codegen_testing.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/linearizer.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

using namespace codegen_testing;  // NOLINT(build/namespaces): the shared helpers, read as local ones

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
  const ScheduleItem item = mnist_conv4(2, testing_util::seeds().front());
  const Kernel k = cpu_optimized(item, kAvx2);
  EXPECT_NE(to_string(k.applied).find("vector 1 8"), std::string::npos) << to_string(k.applied);
  EXPECT_GE(k.pack_leaf, 1) << to_string(k.applied);
  CodegenOptions small_l2 = kAvx2;
  small_l2.l2_bytes = 256 << 10;
  EXPECT_EQ(cpu_optimized(item, small_l2).pack_leaf, -1) << "147 KB of weights in a 256 KiB L2";
}

// A 5x5 conv's weight gradient over 64 images of 4 channels, 8x8, into 32 channels: its inputs
// (the images and a 4x4 output gradient) take 192 KiB.
ScheduleItem small_weight_gradient() {
  auto r = [](Shape s) { return Tensor::randn(s, DType::kFloat32, "INTERP"); };
  Tensor img = r({64, 4, 8, 8}), grad = r({64, 32, 4, 4});
  Tensor w = r({32, 4, 5, 5}).requires_grad_();
  (img.conv2d(w) * grad).sum().backward();
  return last_kernel(w.grad());
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
    const ScheduleItem item = small_weight_gradient();
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

// Streaming pays where the inputs are several times L2, whatever its size: MNIST's conv3 weight
// gradient (13 MB of inputs) on an AVX-512 Xeon's 2 MiB L2 (6.4x) had not streamed while the
// rule asked for 8x, and ran at a fifth of the speed of the streamed one on a 512 KiB Zen 3. Here
// 192 KiB of inputs: 6x a 32 KiB L2 streams, 3x a 64 KiB one does not.
TEST(Optimizer, AWeightGradientStreamsWhereItsInputsAreFourTimesL2) {
  Tensor::manual_seed(0);
  const ScheduleItem item = small_weight_gradient();
  for (const auto& [kib, streams] : {std::pair{32, true}, std::pair{64, false}}) {
    CodegenOptions machine = kAvx512;
    machine.l2_bytes = int64_t{kib} << 10;
    const Kernel k = cpu_optimized(item, machine);
    EXPECT_EQ(k.first_of(Axis::kOuterReduce) >= 0, streams) << "192 KiB of inputs, " << kib << " KiB of L2: " << to_string(k.applied);
  }
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
