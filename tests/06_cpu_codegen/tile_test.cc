// Task 11: register_tile, and every transformation together. A matmul upcast along its columns
// loads 8 values of B and one of A per step and does 8 multiply-adds; tiled 4 rows deep as well
// (32 accumulators, the budget) it loads 8 of B and 4 of A for 32. The tile must pick the loop
// along which B (what the upcast loop moves through) is reused, and its edges (extents no tile
// divides) must stay inside the buffers.
#include <random>
#include <string>

#include "ch04/tensor.h"
#include "ch05/runner.h"
#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/optimize_testing.h"
#include "tests/06_cpu_codegen/twin_kernel.h"
#include "tinyref/tensor.h"

namespace {

using namespace optimize_testing;
using ch06::LoopKind;
using ch06::UOpKind;

int loads_of(const ch06::Program& p, int buffer) {
  int n = 0;
  for (const ch06::UOp& u : p.uops) n += u.kind == UOpKind::kLoad && u.buffer == buffer;
  return n;
}

TEST(Task11Tile, MatmulTile) {
  std::mt19937_64 rng(1);
  const twin::Twin t = twin::matmul(rng, 64, 64, 32);
  const Optimized c = optimized(t, only("upcast tile"));
  EXPECT_EQ(c.loops.extent_of(LoopKind::kUpcast), 32) << "8 columns x 4 rows: " << c.loops.describe();
  EXPECT_EQ(count(c.program, UOpKind::kDefineAcc), 32) << c.source;
  EXPECT_EQ(loads_of(c.program, 1), 4) << "4 rows of A per step\n" << c.source;
  EXPECT_EQ(loads_of(c.program, 2), 8) << "8 columns of B per step, each used by the 4 rows\n" << c.source;
  bool tiled_rows = false;
  for (const std::string& a : c.loops.applied) tiled_rows = tiled_rows || a.find("gidx0") != std::string::npos;
  EXPECT_TRUE(tiled_rows) << "the tile goes along the rows (gidx0), where B is reused";
  EXPECT_TRUE(means_the_same(t, c));
}

TEST(Task11Tile, EdgesOfTheTile) {
  // Columns of at least 8 (one vector): shorter rows are not upcast in a reduction (task 9).
  for (auto [m, n] : {std::pair<int64_t, int64_t>{13, 11}, {7, 19}, {5, 9}, {17, 10}}) {
    std::mt19937_64 rng(static_cast<uint64_t>(m * n));
    const twin::Twin t = twin::matmul(rng, m, n, 7);
    const Optimized c = optimized(t, only("upcast tile"));
    EXPECT_GT(c.loops.extent_of(LoopKind::kUpcast), 1) << m << " x " << n << ": " << c.loops.describe();
    EXPECT_TRUE(means_the_same(t, c)) << m << " x " << n;
  }
}

TEST(Task11Tile, ConvolutionTilesOutputChannels) {
  std::mt19937_64 rng(2);
  const twin::Twin t = twin::conv2d(rng, 2, 3, 10, 12, 8, 3, 3, 0);
  const Optimized c = optimized(t, only("upcast tile"));
  bool channels = false;
  for (const std::string& a : c.loops.applied) channels = channels || a.rfind("tile gidx1", 0) == 0;
  EXPECT_TRUE(channels) << "the input is reused along the output channels (gidx1): tile them; applied "
                        << c.loops.describe();
  EXPECT_TRUE(means_the_same(t, c));
}

TEST(Task11Tile, RandomKernelsMeanTheSame) { random_kernels_mean_the_same(only("upcast tile"), true, 6); }

TEST(Task11Tile, EverythingTogether) {
  random_kernels_mean_the_same(OptimizeOptions{}, false, 6);
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    twin::Options o;
    o.reduce = true;
    o.extents = {3, 17, 32, 64, 96};
    o.max_elements = 1 << 17;
    o.max_reduce = 2048;
    ASSERT_TRUE(runs_on_threads(twin::random_kernel(rng, o), OptimizeOptions{}, 2));
  }
}

// A training step's worth of kernels (conv, pooling, softmax, their gradients) on the
// FusedEngine with every optimization, against tinyref.
TEST(Task11Tile, ConvNetStepOnTheFusedEngine) {
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(std::make_shared<ch06::CpuRunner>()));
  std::mt19937_64 rng(testing_util::seeds().front());
  std::normal_distribution<double> normal(0, 1);
  auto values = [&](int64_t n) {
    std::vector<double> v(static_cast<size_t>(n));
    for (double& x : v) x = normal(rng);
    return v;
  };
  const std::vector<double> xv = values(4 * 1 * 12 * 12), wv = values(8 * 1 * 5 * 5), fv = values(10 * 8 * 4 * 4);
  ch04::Tensor x = ch04::Tensor::from_vector(xv, {4, 1, 12, 12});
  ch04::Tensor w = ch04::Tensor::from_vector(wv, {8, 1, 5, 5}).requires_grad_();
  ch04::Tensor f = ch04::Tensor::from_vector(fv, {10, 128}).requires_grad_();
  tinyref::Tensor rx(std::vector<float>(xv.begin(), xv.end()), {4, 1, 12, 12}, "INTERP");
  tinyref::Tensor rw = tinyref::Tensor(std::vector<float>(wv.begin(), wv.end()), {8, 1, 5, 5}, "INTERP").requires_grad_();
  tinyref::Tensor rf = tinyref::Tensor(std::vector<float>(fv.begin(), fv.end()), {10, 128}, "INTERP").requires_grad_();
  const std::vector<double> labels = {1, 7, 3, 0};
  ch04::Tensor loss = x.conv2d(w).relu().max_pool2d(2).flatten(1).linear(f).cross_entropy(ch04::Tensor::from_vector(labels, {4}));
  tinyref::Tensor rlabels = tinyref::Tensor::from_vector(std::vector<int32_t>{1, 7, 3, 0}, {4}, "INTERP");
  tinyref::Tensor rloss = rx.conv2d(rw).relu().max_pool2d(2).flatten(1).linear(rf).cross_entropy(rlabels);
  loss.backward();
  rloss.backward();
  // float32 sums of 25-128 terms in another order than tinyref's: a few ulps of the largest term.
  EXPECT_TRUE(testing_util::close(rloss.item(), loss.item(), 1e-5, 1e-5, "the loss"));
  EXPECT_TRUE(testing_util::all_close(rw.grad().to_doubles(), w.grad().to_vector(), 1e-4, 1e-5, "d loss / d conv weight"));
  EXPECT_TRUE(testing_util::all_close(rf.grad().to_doubles(), f.grad().to_vector(), 1e-4, 1e-5, "d loss / d linear weight"));
}

}  // namespace
