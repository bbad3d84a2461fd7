// Task 9: upcast_output. The output loop the STORE writes stride-1 becomes groups of outputs
// computed side by side (the whole loop when it fits in two vectors, else the largest power of
// two up to `width` that divides it), and the compiler turns each group into vector
// instructions. Other extents keep a tail, which must never read or write past its buffers.
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/optimize_testing.h"
#include "tests/06_cpu_codegen/twin_kernel.h"

namespace {

using namespace optimize_testing;
using ch06::LoopKind;
using ch06::UOpKind;

// out (a, b) = x * y^T + 1: the transposed y keeps the two loops apart.
twin::Twin elementwise(int64_t a, int64_t b) {
  twin::Builder bld({a, b}, ch04::DType::kFloat32);
  std::mt19937_64 rng(static_cast<uint64_t>(a * 100 + b));
  const twin::Node x = bld.load({a, b}, twin::quarters(rng, a * b), [](auto st) { return st; });
  const twin::Node y = bld.load({b, a}, twin::quarters(rng, a * b), [](auto st) { return st.permute({1, 0}); });
  return bld.finish(bld.alu(ch04::Op::ADD, {bld.alu(ch04::Op::MUL, {x, y}), bld.constant(1)}));
}

std::string kinds(const ch06::LoopKernel& k) {
  std::string s;
  for (const ch06::Loop& l : k.loops) s += (s.empty() ? "" : " ") + std::string(ch06::loop_kind_name(l.kind)) + ":" + std::to_string(l.extent);
  return s;
}

TEST(Task9Upcast, GroupsOfEightStoredSideBySide) {
  const twin::Twin t = elementwise(6, 24);
  const Optimized c = optimized(t, only("upcast"));
  EXPECT_EQ(kinds(c.loops), "global:6 global:3 upcast:8") << c.loops.describe();
  EXPECT_TRUE(c.loops.guards.empty()) << "8 divides 24: no tail";
  EXPECT_EQ(count(c.program, UOpKind::kStore), 8) << "8 stores per iteration\n" << c.source;
  EXPECT_NE(c.source.find("+7)] = "), std::string::npos) << "the group's 8th output at +7:\n" << c.source;
  EXPECT_TRUE(means_the_same(t, c));
}

TEST(Task9Upcast, TheLargestPowerOfTwoThatDivides) {
  const twin::Twin t = elementwise(3, 20);
  const Optimized c = optimized(t, only("upcast"));
  EXPECT_EQ(kinds(c.loops), "global:3 global:5 upcast:4") << "20 = 5 x 4: groups of 4, no tail; " << c.loops.describe();
  EXPECT_TRUE(means_the_same(t, c));
}

TEST(Task9Upcast, AShortLoopIsUnrolledWhole) {
  for (int64_t b : {5, 6, 10, 16}) {
    const twin::Twin t = elementwise(7, b);
    const Optimized c = optimized(t, only("upcast"));
    EXPECT_EQ(kinds(c.loops), "global:7 upcast:" + std::to_string(b)) << "up to two vectors: whole, no tail; "
                                                                       << c.loops.describe();
    EXPECT_TRUE(means_the_same(t, c));
  }
}

TEST(Task9Upcast, TailsStayInsideTheBuffers) {
  for (int64_t b : {17, 19, 23, 25, 31, 33}) {
    const twin::Twin t = elementwise(3, b);
    const Optimized c = optimized(t, only("upcast"));
    EXPECT_EQ(c.loops.loops.back().extent, 8) << "no power of two up to 8 divides " << b << ": groups of 8 and a tail; "
                                              << c.loops.describe();
    EXPECT_FALSE(c.loops.guards.empty()) << "a tail needs a guard: " << c.loops.describe();
    EXPECT_TRUE(means_the_same(t, c)) << "b = " << b;
  }
}

TEST(Task9Upcast, OneAccumulatorPerOutputOfAReduce) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 8, 32, 8);
  const Optimized c = optimized(t, only("upcast"));
  EXPECT_EQ(count(c.program, UOpKind::kDefineAcc), 8) << "8 outputs per iteration, 8 accumulators\n" << c.source;
  int x_loads = 0;
  for (const ch06::UOp& u : c.program.uops) x_loads += u.kind == UOpKind::kLoad && u.buffer == 1;
  EXPECT_EQ(x_loads, 1) << "x[i, k] is the same for the 8 columns: loaded once per iteration, not 8 times\n" << c.source;
  EXPECT_TRUE(means_the_same(t, c));
}

TEST(Task9Upcast, NotAcrossFarApartInputsOfAReduce) {
  // Per-channel sums of an NCHW batch (BatchNorm's statistics): the outputs are channels, whose
  // inputs lie 400 floats apart. Upcasting channels would make no vector: leave it.
  twin::Builder b({16, 8, 400}, ch04::DType::kFloat32);
  std::mt19937_64 rng(2);
  const twin::Node x = b.load({16, 8, 400}, twin::quarters(rng, 16 * 8 * 400), [](auto st) { return st; });
  const twin::Twin t = b.finish(b.reduce(ch04::Op::SUM, x, {0, 2}));
  ch06::LoopKernel k(t.kernel);
  ch06::upcast_output(k, 8);
  EXPECT_EQ(k.extent_of(LoopKind::kUpcast), 1) << k.describe();
}

TEST(Task9Upcast, FollowsTheStoresStrideOneLoop) {
  // After a reorder the store's stride-1 loop is not the innermost one: upcast still picks it.
  const twin::Twin t = elementwise(16, 12);
  ch06::LoopKernel k(t.kernel);
  k.move(1, 0);
  ch06::upcast_output(k, 8);
  ASSERT_FALSE(k.applied.empty()) << k.describe();
  EXPECT_NE(k.applied.back().find("gidx1"), std::string::npos) << "the output is written stride-1 along gidx1, not "
                                                               << k.applied.back();
}

TEST(Task9Upcast, RandomKernelsMeanTheSame) {
  random_kernels_mean_the_same(only("upcast"), false, 6);
  random_kernels_mean_the_same(only("reorder upcast"), false, 4);
}

}  // namespace
