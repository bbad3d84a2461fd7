// The differential fuzzer on CI: a fixed number of random graphs (the seed printed; TT_SEEDS
// picks another), every way tinyref realizes them against the oracle, and the fuzzer's own
// parts: the oracle on values worked out by hand, the shrinker, the printed code, and the
// graphs the fuzzer once found failing (Regressions), kept so that they stay fixed.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/fuzz/fuzz.h"
#include "tinyref/fuzz/reference.h"

namespace tinyref::fuzz {
namespace {

constexpr int kGraphsOnCi = 24;

TEST(Fuzz, RandomGraphsAgreeEveryWay) {
  FuzzOptions o;
  o.seed = testing_util::seeds()[0];
  o.graphs = kGraphsOnCi;
  const FuzzReport r = fuzz(o);
  std::string on;
  for (const std::string& d : r.devices) on += " " + d;
  std::printf("fuzz: seed %llu (rerun with TT_SEEDS=%llu): %d graphs, %lld ways, %lld kernels on%s\n",
              static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(o.seed), r.graphs_tried,
              static_cast<long long>(r.ways), static_cast<long long>(r.kernels), on.c_str());
  EXPECT_EQ(r.graphs_tried, kGraphsOnCi);
  EXPECT_GT(r.kernels, r.graphs_tried);
  for (const FuzzFailure& f : r.failures) {
    ADD_FAILURE() << "graph " << f.graph_seed << " (random_graph(" << f.graph_seed << ")): " << f.what
                  << "\nshrunk from " << f.nodes << " to " << f.shrunk_nodes << " nodes:\n" << f.code;
  }
}

// The oracle itself, on values worked out by hand.
TEST(Fuzz, TheReferenceComputesWhatTheGraphSays) {
  FuzzGraph g;
  int a = g.input({2, 3}, DType::kFloat32, 5);
  const std::vector<double> x = input_values(g.nodes[a]);
  int t = g.move(a, Op::PERMUTE, {1, 0});                 // (3, 2)
  int p = g.move(t, Op::PAD, {}, {{1, 0}, {0, 0}});       // (4, 2), a zero row first
  int s = g.reduce(Op::SUM, p, {1});                      // (4, 1)
  int m = g.reduce(Op::RMAX, a, {0, 1});                  // (1, 1)
  int f = g.move(a, Op::FLIP, {1, 1});                   // both axes: all reversed
  g.outputs = {s, m, f};
  const std::vector<LazyRef> outs = g.build("INTERP");
  const std::vector<double> sums = reference_values(outs[0]);
  EXPECT_EQ(sums, (std::vector<double>{0, x[0] + x[3], x[1] + x[4], x[2] + x[5]}));
  EXPECT_EQ(reference_values(outs[1]), (std::vector<double>{*std::max_element(x.begin(), x.end())}));
  EXPECT_EQ(reference_values(outs[2]), (std::vector<double>{x[5], x[4], x[3], x[2], x[1], x[0]}));
}

TEST(Fuzz, AGraphPrintsAsTheCallsThatBuildIt) {
  FuzzGraph g;
  int a = g.input({4, 6}, DType::kFloat32, 1);
  int b = g.move(a, Op::SHRINK, {}, {{0, 2}, {1, 5}});
  int c = g.alu(Op::MUL, {b, b});
  g.outputs = {c};
  EXPECT_EQ(g.to_code(),
            "FuzzGraph g;\n"
            "int n0 = g.input({4, 6}, DType::kFloat32, 1);  // (4, 6) float32\n"
            "int n1 = g.move(n0, Op::SHRINK, {}, {{0, 2}, {1, 5}});  // (2, 4) float32\n"
            "int n2 = g.alu(Op::MUL, {n1, n1});  // (2, 4) float32\n"
            "g.outputs = {n2};\n");
}

// A failure that needs one RECIP is shrunk to little more than that RECIP.
TEST(Fuzz, ShrinkingKeepsWhatTheFailureNeeds) {
  FuzzGraph g;
  int a = g.input({4, 4}, DType::kFloat32, 1);
  int b = g.move(a, Op::PERMUTE, {1, 0});
  int c = g.alu(Op::ADD, {a, b});
  int d = g.alu(Op::RECIP, {c});
  int e = g.alu(Op::EXP2, {g.reduce(Op::SUM, d, {0})});
  int f = g.alu(Op::NEG, {a});
  g.outputs = {e, f};
  const auto has_recip = [](const FuzzGraph& c) {
    for (const FuzzNode& n : c.nodes) {
      if (n.kind == FuzzNode::Kind::kAlu && n.op == Op::RECIP) return true;
    }
    return false;
  };
  const FuzzGraph small = shrink(g, has_recip);
  EXPECT_TRUE(has_recip(small));
  EXPECT_EQ(small.size(), 2u) << small.to_code();  // an input and its RECIP, the output
  EXPECT_EQ(small.outputs.size(), 1u);
}

// A check whose kernels crash reports it, and the caller goes on.
TEST(Fuzz, ACrashInACheckIsAResultNotACrash) {
  const ChildResult r = in_child([](FILE*) -> std::string { std::abort(); }, 60);
  EXPECT_FALSE(r.finished);
  EXPECT_NE(r.result.find("crashed"), std::string::npos) << r.result;
  EXPECT_EQ(in_child([](FILE*) { return std::string("fine"); }, 60).result, "fine");
}

// Graphs the fuzzer found failing, shrunk, with the Opts each kernel had: each is fixed, and
// stays fixed.
TEST(Fuzz, Regressions) {
  struct Found {
    std::string what;
    FuzzGraph g;
    std::string device;
    std::vector<std::string> opts;  // per kernel, as the failure printed them
  };
  std::vector<Found> found;
  {
    // GCC 12 at -O3 -march=native on an AVX-512 machine it takes for a Zen 3 vectorized this
    // padded copy with 512-bit masked loads, wrongly: every value after the padding was garbage.
    FuzzGraph g;
    int n0 = g.input({16, 32}, DType::kFloat32, 376818);
    int n1 = g.move(n0, Op::PAD, {}, {{1, 2}, {0, 0}});
    g.outputs = {n1};
    found.push_back({"a padded copy, tiled, miscompiled", g, "CPU", {"upcast 0 4, upcast 0 2, parallel, block 0 2"}});
  }
  {
    // int32 % and / by zero: INTERP gives 0 (ops.def); the compiled C++ trapped (SIGFPE, or
    // GCC's ud2: "Illegal instruction") and killed the process.
    FuzzGraph g;
    int a = g.input({8}, DType::kInt32, 3);
    int z = g.constant(0, DType::kInt32, {8});
    g.outputs = {g.alu(Op::MOD, {a, z}), g.alu(Op::IDIV, {a, z})};
    found.push_back({"integer division by zero", g, "CPU", {"", ""}});
  }
  for (const char* device : {"CPU", "CUDA_EMU"}) {
    // A negative constant after a minus rendered as "(val0--2.25f)": a decrement, which neither
    // g++ nor the CUDA emulator compiles (the long fuzzer run, seed 7: graphs 700045 and 6 more).
    FuzzGraph g;
    int a = g.input({8}, DType::kFloat32, 5);
    int c = g.constant(-2.25, DType::kFloat32, {8});
    int i = g.input({8}, DType::kInt32, 6);
    int k = g.constant(-2, DType::kInt32, {8});
    g.outputs = {g.alu(Op::SUB, {a, c}), g.alu(Op::SUB, {i, k})};
    found.push_back({"minus a negative constant", g, device, {"", ""}});
  }
  for (const Found& f : found) {
    const CheckResult r = check_with_opts(f.g, f.device, f.opts);
    EXPECT_TRUE(r.ok) << f.what << ": " << r.what << "\n" << f.g.to_code();
  }
}

// Opt sequences that once gave wrong answers, now refused by Kernel::can_apply.
TEST(Fuzz, OptsThatOnceGaveWrongAnswersAreRefused) {
  FuzzGraph g;
  int n0 = g.input({3, 2, 3}, DType::kFloat32, 182711);
  g.outputs = {g.reduce(Op::SUM, n0, {2})};
  // A group reduce stored one lane of each vector accumulator of outputs: half the sums were
  // another output's.
  const CheckResult r = check_with_opts(g, "INTERP", {"parallel, group 1 3, vector 0 2"});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.what.find("cannot apply vector 0 2"), std::string::npos) << r.what;
}

}  // namespace
}  // namespace tinyref::fuzz
