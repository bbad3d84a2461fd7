// Task ch05.5: the FusedEngine, end to end: the graph table realized through ch04::realize with
// your engine installed, against tinyref's values and kernel counts; buffers and bytes as the
// proof of fusion (a fused chain writes no intermediate); realized nodes never recomputed.
#include <random>

#include "ch04/realize.h"
#include "ch05/runner.h"
#include "ch05/schedule.h"
#include "gtest/gtest.h"
#include "tests/05_scheduling_fusion/dual.h"
#include "tests/05_scheduling_fusion/fusion_testing.h"
#include "tests/05_scheduling_fusion/graphs.h"
#include "tests/testing/testing.h"

namespace {

using dual::Dual;
using fusion_testing::ours;
using fusion_testing::tinyref_count;

std::shared_ptr<ch05::FusedEngine> fused() { return std::make_shared<ch05::FusedEngine>(); }

TEST(Task5Engine, TheGraphTableRealizedMatchesTinyref) {
  ch04::ScopedEngine engine(fused());
  fusion_testing::for_each_graph([](const graphs::GraphCase& g, const std::vector<Dual>& outs) {
    const int expected = tinyref_count(outs);
    ch04::stats() = {};
    ch04::realize(ours(outs));
    int64_t empty = 0;  // kernels of outputs with no elements are scheduled but not run
    for (const Dual& o : outs) empty += o.ours.numel() == 0;
    EXPECT_EQ(ch04::stats().kernels, expected - empty) << "kernels run";
    EXPECT_EQ(ch04::stats().buffers, expected) << "one buffer per kernel, nothing else";
    EXPECT_TRUE(fusion_testing::same_values(outs, g.name));
  });
}

TEST(Task5Engine, AFusedChainWritesNoIntermediateBytes) {
  ch04::ScopedEngine engine(fused());
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    Dual a = Dual::randn({64, 33}, rng), b = Dual::randn({64, 33}, rng), c = Dual::randn({64, 33}, rng);
    Dual y = (((a * b + c).exp() - a) / (b * b + 1.0)).relu();
    ch04::stats() = {};
    y.ours.realize();
    EXPECT_EQ(ch04::stats().kernels, 1);
    EXPECT_EQ(ch04::stats().buffers, 1);
    EXPECT_EQ(ch04::stats().bytes, 64 * 33 * 4) << "only y's own buffer: no intermediate was written";
    EXPECT_TRUE(fusion_testing::same_values({y}, "relu((exp(a*b+c) - a) / (b*b+1))"));
  }
}

TEST(Task5Engine, RealizedNodesForgetTheirSourcesAndAreNotRecomputed) {
  ch04::ScopedEngine engine(fused());
  std::mt19937_64 rng(41);
  Dual x = Dual::randn({6, 10}, rng);
  Dual y = x.softmax(1);
  ch04::stats() = {};
  y.ours.realize();
  EXPECT_EQ(ch04::stats().kernels, 3);
  EXPECT_TRUE(y.ours.lazy()->base()->srcs().empty()) << "a realized node drops its sources (set_realized)";
  ch04::stats() = {};
  y.ours.realize();
  (y * 2.0).ours.realize();
  EXPECT_EQ(ch04::stats().kernels, 1) << "y is a buffer now: only y * 2 runs";
}

TEST(Task5Engine, EmptyOutputsGetABufferButRunNothing) {
  ch04::ScopedEngine engine(fused());
  std::mt19937_64 rng(42);
  Dual e = Dual::randn({0, 5}, rng) * 2.0;
  ch04::stats() = {};
  e.ours.realize();
  EXPECT_EQ(ch04::stats().kernels, 0);
  EXPECT_TRUE(e.ours.lazy()->realized());
  EXPECT_TRUE(e.ours.to_vector().empty());
}

// A runner that checks what the engine hands it, then interprets.
class CheckingRunner : public ch05::KernelRunner {
 public:
  std::string name() const override { return "Checking"; }
  void run(const ch05::Kernel& k, const std::vector<ch04::Buffer*>& bufs) override {
    ++runs;
    EXPECT_EQ(bufs.size(), k.buffers.size());
    EXPECT_EQ(bufs[0]->numel, k.buffers[0]->numel()) << "bufs[0] is the output, sized for it";
    EXPECT_FALSE(k.buffers[0]->realized()) << "the output is realized after the kernel ran, not before";
    for (size_t i = 1; i < bufs.size(); ++i) EXPECT_EQ(bufs[i], k.buffers[i]->buffer().get());
    ch05::InterpretedRunner().run(k, bufs);
  }
  int runs = 0;
};

TEST(Task5Engine, RunsKernelsThroughItsRunner) {
  auto runner = std::make_shared<CheckingRunner>();
  auto engine = std::make_shared<ch05::FusedEngine>(runner);
  EXPECT_EQ(engine->name(), "FusedEngine(Checking)");
  ch04::ScopedEngine use(engine);
  std::mt19937_64 rng(43);
  Dual x = Dual::randn({5, 12}, rng), g = Dual::randn({12}, rng), b = Dual::randn({12}, rng);
  Dual y = x.layernorm(g, b);
  y.ours.realize();
  EXPECT_EQ(runner->runs, 3);
  EXPECT_TRUE(fusion_testing::same_values({y}, "layer norm"));
  EXPECT_THROW(ch05::FusedEngine(nullptr), std::invalid_argument) << "an engine needs a runner";
}

TEST(Task5Engine, AnMnistSizedMlpTrainingStepMatchesTinyref) {
  ch04::ScopedEngine engine(fused());
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const std::vector<Dual> outs = graphs::mlp_step(rng, {.batch = 16, .in = 784, .hidden = 32, .classes = 10});
    ch04::stats() = {};
    ch04::realize(ours(outs));
    EXPECT_EQ(ch04::stats().kernels, tinyref_count(outs)) << "kernels of one training step";
    EXPECT_TRUE(fusion_testing::same_values(outs, "updated w1, b1, w2, b2 and the loss"));
  }
}

}  // namespace
