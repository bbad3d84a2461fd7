// Task 5: the Interpreter. Every op, on inputs read through random views (permuted, flipped,
// shrunk, expanded, padded, two Views deep), against tinyref (float64, INTERP) and, for
// reductions and movement, against plain loops; counters prove one kernel per op and no copy
// for a view.
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "ch04/lazy.h"
#include "ch04/realize.h"
#include "ch04/tensor.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/tinyref_oracle.h"
#include "tests/04_lazy_tensors/lazy_testing.h"
#include "tests/04_lazy_tensors/moves.h"
#include "tests/testing/testing.h"

namespace {

using ch04::DType;
using ch04::Tensor;
using dense::Dense;
using lazy_testing::Layout;

// float32: every input and every result rounded to 24 bits, sums of up to a few hundred terms.
constexpr double kRtol32 = 2e-5, kAtol32 = 2e-5;
constexpr double kTol64 = 1e-12;  // float64: the same arithmetic as tinyref's, up to the order of a sum

struct Operand {
  Layout layout;
  Dense buffer;
  Tensor ours(DType dtype) const { return lazy_testing::apply(layout.program, lazy_testing::to_ch04(buffer, dtype)); }
  tinyref::Tensor ref() const { return moves::apply(layout.program, tinyref_oracle::to_tinyref(buffer)); }
  Dense values() const { return moves::apply(layout.program, buffer); }
};

Operand random_operand(std::mt19937_64& rng, const dense::Shape& shape, double lo = -2, double hi = 2) {
  Operand o{lazy_testing::random_layout(rng, shape), {}};
  o.buffer = lazy_testing::random_values(rng, o.layout.buffer, lo, hi);
  return o;
}

dense::Shape random_shape(std::mt19937_64& rng, int max_ndim = 3, int64_t max_size = 6) {
  dense::Shape s(std::uniform_int_distribution<int>(1, max_ndim)(rng));
  for (int64_t& d : s) d = std::uniform_int_distribution<int64_t>(1, max_size)(rng);
  return s;
}

void expect_values(const Dense& want, const Tensor& got, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape) << what;
  const bool f32 = got.dtype() == DType::kFloat32;
  EXPECT_TRUE(testing_util::all_close(want.values, got.to_vector(), f32 ? kRtol32 : kTol64, f32 ? kAtol32 : kTol64,
                                      what + (f32 ? " (float32)" : " (float64)")));
}

const DType kDtypes[] = {DType::kFloat32, DType::kFloat64};

struct Unary {
  const char* name;
  double lo, hi;
  std::function<Tensor(const Tensor&)> ours;
  std::function<tinyref::Tensor(const tinyref::Tensor&)> ref;
};

TEST(Task5Interpreter, UnaryOpsMatchTinyref) {
  const std::vector<Unary> ops = {
      {"NEG", -3, 3, [](const Tensor& x) { return x.neg(); }, [](const tinyref::Tensor& x) { return x.neg(); }},
      {"EXP2", -3, 3, [](const Tensor& x) { return x.exp2(); }, [](const tinyref::Tensor& x) { return x.exp2(); }},
      {"LOG2", 0.1, 5, [](const Tensor& x) { return x.log2(); }, [](const tinyref::Tensor& x) { return x.log2(); }},
      {"SIN", -4, 4, [](const Tensor& x) { return x.sin(); }, [](const tinyref::Tensor& x) { return x.sin(); }},
      {"SQRT", 0, 5, [](const Tensor& x) { return x.sqrt(); }, [](const tinyref::Tensor& x) { return x.sqrt(); }},
      {"RECIP", 0.5, 3, [](const Tensor& x) { return x.reciprocal(); },
       [](const tinyref::Tensor& x) { return x.reciprocal(); }},
  };
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const Unary& op : ops) {
      for (DType dt : kDtypes) {
        const Operand x = random_operand(rng, random_shape(rng), op.lo, op.hi);
        expect_values(tinyref_oracle::from_tinyref(op.ref(x.ref())), op.ours(x.ours(dt)),
                      std::string(op.name) + " of x, " + x.layout.how());
      }
    }
  }
}

struct Binary {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> ours;
  std::function<tinyref::Tensor(const tinyref::Tensor&, const tinyref::Tensor&)> ref;
};

TEST(Task5Interpreter, BinaryAndTernaryOpsMatchTinyref) {
  using R = tinyref::Tensor;
  const std::vector<Binary> ops = {
      {"ADD", [](const Tensor& a, const Tensor& b) { return a + b; }, [](const R& a, const R& b) { return a + b; }},
      {"SUB", [](const Tensor& a, const Tensor& b) { return a - b; }, [](const R& a, const R& b) { return a - b; }},
      {"MUL", [](const Tensor& a, const Tensor& b) { return a * b; }, [](const R& a, const R& b) { return a * b; }},
      {"DIV", [](const Tensor& a, const Tensor& b) { return a / (b * b + 0.5); },
       [](const R& a, const R& b) { return a / (b * b + 0.5); }},
      {"MAX", [](const Tensor& a, const Tensor& b) { return a.maximum(b); },
       [](const R& a, const R& b) { return a.maximum(b); }},
      {"CMPLT", [](const Tensor& a, const Tensor& b) { return a.lt(b); }, [](const R& a, const R& b) { return a.lt(b); }},
      {"CMPNE", [](const Tensor& a, const Tensor& b) { return a.ne(a.maximum(b)); },  // equal where a >= b
       [](const R& a, const R& b) { return a.ne(a.maximum(b)); }},
      {"WHERE", [](const Tensor& a, const Tensor& b) { return a.lt(b).where(a * 3.0, b - 1.0); },
       [](const R& a, const R& b) { return a.lt(b).where(a * 3.0, b - 1.0); }},
  };
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const Binary& op : ops) {
      for (DType dt : kDtypes) {
        const dense::Shape shape = random_shape(rng);
        dense::Shape other = shape;  // broadcast: some axes of size 1, maybe fewer axes
        for (int64_t& d : other) d = rng() % 3 == 0 ? 1 : d;
        if (rng() % 2) other.erase(other.begin());
        const Operand a = random_operand(rng, shape), b = random_operand(rng, other);
        expect_values(tinyref_oracle::from_tinyref(op.ref(a.ref(), b.ref())), op.ours(a.ours(dt), b.ours(dt)),
                      std::string(op.name) + "\n  a: " + a.layout.how() + "\n  b: " + b.layout.how());
      }
    }
  }
}

TEST(Task5Interpreter, ReductionsMatchPlainLoopsAndTinyref) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 24; ++trial) {
      const dense::Shape shape = random_shape(rng, 4, 7);
      std::vector<int> axes;
      for (int a = 0; a < static_cast<int>(shape.size()); ++a) {
        if (rng() % 2) axes.push_back(a);
      }
      if (axes.empty()) axes.push_back(static_cast<int>(rng() % shape.size()));
      const bool is_sum = trial % 2 == 0;
      const DType dt = kDtypes[trial % 4 / 2];
      const Operand x = random_operand(rng, shape);
      const Tensor ours = is_sum ? x.ours(dt).sum(axes, true) : x.ours(dt).max(axes, true);
      const Dense loops = dense::reduce(x.values(), axes, true, is_sum ? dense::Reduce::kSum : dense::Reduce::kMax);
      const std::string what = std::string(is_sum ? "SUM" : "RMAX") + " over axes " +
                               dense::shape_str(dense::Shape(axes.begin(), axes.end())) + " of " + x.layout.how();
      expect_values(loops, ours, what);
      const tinyref::Tensor ref = is_sum ? x.ref().sum(axes, true) : x.ref().max(axes, true);
      EXPECT_TRUE(tinyref_oracle::agree(loops, tinyref_oracle::from_tinyref(ref), 1e-12, what));
    }
  }
}

TEST(Task5Interpreter, BigTensorsTakeTheParallelPath) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    // Past any per-op threshold for threads: 70000+ elements, odd sizes so rows do not divide evenly.
    const Operand a = random_operand(rng, {37, 61, 33}), b = random_operand(rng, {37, 1, 33});
    const Tensor prod = a.ours(DType::kFloat32) * b.ours(DType::kFloat32);
    const Dense want = dense::zip(a.values(), b.values(), std::multiplies<>());
    expect_values(want, prod, "a * b, (37, 61, 33)\n  a: " + a.layout.how() + "\n  b: " + b.layout.how());
    for (std::vector<int> axes : {std::vector<int>{0}, {1}, {2}, {0, 2}, {0, 1, 2}}) {
      expect_values(dense::reduce(want, axes, true, dense::Reduce::kSum), prod.sum(axes, true),
                    "sum of a * b over axes " + dense::shape_str(dense::Shape(axes.begin(), axes.end())));
      expect_values(dense::reduce(want, axes, true, dense::Reduce::kMax), prod.max(axes, true),
                    "max of a * b over axes " + dense::shape_str(dense::Shape(axes.begin(), axes.end())));
    }
  }
}

TEST(Task5Interpreter, PaddingReadsZero) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const Operand x = random_operand(rng, random_shape(rng));
    ch04::Pairs pads;
    for (size_t i = 0; i < x.values().shape.size(); ++i) pads.push_back({int64_t(rng() % 3), int64_t(rng() % 3)});
    const std::string what = "1 + pad" + ch04::pairs_str(pads) + " of " + x.layout.how();
    const Dense padded = moves::pad(x.values(), pads);
    expect_values(dense::map(padded, [](double v) { return v + 1; }), x.ours(DType::kFloat32).pad(pads) + 1.0, what);
    expect_values(dense::reduce(padded, {0}, true, dense::Reduce::kSum), x.ours(DType::kFloat64).pad(pads).sum({0}, true),
                  "sum over axis 0 of pad" + ch04::pairs_str(pads) + " of " + x.layout.how());
    // A padded constant: 2 inside, 0 in the padding.
    const Tensor c = Tensor::full({2, 3}, 2.0).pad({{1, 0}, {0, 2}});
    expect_values(Dense{{3, 5}, {0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 2, 2, 2, 0, 0}}, c * 1.0, "full((2, 3), 2).pad(((1, 0), (0, 2)))");
  }
}

TEST(Task5Interpreter, InputsReadThroughSeveralViews) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 10; ++trial) {
      const dense::Shape shape = random_shape(rng);
      const std::vector<moves::Move> program = moves::random_program(rng, shape, 6, 600);
      const Dense buffer = lazy_testing::random_values(rng, shape);
      const Tensor x = lazy_testing::apply(program, lazy_testing::to_ch04(buffer));
      const std::string what = "buffer " + dense::shape_str(shape) + ", " + moves::describe(program) + " (" +
                               std::to_string(x.lazy()->st().views.size()) + " views)";
      const Dense want = moves::apply(program, buffer);
      expect_values(dense::map(want, [](double v) { return 2 * v; }), x * 2.0, "x * 2 for x = " + what);
      if (want.shape.empty()) continue;
      expect_values(dense::reduce(want, {0}, true, dense::Reduce::kSum), x.sum({0}, true), "sum over axis 0 of " + what);
    }
  }
}

TEST(Task5Interpreter, OneKernelPerOpAndNoCopyForViews) {
  const Tensor a = Tensor::randn({16, 8}).realize(), b = Tensor::randn({8, 16}).realize();
  ch04::stats() = {};
  // PERMUTE, FLIP, RESHAPE, EXPAND: free. ADD, EXP2 and SUM: three kernels, three buffers.
  const Tensor y = (a.permute({1, 0}).flip({0}) + b).exp2().reshape({2, 4, 16}).sum({1});
  EXPECT_EQ(ch04::stats().kernels, 0) << "nothing runs before realize()";
  ch04::realize({y.lazy()});
  EXPECT_EQ(ch04::stats().kernels, 3) << "ADD, EXP2 and SUM, one kernel each; movement ops are free";
  EXPECT_EQ(ch04::stats().buffers, 3) << "one buffer per kernel: no movement op may copy";
  EXPECT_EQ(ch04::stats().bytes, 4 * (128 + 128 + 32)) << "float32 buffers of 128, 128 and 32 elements";
  ch04::realize({y.lazy()});
  EXPECT_EQ(ch04::stats().kernels, 3) << "realizing a realized node runs nothing";
}

TEST(Task5Interpreter, SharedWorkRunsOnce) {
  const Tensor x = Tensor::randn({5, 5}).realize();
  ch04::stats() = {};
  const Tensor e = x.exp2();
  const Tensor y = e * e + e.sum({0}, true);  // e is read three times
  ch04::realize({y.lazy()});
  EXPECT_EQ(ch04::stats().kernels, 4) << "EXP2, MUL, SUM and ADD: e is computed once";
  const Tensor z = x.exp2() + 1.0;  // hash-consed: the same EXP2 node as e, already realized
  ch04::realize({z.lazy()});
  EXPECT_EQ(ch04::stats().kernels, 5) << "only the new ADD runs";
}

TEST(Task5Interpreter, RealizeFreesWhatIsNoLongerNeeded) {
  const int64_t before = ch04::LazyBuffer::live_nodes();
  Tensor y;
  {
    Tensor x = Tensor::full({4, 4}, 1.0, DType::kFloat64).contiguous();
    for (int i = 0; i < 30; ++i) x = (x.transpose() * 2.0 - 1.0).flip({1});
    y = x;
  }
  const std::vector<double> v = y.to_vector();
  EXPECT_EQ(v[0], 1.0) << "1 * 2 - 1 = 1, thirty times";
  EXPECT_LE(ch04::LazyBuffer::live_nodes(), before + 2)
      << "after realize the 60 ops behind y must be freed: a realized base forgets its sources";
}

TEST(Task5Interpreter, ScalarsConstantsAndEmptyTensors) {
  EXPECT_EQ(Tensor::full({}, 3.5).to_vector(), std::vector<double>{3.5}) << "a constant realized on its own";
  EXPECT_EQ(Tensor::full({2, 2}, -1.0).to_vector(), (std::vector<double>{-1, -1, -1, -1}));
  EXPECT_EQ((Tensor::full({}, 2.0) * Tensor::full({}, 4.0)).item(), 8.0) << "0-d tensors";
  EXPECT_EQ(Tensor::from_vector({1, 2, 3}, {3}).sum().item(), 6.0) << "a sum to shape ()";
  const Tensor empty = Tensor::zeros({2, 0, 3}) + 1.0;
  EXPECT_EQ(empty.to_vector().size(), 0u);
  EXPECT_EQ(empty.sum({1}).to_vector(), (std::vector<double>(6, 0.0))) << "a sum over an axis of size 0 is 0";
  EXPECT_EQ(Tensor::from_vector({5}, {1, 1}).expand({3, 4}).sum().item(), 60.0) << "a sum of an expanded scalar";
}

TEST(Task5Interpreter, NaNAndInfinityPropagate) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const Tensor x = Tensor::from_vector({1, nan, 3, -inf}, {2, 2}, DType::kFloat64);
  const std::vector<double> s = x.sum({1}).to_vector();
  EXPECT_TRUE(std::isnan(s[0])) << "1 + NaN is NaN";
  EXPECT_EQ(s[1], -inf);
  EXPECT_EQ((Tensor::from_vector({0}, {1}).reciprocal()).item(), inf) << "1/0";
  EXPECT_EQ(Tensor::from_vector({200}, {1}).exp2().item(), inf) << "2^200 overflows float32";
}

// An engine that counts its calls and hands the work to the Interpreter.
class Counting : public ch04::Engine {
 public:
  std::string name() const override { return "Counting"; }
  void realize(const std::vector<ch04::LazyRef>& outs) override {
    ++calls;
    ch04::Interpreter().realize(outs);
  }
  int calls = 0;
};

TEST(Task5Interpreter, RealizeGoesThroughTheCurrentEngine) {
  auto counting = std::make_shared<Counting>();
  {
    ch04::ScopedEngine use(counting);
    EXPECT_EQ(ch04::engine().name(), "Counting");
    EXPECT_EQ((Tensor::from_vector({1, 2}, {2}) * 3.0).to_vector(), (std::vector<double>{3, 6}));
  }
  EXPECT_EQ(counting->calls, 1);
  EXPECT_EQ(ch04::engine().name(), "Interpreter") << "ScopedEngine restores the previous engine";
}

}  // namespace
