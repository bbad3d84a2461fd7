// Task 3: linearize. The uops of a few kernels are checked for their shape (where the
// accumulator lives, what is unrolled, what is guarded), and random kernels, with random splits,
// are run by the uop interpreter (uop_interpreter.h: every index bounds-checked) and compared
// with tinyref. No C++ is rendered or compiled here.
#include "ch06/linearize.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/twin_kernel.h"
#include "tests/06_cpu_codegen/uop_interpreter.h"
#include "tests/testing/testing.h"

namespace {

using ch06::LoopKernel;
using ch06::LoopKind;
using ch06::Program;
using ch06::UOpKind;

int count(const Program& p, UOpKind kind) {
  return static_cast<int>(std::count_if(p.uops.begin(), p.uops.end(), [&](const ch06::UOp& u) { return u.kind == kind; }));
}
int first(const Program& p, UOpKind kind) {
  for (size_t i = 0; i < p.uops.size(); ++i) {
    if (p.uops[i].kind == kind) return static_cast<int>(i);
  }
  return -1;
}

// The program's output on the twin's inputs, through the uop interpreter.
::testing::AssertionResult interprets_like_tinyref(const twin::Twin& t, const Program& p) {
  std::vector<std::vector<double>> bufs = {std::vector<double>(static_cast<size_t>(t.outputs))};
  bufs.insert(bufs.end(), t.inputs.begin(), t.inputs.end());
  const std::string error = uop_interpreter::run(p, bufs);
  if (!error.empty()) return ::testing::AssertionFailure() << error << "\n" << ch06::to_string(p) << t.text();
  ::testing::AssertionResult r = twin::agrees(t, twin::expected(t), bufs[0], "the uops of " + p.name);
  if (!r) r << ch06::to_string(p);
  return r;
}

TEST(Task3Linearize, MatmulReluUops) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 8, 4, 16, true);
  const Program p = ch06::linearize(LoopKernel(t.kernel));
  EXPECT_EQ(p.name, "r_8_4_16");
  EXPECT_EQ(count(p, UOpKind::kDefineGlobal), 4) << ch06::to_string(p);
  EXPECT_EQ(count(p, UOpKind::kRange), 3) << "one loop per dimension\n" << ch06::to_string(p);
  EXPECT_EQ(count(p, UOpKind::kEndRange), 3) << ch06::to_string(p);
  EXPECT_EQ(count(p, UOpKind::kDefineAcc), 1) << ch06::to_string(p);
  EXPECT_EQ(count(p, UOpKind::kAccumulate), 1) << ch06::to_string(p);
  EXPECT_EQ(count(p, UOpKind::kStore), 1) << ch06::to_string(p);
  // The accumulator starts afresh for every output: inside both output loops, before the reduce loop.
  const int acc = first(p, UOpKind::kDefineAcc);
  ASSERT_GE(acc, 0);
  int ranges_before = 0;
  for (int i = 0; i < acc; ++i) ranges_before += p.uops[i].kind == UOpKind::kRange;
  EXPECT_EQ(ranges_before, 2) << "DEFINE_ACC must sit inside the two output loops (a fresh accumulator per output)\n"
                              << ch06::to_string(p);
  EXPECT_EQ(p.uops[acc].value, 0) << "a SUM starts at 0";
  EXPECT_GT(first(p, UOpKind::kStore), first(p, UOpKind::kEndRange)) << "the store comes after the reduce loop closes";
  EXPECT_EQ(p.uops[first(p, UOpKind::kRange) + 0].var, "gidx0");
  EXPECT_EQ(p.flops, 2 * 8 * 4 * 16 + 2 * 8 * 4) << "multiply and add per term; bias and relu per output";
  EXPECT_TRUE(interprets_like_tinyref(t, p));
}

TEST(Task3Linearize, RmaxStartsBelowEverything) {
  twin::Builder b({6, 9}, ch04::DType::kFloat32);
  std::mt19937_64 rng(2);
  const twin::Node x = b.load({6, 9}, twin::quarters(rng, 54, -40, -1), [](auto st) { return st; });  // all negative
  const twin::Twin t = b.finish(b.reduce(ch04::Op::RMAX, x, {1}));
  const Program p = ch06::linearize(LoopKernel(t.kernel));
  const int acc = first(p, UOpKind::kDefineAcc);
  ASSERT_GE(acc, 0);
  EXPECT_TRUE(std::isinf(p.uops[acc].value) && p.uops[acc].value < 0) << "a max starts at -inf, not 0";
  EXPECT_TRUE(interprets_like_tinyref(t, p));
}

TEST(Task3Linearize, PaddedLoadsAreGuarded) {
  // A (5, 6) input padded by 2 on every side, plus 1: the padding reads 0 without touching memory.
  twin::Builder b({9, 10}, ch04::DType::kFloat32);
  std::mt19937_64 rng(3);
  const twin::Node x = b.load({5, 6}, twin::quarters(rng, 30), [](auto st) { return st.pad({{2, 2}, {2, 2}}); });
  const twin::Twin t = b.finish(b.alu(ch04::Op::ADD, {x, b.constant(1)}));
  const Program p = ch06::linearize(LoopKernel(t.kernel));
  const int load = first(p, UOpKind::kLoad);
  ASSERT_GE(load, 0) << ch06::to_string(p);
  EXPECT_TRUE(p.uops[load].valid) << "a padded load needs a validity condition\n" << ch06::to_string(p);
  EXPECT_TRUE(interprets_like_tinyref(t, p));
}

TEST(Task3Linearize, NothingValidIsNoLoad) {
  // Only the padding of a padded input is read (shrunk to it): every element is 0, no load.
  twin::Builder b({3, 4}, ch04::DType::kFloat32);
  std::mt19937_64 rng(4);
  const twin::Node x = b.load({2, 4}, twin::quarters(rng, 8), [](auto st) { return st.pad({{0, 3}, {0, 0}}).shrink({{2, 5}, {0, 4}}); });
  const twin::Twin t = b.finish(b.alu(ch04::Op::ADD, {x, b.constant(0.5)}));
  const Program p = ch06::linearize(LoopKernel(t.kernel));
  EXPECT_EQ(count(p, UOpKind::kLoad), 0) << "a load that is never valid is the constant 0\n" << ch06::to_string(p);
  EXPECT_TRUE(interprets_like_tinyref(t, p));
}

TEST(Task3Linearize, UpcastIsUnrolledAndTailsAreGuarded) {
  std::mt19937_64 rng(5);
  const twin::Twin t = twin::matmul(rng, 5, 13, 6);
  LoopKernel k(t.kernel);
  k.split(1, 4, LoopKind::kUpcast);  // 13 columns: 3 full groups of 4 and a tail of 1
  const Program p = ch06::linearize(k);
  EXPECT_EQ(count(p, UOpKind::kRange), 3) << "an upcast loop is no loop\n" << ch06::to_string(p);
  EXPECT_EQ(count(p, UOpKind::kDefineAcc), 4) << "one accumulator per upcast position\n" << ch06::to_string(p);
  EXPECT_EQ(count(p, UOpKind::kStore), 4) << ch06::to_string(p);
  int guarded = 0;
  for (const ch06::UOp& u : p.uops) guarded += u.kind == UOpKind::kStore && u.valid != nullptr;
  EXPECT_EQ(guarded, 3) << "positions 1..3 of the last group do not exist: their stores are guarded, position 0's "
                           "is not (it always exists)\n"
                        << ch06::to_string(p);
  for (const ch06::UOp& u : p.uops) {
    if (u.kind == UOpKind::kRange) {
      EXPECT_NE(u.var.rfind("up", 0), 0u) << "no loop over an upcast variable";
    }
  }
  EXPECT_TRUE(interprets_like_tinyref(t, p));
}

TEST(Task3Linearize, PartialAccumulatorsAreCombined) {
  for (ch04::Op op : {ch04::Op::SUM, ch04::Op::RMAX}) {
    twin::Builder b({3, 11}, ch04::DType::kFloat32);
    std::mt19937_64 rng(6);
    const twin::Node x = b.load({3, 11}, twin::quarters(rng, 33, -40, -1), [](auto st) { return st; });
    const twin::Twin t = b.finish(b.reduce(op, x, {1}));
    LoopKernel k(t.kernel);
    k.split(1, 4, LoopKind::kUnroll);  // 11 = 2*4 + 3: the last group's 4th partial never adds
    const Program p = ch06::linearize(k);
    EXPECT_EQ(count(p, UOpKind::kDefineAcc), 4) << "one partial accumulator per unrolled position\n" << ch06::to_string(p);
    EXPECT_EQ(count(p, UOpKind::kAccumulate), 4) << ch06::to_string(p);
    EXPECT_TRUE(interprets_like_tinyref(t, p)) << ch04::op_name(op) << " over 11 values in 4 partials";
  }
}

TEST(Task3Linearize, RejectsAnOutputLoopInsideAReduce) {
  std::mt19937_64 rng(7);
  const twin::Twin t = twin::matmul(rng, 4, 4, 4);
  LoopKernel k(t.kernel);
  k.move(0, 2);  // gidx0 inside ridx0
  try {
    ch06::linearize(k);
    FAIL() << "an output loop inside a reduce loop cannot be linearized: " << k.describe();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("r_4_4_4"), std::string::npos) << "name the kernel: " << e.what();
  }
}

TEST(Task3Linearize, ZeroSizedReduceGivesTheIdentity) {
  for (ch04::Op op : {ch04::Op::SUM, ch04::Op::RMAX}) {
    twin::Builder b({3, 0}, ch04::DType::kFloat32);
    const twin::Node x = b.load({3, 0}, {}, [](auto st) { return st; });
    const twin::Twin t = b.finish(b.reduce(op, x, {1}));
    const Program p = ch06::linearize(LoopKernel(t.kernel));
    // tinyref's kernels never see an empty reduce (its front end folds them): the identities
    // by definition, a sum of nothing is 0 and a max of nothing -inf.
    std::vector<std::vector<double>> bufs = {std::vector<double>(3), {}};
    ASSERT_EQ(uop_interpreter::run(p, bufs), "") << ch06::to_string(p);
    const double identity = op == ch04::Op::SUM ? 0.0 : -INFINITY;
    EXPECT_EQ(bufs[0], std::vector<double>(3, identity)) << ch04::op_name(op) << " of nothing\n" << ch06::to_string(p);
  }
}

// Random kernels with random splits (of every kind, exact and with tails), interpreted.
TEST(Task3Linearize, RandomKernelsLikeTinyref) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 16; ++trial) {
      twin::Options o;
      o.reduce = trial % 2 == 1;
      o.max_elements = 1200;
      const twin::Twin t = twin::random_kernel(rng, o);
      LoopKernel k(t.kernel);
      for (int s = 0; s < 2 && trial >= 4; ++s) {
        if (k.loops.empty()) break;
        const size_t l = rng() % k.loops.size();
        if (!ch06::is_loop(k.loops[l].kind)) continue;
        const bool reduce = k.loops[l].kind == LoopKind::kReduce;
        k.split(l, 2 + static_cast<int64_t>(rng() % 4), reduce ? LoopKind::kUnroll : LoopKind::kUpcast);
      }
      SCOPED_TRACE("loops " + k.describe());
      ASSERT_TRUE(interprets_like_tinyref(t, ch06::linearize(k)));
    }
  }
}

}  // namespace
