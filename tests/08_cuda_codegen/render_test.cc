// Task 3: render_cuda. The lowered programs of random kernels, rendered, must be CUDA that NVRTC
// accepts (where the toolkit is installed) and that computes tinyref's result on the GPU (or the
// emulator, which also faults on any read or write outside a buffer). Plans without a group
// reduce or float4 here: tasks 4 and 5 have their own tests.
#include "ch08/render_cuda.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/08_cuda_codegen/gpu_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch04::Op;
using ch08::GpuOptions;

GpuOptions plain(int upcast = 1) {
  GpuOptions o = GpuOptions::none();
  o.upcast = upcast;
  return o;
}

struct Rendered {
  ch08::GpuProgram program;
  std::string source;
};

Rendered rendered(const twin::Twin& t, const GpuOptions& o) {
  Rendered r{ch08::lower_gpu(ch08::plan_gpu(t.kernel, o)), ""};
  r.source = ch08::render_cuda(r.program);
  return r;
}

::testing::AssertionResult runs_like_tinyref(const twin::Twin& t, const GpuOptions& o) {
  const Rendered r = rendered(t, o);
  std::vector<double> got;
  try {
    got = gpu_testing::run_program(r.program, r.source, t);
  } catch (const gpu::GpuError& e) {
    return ::testing::AssertionFailure() << e.what() << "\nsource:\n" << r.source;
  }
  ::testing::AssertionResult ok = twin::agrees(t, twin::expected(t), got, "the rendered kernel");
  if (!ok) ok << "\nsource:\n" << r.source;
  return ok;
}

TEST(Task3Render, RandomKernelsRunLikeTinyref) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 4; ++trial) {
      twin::Options o;
      o.reduce = trial % 2 == 1;
      const twin::Twin t = twin::random_kernel(rng, o);
      ASSERT_TRUE(runs_like_tinyref(t, plain(trial < 2 ? 1 : 4))) << "upcast " << (trial < 2 ? 1 : 4);
    }
  }
}

TEST(Task3Render, TheKernelsSignature) {
  std::mt19937_64 rng(2);
  const twin::Twin t = twin::matmul(rng, 16, 8, 4, true);
  const Rendered r = rendered(t, plain());
  const std::string& s = r.source;
  EXPECT_NE(s.find("extern \"C\" __global__ void __launch_bounds__(" + std::to_string(r.program.dims.threads) + ") " +
                   t.kernel.name() + "(float* __restrict__ data0, const float* __restrict__ data1, "
                                     "const float* __restrict__ data2, const float* __restrict__ data3)"),
            std::string::npos)
      << "extern \"C\" (NVRTC keeps the name), __launch_bounds__ of the block's threads, data0 written and the "
         "inputs const:\n"
      << s;
  for (const ch08::GpuIndex& d : r.program.indices) {
    EXPECT_NE(s.find("const int " + d.var + " = " + ch08::index_expression(d, r.program.dims) + ";"), std::string::npos)
        << "each SPECIAL is a const int of blockIdx.x or threadIdx.x:\n" << s;
  }
  EXPECT_EQ(s.find("for (int gidx"), std::string::npos) << "no loop over outputs: the threads are the loop\n" << s;
  EXPECT_NE(s.find("for (int ridx0 = 0; ridx0 < 4; ridx0++)"), std::string::npos) << s;
  EXPECT_TRUE(runs_like_tinyref(t, plain()));
}

TEST(Task3Render, EveryElementwiseOp) {
  for (ch04::DType dtype : {ch04::DType::kFloat32, ch04::DType::kFloat64}) {
    twin::Builder b({3, 37}, dtype);
    std::mt19937_64 rng(3);
    const twin::Node x = b.load({3, 37}, twin::quarters(rng, 111), [](auto st) { return st; });
    const twin::Node y = b.load({37, 3}, twin::quarters(rng, 111), [](auto st) { return st.permute({1, 0}); });
    const twin::Node positive = b.alu(Op::ADD, {b.alu(Op::MUL, {x, x}), b.constant(1)});
    twin::Node v = b.alu(Op::ADD, {b.alu(Op::EXP2, {x}), b.alu(Op::LOG2, {positive})});
    v = b.alu(Op::ADD, {v, b.alu(Op::SIN, {y})});
    v = b.alu(Op::SUB, {v, b.alu(Op::SQRT, {positive})});
    v = b.alu(Op::MUL, {v, b.alu(Op::RECIP, {positive})});
    v = b.alu(Op::ADD, {v, b.alu(Op::DIV, {y, positive})});
    v = b.alu(Op::MAX, {v, b.alu(Op::NEG, {y})});
    v = b.alu(Op::ADD, {v, b.alu(Op::CMPLT, {x, y})});
    v = b.alu(Op::WHERE, {b.alu(Op::CMPNE, {x, y}), v, b.constant(7)});
    const twin::Twin t = b.finish(v);
    EXPECT_TRUE(runs_like_tinyref(t, plain())) << ch04::dtype_name(dtype);
  }
}

TEST(Task3Render, InfinitiesAndNans) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  for (ch04::DType dtype : {ch04::DType::kFloat32, ch04::DType::kFloat64}) {
    twin::Builder b({4, 9}, dtype);
    std::mt19937_64 rng(4);
    std::vector<double> data = twin::quarters(rng, 36, 1, 8);  // positive...
    for (int i = 0; i < 9; ++i) data[i] = -data[i];            // ...but row 0
    const twin::Node x = b.load({4, 9}, data, [](auto st) { return st; });
    // Row 0 becomes all -inf, its max -inf; a NaN constant is rendered but never chosen.
    twin::Node v = b.alu(Op::WHERE, {b.alu(Op::CMPLT, {x, b.constant(0)}), b.constant(-inf), x});
    v = b.alu(Op::WHERE, {b.alu(Op::CMPLT, {b.constant(100), x}), b.constant(nan), v});
    const twin::Twin t = b.finish(b.alu(Op::ADD, {b.reduce(Op::RMAX, v, {1}), b.constant(inf)}));
    EXPECT_TRUE(runs_like_tinyref(t, plain())) << ch04::dtype_name(dtype) << ": -inf + inf is NaN in row 0, inf elsewhere";
  }
}

TEST(Task3Render, PaddedAndFlippedViewsReadOnlyInside) {
  // Padding reads nothing outside the buffer: on the emulator, a read of the padding would fault.
  twin::Builder b({6, 10}, ch04::DType::kFloat32);
  std::mt19937_64 rng(5);
  const twin::Node x = b.load({4, 7}, twin::quarters(rng, 28), [](auto st) { return st.flip({true, false}).pad({{1, 1}, {2, 1}}); });
  const twin::Twin t = b.finish(b.alu(Op::ADD, {x, b.constant(1, {{1, 1}, {1, 1}})}));
  EXPECT_TRUE(runs_like_tinyref(t, plain(4)));
}

TEST(Task3Render, RefusesAnOpThatIsNotElementwise) {
  std::mt19937_64 rng(6);
  const twin::Twin t = twin::matmul(rng, 4, 4, 4);
  ch08::GpuProgram g = ch08::lower_gpu(ch08::plan_gpu(t.kernel, plain()));
  for (ch06::UOp& u : g.program.uops) {
    if (u.kind == ch06::UOpKind::kAlu) u.op = Op::SUM;
  }
  EXPECT_THROW(ch08::render_cuda(g), std::invalid_argument) << "an ALU uop of SUM";
}

}  // namespace
