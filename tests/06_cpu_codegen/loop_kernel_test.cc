// Task 2: LoopKernel. The loops a kernel starts with (reduce loops inside, extent-1 dimensions
// gone, contiguous dimensions merged), split and move, and the property everything else rests
// on: whatever splits and moves are made, the loop nest visits exactly the element tuples the
// kernel's full shape does (the store's position with every leaf's position), each once.
#include "ch06/loop_kernel.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/twin_kernel.h"
#include "tests/testing/testing.h"

namespace {

using ch06::LoopKernel;
using ch06::LoopKind;
using Tuple = std::vector<int64_t>;

// "4*gidx0 + 1*gidx1 + 0" from the coefficients of k's loop variables (any order of terms,
// any equivalent form, as long as the expression is linear in them).
std::string linear_form(const LoopKernel& k, const ch04::Expr& e) {
  std::string s;
  std::map<std::string, int64_t> zeros;
  for (const ch06::Loop& l : k.loops) {
    zeros[l.var] = 0;
    const auto c = ch06::coefficient(e, l.var);
    if (!c) return "not linear: " + ch04::render(e);
    if (*c != 0) s += std::to_string(*c) + "*" + l.var + " + ";
  }
  return s + std::to_string(ch04::evaluate(e, zeros));
}

std::string loops_of(const LoopKernel& k) {
  std::string s;
  for (const ch06::Loop& l : k.loops) {
    s += (s.empty() ? "" : " ") + std::string(ch06::loop_kind_name(l.kind)) + ":" + std::to_string(l.extent);
  }
  return s;
}

// What the kernel reads and writes at every point of its full shape: the store's position,
// then each leaf's (-1 where invalid), for the leaves in k's order. Sorted.
std::vector<Tuple> tuples_of_kernel(const ch05::Kernel& kernel, const LoopKernel& k) {
  std::vector<Tuple> out;
  const ch04::Shape& full = kernel.shape;
  ch04::Shape idx(full.size(), 0);
  if (ch04::prod(full) == 0) return out;
  while (true) {
    Tuple t;
    for (const ch05::KernelNode* leaf : k.leaves) {
      ch04::Shape at = idx;
      if (leaf->kind == ch05::NodeKind::kStore) {
        for (size_t d = 0; d < at.size(); ++d) {
          if (leaf->st.shape()[d] == 1) at[d] = 0;
        }
      }
      t.push_back(leaf->st.index(at));
    }
    out.push_back(t);
    size_t d = full.size();
    while (d > 0 && ++idx[d - 1] == full[d - 1]) idx[--d] = 0;
    if (d == 0) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The same, visiting every point of k's loops (all kinds) that passes the guards.
std::vector<Tuple> tuples_of_loops(const LoopKernel& k) {
  std::vector<Tuple> out;
  std::vector<std::pair<ch04::Expr, ch04::Expr>> index;
  for (size_t i = 0; i < k.leaves.size(); ++i) index.push_back(k.index(i));
  std::map<std::string, int64_t> vars;
  for (const ch06::Loop& l : k.loops) {
    if (l.extent == 0) return out;
    vars[l.var] = 0;
  }
  while (true) {
    bool inside = true;
    for (const ch04::Expr& g : k.guards) inside = inside && ch04::evaluate(g, vars) != 0;
    if (inside) {
      Tuple t;
      for (const auto& [pos, valid] : index) t.push_back(ch04::evaluate(valid, vars) != 0 ? ch04::evaluate(pos, vars) : -1);
      out.push_back(t);
    }
    size_t l = k.loops.size();
    while (l > 0 && ++vars[k.loops[l - 1].var] == k.loops[l - 1].extent) vars[k.loops[--l].var] = 0;
    if (l == 0) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

::testing::AssertionResult same_visits(const ch05::Kernel& kernel, const LoopKernel& k) {
  const std::vector<Tuple> want = tuples_of_kernel(kernel, k), got = tuples_of_loops(k);
  if (want == got) return ::testing::AssertionSuccess();
  ::testing::AssertionResult r = ::testing::AssertionFailure();
  r << "the loops " << k.describe() << " visit " << got.size() << " element tuples, the kernel's full shape "
    << ch04::shape_str(kernel.shape) << " has " << want.size();
  if (want.size() == got.size()) r << " (the same count: some tuples differ, so some index is wrong)";
  return r << "\n" << ch05::to_string(kernel);
}

TEST(Task2LoopKernel, LoopsOfAMatmul) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 8, 4, 16, true);
  const LoopKernel k(t.kernel);
  EXPECT_EQ(loops_of(k), "global:8 global:4 reduce:16") << k.describe();
  ASSERT_EQ(k.loops.size(), 3u);
  EXPECT_EQ(k.loops[0].var, "gidx0");
  EXPECT_EQ(k.loops[1].var, "gidx1");
  EXPECT_EQ(k.loops[2].var, "ridx0");
  ASSERT_EQ(k.leaves.size(), 5u) << "the STORE, x, w, the bias and the constant 0";
  EXPECT_EQ(k.leaves[0]->kind, ch05::NodeKind::kStore);
  EXPECT_EQ(k.reduce(), t.kernel.reduce_node());
  EXPECT_EQ(k.name, "r_8_4_16");
  EXPECT_EQ(k.buffers.size(), 4u);
  EXPECT_EQ(linear_form(k, k.index(0).first), "4*gidx0 + 1*gidx1 + 0") << "the output, row-major";
  EXPECT_EQ(linear_form(k, k.index(1).first), "16*gidx0 + 1*ridx0 + 0") << "x[i, k]";
  EXPECT_EQ(linear_form(k, k.index(2).first), "1*gidx1 + 4*ridx0 + 0") << "w[k, j]";
  EXPECT_EQ(ch04::render(k.index(1).second), "1") << "x is valid everywhere";
  EXPECT_TRUE(same_visits(t.kernel, k));
}

TEST(Task2LoopKernel, StridesOfAMatmul) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 8, 4, 16);
  const LoopKernel k(t.kernel);
  EXPECT_EQ(k.stride(1, 0), 16) << "x moves a row per gidx0";
  EXPECT_EQ(k.stride(1, 1), 0) << "x is reused along gidx1";
  EXPECT_EQ(k.stride(1, 2), 1) << "x is read stride-1 along ridx0";
  EXPECT_EQ(k.stride(2, 0), 0) << "w is reused along gidx0";
  EXPECT_EQ(k.stride(2, 2), 4) << "w moves a row per ridx0";
  EXPECT_EQ(k.stride(0, 1), 1) << "the output is written stride-1 along gidx1";
}

TEST(Task2LoopKernel, ReducedDimensionsGoInside) {
  // sum over axis 0 of a (5, 7): the reduce loop goes inside the output loop.
  twin::Builder b({5, 7}, ch04::DType::kFloat32);
  std::mt19937_64 rng(2);
  const twin::Node x = b.load({5, 7}, twin::quarters(rng, 35), [](auto st) { return st; });
  const twin::Twin t = b.finish(b.reduce(ch04::Op::SUM, x, {0}));
  const LoopKernel k(t.kernel);
  EXPECT_EQ(loops_of(k), "global:7 reduce:5");
  EXPECT_EQ(k.stride(1, 1), 7) << "x[r, j] moves a row per reduce step";
  EXPECT_TRUE(same_visits(t.kernel, k));
}

TEST(Task2LoopKernel, DropsExtentOneAndMergesContiguousDimensions) {
  std::mt19937_64 rng(3);
  {  // (4, 1, 8, 3) + (4, 1, 8, 3), both contiguous: one loop of 96.
    twin::Builder b({4, 1, 8, 3}, ch04::DType::kFloat32);
    auto plain = [](auto st) { return st; };
    const twin::Node x = b.load({4, 1, 8, 3}, twin::quarters(rng, 96), plain);
    const twin::Node y = b.load({4, 1, 8, 3}, twin::quarters(rng, 96), plain);
    const twin::Twin t = b.finish(b.alu(ch04::Op::ADD, {x, y}));
    const LoopKernel k(t.kernel);
    EXPECT_EQ(loops_of(k), "global:96") << "contiguous dimensions are one loop";
    EXPECT_EQ(ch04::render(k.index(1).first), "gidx0") << "a merged loop reads x at its own index";
    EXPECT_TRUE(same_visits(t.kernel, k));
  }
  {  // (6, 4, 5) + a transposed read of (4, 6) broadcast along the last axis: dims 0 and 1 stay apart.
    twin::Builder b({6, 4, 5}, ch04::DType::kFloat32);
    const twin::Node x = b.load({6, 4, 5}, twin::quarters(rng, 120), [](auto st) { return st; });
    const twin::Node y = b.load({4, 6}, twin::quarters(rng, 24),
                                [](auto st) { return st.permute({1, 0}).reshape({6, 4, 1}).expand({6, 4, 5}); });
    const twin::Twin t = b.finish(b.alu(ch04::Op::MUL, {x, y}));
    const LoopKernel k(t.kernel);
    EXPECT_EQ(loops_of(k), "global:6 global:4 global:5") << "a transposed read keeps its dimensions apart";
    EXPECT_TRUE(same_visits(t.kernel, k));
  }
  {  // a reduce over (3, 4) of a contiguous (2, 3, 4): one reduce loop of 12.
    twin::Builder b({2, 3, 4}, ch04::DType::kFloat32);
    const twin::Node x = b.load({2, 3, 4}, twin::quarters(rng, 24), [](auto st) { return st; });
    const twin::Twin t = b.finish(b.reduce(ch04::Op::SUM, x, {1, 2}));
    const LoopKernel k(t.kernel);
    EXPECT_EQ(loops_of(k), "global:2 reduce:12");
    EXPECT_TRUE(same_visits(t.kernel, k));
  }
}

TEST(Task2LoopKernel, SplitExactlyAndWithATail) {
  std::mt19937_64 rng(4);
  const twin::Twin t = twin::matmul(rng, 16, 13, 3);
  {
    LoopKernel k(t.kernel);
    const size_t inner = k.split(0, 4, LoopKind::kUpcast);
    EXPECT_EQ(loops_of(k), "global:4 global:13 reduce:3 upcast:4") << k.describe();
    EXPECT_EQ(inner, 3u);
    EXPECT_TRUE(k.guards.empty()) << "4 divides 16: no tail, no guard; got " << k.describe();
    EXPECT_EQ(linear_form(k, k.dims[0]), "4*gidx0 + 1*" + k.loops[3].var + " + 0") << "row = gidx0*4 + the upcast position";
    EXPECT_TRUE(same_visits(t.kernel, k));
  }
  {
    LoopKernel k(t.kernel);
    k.split(1, 4, LoopKind::kUpcast);
    EXPECT_EQ(loops_of(k), "global:16 global:4 reduce:3 upcast:4") << "13 = 3*4 + 1: four outer iterations";
    EXPECT_EQ(k.guards.size(), 1u) << "the tail needs a guard: " << k.describe();
    EXPECT_TRUE(same_visits(t.kernel, k));
  }
  {
    LoopKernel k(t.kernel);
    k.split(2, 4, LoopKind::kUnroll);
    EXPECT_EQ(loops_of(k), "global:16 global:13 unroll:4") << "3 < 4: the reduce loop disappears, 4 positions with one guarded";
    EXPECT_EQ(k.guards.size(), 1u) << k.describe();
    EXPECT_TRUE(same_visits(t.kernel, k));
  }
  {
    LoopKernel k(t.kernel);
    k.split(1, 5, LoopKind::kGlobal);
    EXPECT_EQ(loops_of(k), "global:16 global:3 global:5 reduce:3") << "a loop kind goes right after its outer loop";
    EXPECT_TRUE(same_visits(t.kernel, k));
  }
  {  // a split of a split: the inner split's tail must not spill into the next outer iteration
    LoopKernel k(t.kernel);
    k.split(0, 4, LoopKind::kGlobal);      // 16 -> 4 x 4
    k.split(1, 3, LoopKind::kUpcast);      // the inner 4 -> 2 x 3: positions 4 and 5 do not exist
    EXPECT_TRUE(same_visits(t.kernel, k));
  }
}

TEST(Task2LoopKernel, MoveKeepsTheMeaning) {
  std::mt19937_64 rng(5);
  const twin::Twin t = twin::matmul(rng, 6, 5, 4);
  LoopKernel k(t.kernel);
  k.move(1, 0);
  EXPECT_EQ(k.loops[0].var, "gidx1");
  EXPECT_EQ(k.loops[1].var, "gidx0");
  EXPECT_EQ(linear_form(k, k.index(0).first), "1*gidx1 + 5*gidx0 + 0") << "moving a loop changes no index";
  EXPECT_TRUE(same_visits(t.kernel, k));
  EXPECT_THROW(k.move(0, 7), std::invalid_argument);
  EXPECT_THROW(k.split(9, 2, LoopKind::kUpcast), std::invalid_argument);
}

// Random kernels (permuted, flipped, padded, expanded, reshaped views), then random splits
// (exact and with tails, of every kind) and moves: the visits never change.
TEST(Task2LoopKernel, RandomSplitsAndMovesKeepTheMeaning) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 12; ++trial) {
      twin::Options o;
      o.reduce = trial % 2 == 1;
      o.max_elements = 1500;
      const twin::Twin t = twin::random_kernel(rng, o);
      LoopKernel k(t.kernel);
      ASSERT_TRUE(same_visits(t.kernel, k)) << "before any split";
      for (int step = 0; step < 3 && !k.loops.empty(); ++step) {
        const size_t l = rng() % k.loops.size();
        if (rng() % 3 == 0 && k.loops.size() >= 2) {
          const size_t to = rng() % k.loops.size();
          if (k.loops[l].kind == k.loops[to].kind) k.move(l, to);
          continue;
        }
        const bool reduce = ch06::is_reduce_kind(k.loops[l].kind);
        const LoopKind kinds[] = {reduce ? LoopKind::kReduce : LoopKind::kGlobal, reduce ? LoopKind::kUnroll : LoopKind::kUpcast};
        if (!ch06::is_loop(k.loops[l].kind)) continue;
        k.split(l, 2 + static_cast<int64_t>(rng() % 4), kinds[rng() % 2]);
      }
      ASSERT_TRUE(same_visits(t.kernel, k)) << "after splits and moves";
    }
  }
}

TEST(Task2LoopKernel, RejectsAMalformedKernel) {
  std::mt19937_64 rng(6);
  twin::Twin t = twin::matmul(rng, 4, 4, 4);
  EXPECT_NO_THROW(LoopKernel{t.kernel}) << "the well-formed kernel first";
  t.kernel.shape = {4, 4};  // not the full shape its loads read
  EXPECT_THROW(LoopKernel{t.kernel}, std::invalid_argument);
}

}  // namespace
