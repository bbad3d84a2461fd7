// Fusion: kernel counts for canonical graphs (the scheduler's contract), each fusion rule
// pinned by a graph where it fires and one where it does not, and that fusing changes no
// result. Counting schedules runs nothing, so these are cheap.
#include "tinyref/schedule/schedule.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/lazy/lazybuffer.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

const char* kDev = "INTERP";

Tensor randn(const Shape& s) { return Tensor::randn(s, DType::kFloat32, kDev); }

TEST(Fusion, ElementwiseChainIsOneKernel) {
  Tensor a = randn({16, 16}), b = randn({16, 16});
  EXPECT_EQ(count_kernels({((a * b + 1.0).exp() - a).relu()}), 1);
}

TEST(Fusion, MulAddSumIsOneKernel) {
  Tensor a = randn({32, 8}), b = randn({32, 8}), c = randn({32, 8});
  EXPECT_EQ(count_kernels({(a * b + c).sum()}), 1);
}

TEST(Fusion, LinearReluIsOneKernel) {
  Tensor x = randn({8, 16}), w = randn({16, 4}), b = randn({4});
  EXPECT_EQ(count_kernels({(x.matmul(w) + b).relu()}), 1);
}

TEST(Fusion, SoftmaxIsThreeKernels) {
  // max; exp-and-sum (fused); exp / sum (exp recomputed instead of stored).
  EXPECT_EQ(count_kernels({randn({4, 10}).softmax(-1)}), 3);
  EXPECT_EQ(count_kernels({randn({4, 10}).log_softmax(-1)}), 3);
}

TEST(SplitReduce, GpuChunkCountsForMnistsLongReductions) {
  // (outputs, elements summed into each, extent of the first reduced axis, a GPU's limit)
  // (outputs, elements summed into each, extent of the first reduced axis, the GPU's rule)
  CodegenOptions gpu{.gpu = true, .tf32 = Tf32::kOff};
  const SplitRule fp32 = reduce_split_rule(gpu);
  EXPECT_EQ(reduce_split(32 * 32 * 5 * 5, 512 * 20 * 20, 512, fp32), 8) << "conv2's weight gradient";
  EXPECT_EQ(reduce_split(32, 512 * 20 * 20, 512, fp32), 16) << "batch statistics: at most 16 chunks";
  EXPECT_EQ(reduce_split(64 * 64 * 3 * 3, 512 * 6 * 6, 512, fp32), 4) << "slices of at least 4096";
  EXPECT_EQ(reduce_split(10 * 576, 512, 512, fp32), 1) << "short: the linear layer's weight gradient";
  EXPECT_EQ(reduce_split(32, 1 << 20, 7, fp32), 1) << "an odd first axis does not split";
  EXPECT_EQ(reduce_split(1 << 17, 1 << 20, 512, fp32), 1) << "enough outputs for the group reduce's limit";
  // Where tensor cores may run them: many short slices, one warp's tile of outputs summing each.
  for (Tf32 mode : {Tf32::kConvolutions, Tf32::kAll}) {
    gpu.tf32 = mode;
    const SplitRule tc = reduce_split_rule(gpu);
    EXPECT_EQ(reduce_split(32 * 32 * 5 * 5, 512 * 20 * 20, 512, tc), 64) << "conv2's weight gradient";
    EXPECT_EQ(reduce_split(32, 512 * 20 * 20, 512, tc), 64) << "batch statistics: at most 64 chunks";
    EXPECT_EQ(reduce_split(64 * 64 * 3 * 3, 512 * 6 * 6, 512, tc), 8) << "slices of at least 2048";
    EXPECT_EQ(reduce_split(1 << 17, 1 << 20, 512, tc), 8) << "fewer than 2^21 partials";
    EXPECT_EQ(reduce_split(1 << 21, 1 << 20, 512, tc), 1) << "outputs enough to fill the GPU";
  }
  EXPECT_EQ(reduce_split(32, 512 * 20 * 20, 512, reduce_split_rule(CodegenOptions{})), 1) << "a CPU: no split";
}

TEST(Fusion, ReduceOfReduceIsTwoKernels) {
  EXPECT_EQ(count_kernels({randn({4, 5, 6}).sum({2}).max({1})}), 2);
}

TEST(Fusion, ReduceFeedingBroadcastIsRealized) {
  Tensor x = randn({4, 6});
  EXPECT_EQ(count_kernels({x - x.mean({1}, true)}), 2);
}

TEST(Fusion, SharedInputComputedOnceAcrossOutputs) {
  Tensor a = randn({8, 8});
  Tensor h = (a * 2.0).exp();
  EXPECT_EQ(count_kernels({h.sum(), h.max()}), 2);  // two reduces, two kernels
}

TEST(Fusion, MovementOpsAreFree) {
  Tensor a = randn({4, 6});
  EXPECT_EQ(count_kernels({a.transpose().reshape({2, 12}).flip({1}).pad({{1, 1}, {0, 0}}) * 3.0}), 1);
  EXPECT_EQ(count_kernels({Tensor::cat({a, a * 2.0, a.sin()}, 0)}), 1);
  EXPECT_EQ(count_kernels({Tensor::cat({a, a.exp()}, 0)}), 2);  // exp(0) != 0: exp first
}

TEST(Fusion, PadOfExpIsRealizedFirst) {
  // exp(0) != 0, so padding zeros after exp must not become exp(0) = 1 in a fused kernel.
  Tensor a = randn({3, 3});
  EXPECT_EQ(count_kernels({a.exp().pad({{1, 1}, {1, 1}}) * 2.0}), 2);
  EXPECT_EQ(count_kernels({(a * 2.0).pad({{1, 1}, {1, 1}}) * 2.0}), 1);
}

TEST(Fusion, ConvForwardIsOneKernel) {
  Tensor x = randn({2, 3, 8, 8}), w = randn({4, 3, 3, 3}), b = randn({4});
  EXPECT_EQ(count_kernels({x.conv2d(w, b, 1, 1).relu()}), 1);
}

// One SGD step of a 2-layer MLP (784-32-10 at batch 16): forward, backward, update. 17 kernels:
//   forward   x@W1 | +b1,relu | h@W2 | max | exp-sum | log(sum) | per-row loss | mean
//   backward  d(log-sum-exp) reduce | dlogits | dh (fused with the relu mask) | dW1 | dW2
//   update    W1 | b1 (fused with its batch sum) | W2 | b2 (likewise)
// dW1 and dW2 are realized on their own because the update reads them transposed.
TEST(Fusion, MlpTrainingStepKernelCount) {
  Tensor x = randn({16, 784}), w1 = randn({784, 32}).requires_grad_(), b1 = randn({32}).requires_grad_();
  Tensor w2 = randn({32, 10}).requires_grad_(), b2 = randn({10}).requires_grad_();
  Tensor y = Tensor::randint({16}, 0, 10, kDev);
  Tensor loss = ((x.matmul(w1) + b1).relu().matmul(w2) + b2).cross_entropy(y);
  loss.backward();
  std::vector<Tensor> updated;
  for (Tensor p : {w1, b1, w2, b2}) updated.push_back(p.detach() - p.grad() * 0.1);
  updated.push_back(loss);
  const int n = count_kernels(updated);
  EXPECT_EQ(n, 17) << "the MLP step's kernel count changed: check fusion (and update the stated count)";
}

// --- Each fusion rule (schedule.h) pinned: a graph where it fires, and the nearest graph where
// it does not. cuts() lists each kernel's reason in schedule order; its size is the kernel count.
using Cuts = std::vector<std::string>;

Cuts cuts(const std::vector<Tensor>& outs) {
  std::vector<LazyRef> lazies;
  for (const Tensor& t : outs) lazies.push_back(t.lazy());
  Cuts names;
  for (const ScheduleItem& item : create_schedule(lazies)) names.push_back(cut_name(item.cut));
  return names;
}

TEST(FusionRules, OutputAloneIsOneKernel) {
  Tensor a = randn({4, 6});
  EXPECT_EQ(cuts({a * 2.0}), (Cuts{"Output"}));
  EXPECT_EQ(cuts({a * 2.0, a + 1.0}), (Cuts{"Output", "Output"}));
}

TEST(FusionRules, ContiguousAsksForABuffer) {
  Tensor a = randn({4, 6});
  EXPECT_EQ(cuts({(a * 2.0).contiguous() + 1.0}), (Cuts{"Contiguous", "Output"}));
  EXPECT_EQ(cuts({(a * 2.0) + 1.0}), (Cuts{"Output"}));
}

TEST(FusionRules, CopyMovesABufferBetweenDevices) {
  Tensor a = randn({4, 6});
  // The copy's source is made contiguous on INTERP first; nothing runs when scheduling.
  EXPECT_EQ(cuts({(a * 2.0).to("CPU") + 1.0}), (Cuts{"Contiguous", "Copy", "Output"}));
  EXPECT_EQ(cuts({(a * 2.0).to("INTERP") + 1.0}), (Cuts{"Output"})) << "a copy to its own device is no copy";
}

TEST(FusionRules, BroadcastIsComputedOnce) {
  Tensor col = randn({4, 1}), y = randn({4, 6});
  EXPECT_EQ(cuts({(col * 2.0).expand({4, 6}) + y}), (Cuts{"Broadcast", "Output"}));
  EXPECT_EQ(cuts({(col * 2.0).reshape({1, 4}) + 1.0}), (Cuts{"Output"})) << "a reshape reads each element once";
  Tensor x = randn({4, 6});
  EXPECT_EQ(cuts({x - x.mean({1}, true)}), (Cuts{"Broadcast", "Output"})) << "schedule.h's example";
}

TEST(FusionRules, UnsafePadIsRealizedFirst) {
  Tensor a = randn({3, 3});
  EXPECT_EQ(cuts({a.log().pad({{1, 1}, {0, 0}}) + 1.0}), (Cuts{"UnsafePad", "Output"})) << "log(0) = -inf";
  EXPECT_EQ(cuts({a.log().shrink({{0, 2}, {0, 3}}) + 1.0}), (Cuts{"Output"})) << "a shrink reads no padding";
  EXPECT_EQ(cuts({(a * 2.0).pad({{1, 1}, {0, 0}}) + 1.0}), (Cuts{"Output"})) << "2 * 0 = 0: safe to fuse";
}

TEST(FusionRules, ReduceReadThroughAViewIsRealized) {
  Tensor x = randn({4, 6, 5});
  EXPECT_EQ(cuts({x.sum({2}).transpose() * 2.0}), (Cuts{"ReduceReshaped", "Output"}));
  EXPECT_EQ(cuts({x.sum({2}).reshape({24}) * 2.0}), (Cuts{"Output"})) << "a same-size reshape keeps the order";
}

TEST(FusionRules, ReduceReadByTwoConsumersIsRealized) {
  Tensor x = randn({4, 6});
  Tensor s = x.sum({1});
  EXPECT_EQ(cuts({s * 2.0, s + 1.0}), (Cuts{"ReduceShared", "Output", "Output"}));
  EXPECT_EQ(cuts({s * s}), (Cuts{"Output"})) << "one consumer reading it twice";
}

TEST(FusionRules, OneReducePerKernelKeepsTheNearest) {
  Tensor x = randn({4, 6}), y = randn({4, 6});
  EXPECT_EQ(cuts({x.sum({1}).max()}), (Cuts{"SecondReduce", "Output"}));
  EXPECT_EQ(cuts({x.sum({1}) * 2.0}), (Cuts{"Output"}));
  // The max is farther from the output (behind the exp) in either operand order: it is cut,
  // and the output's kernel keeps the sum.
  for (bool swap : {false, true}) {
    Tensor near = x.sum({1}), far = y.max({1}).exp();
    const std::vector<ScheduleItem> items = create_schedule({(swap ? far + near : near + far).lazy()});
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].cut, Cut::kSecondReduce);
    EXPECT_EQ(items[0].ast->src[0]->op, Op::RMAX) << print_ast(items[0].ast);
  }
}

TEST(FusionRules, ReduceOfAnotherSizeThanTheKernelIsRealized) {
  Tensor x = randn({4, 6});
  EXPECT_EQ(cuts({(x.sum({1}) * 2.0).shrink({{0, 2}}) + 1.0}), (Cuts{"ReduceSizeDiffers", "Output"}));
  EXPECT_EQ(cuts({(x.sum({1}) * 2.0) + 1.0}), (Cuts{"Output"}));
}

TEST(FusionRules, ReduceMovedBehindElementwiseOpsIsRealized) {
  Tensor x = randn({4, 6, 5});
  // The transpose is on x.sum + 1, not on the sum: only a walk of the kernel's paths sees it.
  EXPECT_EQ(cuts({(x.sum({2}) + 1.0).transpose() * 2.0}), (Cuts{"ReduceMoved", "Output"}));
  EXPECT_EQ(cuts({((x.sum({2}) + 1.0).transpose() * 3.0).transpose() * 2.0}), (Cuts{"Output"}))
      << "transposed twice: every path reads the sum in place";
}

// Fusion must not change results: the same graphs, realized fused, against a kernel-per-op run.
TEST(Fusion, FusedResultsMatchUnfused) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    Tensor::manual_seed(seed);
    Tensor x = randn({5, 7}), w = randn({7, 3}), b = randn({3});
    auto graph = [&](bool cut) {
      auto c = [&](const Tensor& t) { return cut ? t.contiguous().realize() : t; };
      Tensor h = c(c(x.matmul(w)) + b);
      Tensor s = c(c(h.relu()).softmax(1));
      return (s * c(h.exp())).sum({0});
    };
    std::vector<float> fused = graph(false).to_vector<float>(), split = graph(true).to_vector<float>();
    // Same arithmetic in the same order per element: only the reduce order may differ.
    EXPECT_TRUE(testing_util::all_close(split, fused, 1e-5, 1e-6, "fused vs unfused"));
  }
}

}  // namespace
}  // namespace tinyref
