// Task ch05.4: the InterpretedRunner. Kernels are built by hand here (random trees over random
// views: permuted, flipped, shrunk, padded, broadcast and multi-view reads; random reduce axes;
// odd row lengths), never by your scheduler, and each runs on your interpreter and on the
// test's slow evaluator (kernel_oracle.h), element by element.
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>

#include "ch05/runner.h"
#include "gtest/gtest.h"
#include "tests/05_scheduling_fusion/kernel_oracle.h"
#include "tests/testing/testing.h"

namespace {

using ch04::DType;
using ch04::Op;
using ch04::Shape;
using ch04::ShapeTracker;
using ch05::Kernel;
using ch05::NodeRef;

int64_t numel(const Shape& s) { return ch04::prod(s); }

// A kernel under construction: its buffers (index 0, the output, is added by finish()).
struct Builder {
  DType dtype = DType::kFloat32;
  std::vector<std::shared_ptr<ch04::Buffer>> data;

  // A LOAD of a new buffer of `size` elements, filled with `values(i)`, read through st.
  template <typename F>
  NodeRef input(const ShapeTracker& st, int64_t size, F values) {
    auto b = std::make_shared<ch04::Buffer>(dtype, size);
    for (int64_t i = 0; i < size; ++i) b->set(i, values(i));
    data.push_back(b);
    return ch05::load(static_cast<int>(data.size()), dtype, st);
  }

  Kernel finish(NodeRef value, const Shape& full, const Shape& out) {
    Kernel k;
    k.shape = full;
    k.ast = ch05::store(std::move(value), ShapeTracker::contiguous(out));
    k.buffers.push_back(ch04::LazyBuffer::load(std::make_shared<ch04::Buffer>(dtype, numel(out)), {numel(out)}));
    for (const auto& b : data) k.buffers.push_back(ch04::LazyBuffer::load(b, {b->numel}));
    return k;
  }
};

// The output of k from the interpreter and from the oracle.
struct Outputs {
  std::vector<double> ours, expected;
};
Outputs run_both(const Kernel& k) {
  std::vector<ch04::Buffer*> bufs;
  for (const ch04::LazyRef& b : k.buffers) bufs.push_back(b->buffer().get());
  ch04::Buffer expected_out(k.ast->dtype, bufs[0]->numel);
  Outputs o;
  ch05::InterpretedRunner().run(k, bufs);
  for (int64_t i = 0; i < bufs[0]->numel; ++i) o.ours.push_back(bufs[0]->get(i));
  bufs[0] = &expected_out;
  oracle::run(k, bufs);
  for (int64_t i = 0; i < expected_out.numel; ++i) o.expected.push_back(expected_out.get(i));
  return o;
}

// Both evaluate in the kernel's dtype, rounding after every op, and reduce in the same order,
// so + - * / agree exactly; exp2, log2, sin (float against double library calls) may differ in
// the last bit, and that difference can grow through ~10 later ops and a sum of a few hundred
// terms: 1e-5 relative, 1e-6 absolute.
::testing::AssertionResult agree(const Kernel& k, const std::string& what) {
  const Outputs o = run_both(k);
  return testing_util::all_close(o.expected, o.ours, 1e-5, 1e-6, what + "\n" + ch05::to_string(k));
}

// --- random kernels

class RandomKernel {
 public:
  explicit RandomKernel(std::mt19937_64& rng) : rng_(rng) {}

  Kernel make(DType dtype = DType::kFloat32) {
    b_.dtype = dtype;
    b_.data.clear();
    // Full shape: 1 to 4 axes; the last one sometimes long (rows past any block size).
    const int nd = 1 + rng_() % 4;
    for (int d = 0; d < nd; ++d) full_.push_back(1 + rng_() % 5);
    if (rng_() % 3 == 0) full_.back() = 17 + rng_() % 300;
    out_ = full_;
    if (rng_() % 3 != 0) {  // a reduce over a random non-empty set of axes
      std::vector<int> axes;
      for (int d = 0; d < nd; ++d) {
        if (rng_() % 2) axes.push_back(d);
      }
      if (axes.empty()) axes.push_back(static_cast<int>(rng_() % nd));
      for (int a : axes) out_[a] = 1;
      NodeRef below = tree(full_, 3);
      NodeRef r = ch05::reduce(rng_() % 2 ? Op::SUM : Op::RMAX, below, axes);
      value_ = rng_() % 2 ? r : ch05::alu(binary(), {r, tree(out_, 1)});
    } else {
      value_ = tree(full_, 3);
    }
    return b_.finish(value_, full_, out_);
  }

 private:
  Op binary() {
    static const Op ops[] = {Op::ADD, Op::SUB, Op::MUL, Op::DIV, Op::MAX, Op::CMPLT, Op::CMPNE};
    return ops[rng_() % 7];
  }

  // A random view of `shape`, and the size of the buffer it reads.
  std::pair<ShapeTracker, int64_t> view(const Shape& shape, int depth) {
    const int choice = depth <= 0 ? 0 : static_cast<int>(rng_() % 7);
    const size_t nd = shape.size();
    switch (choice) {
      case 1: {  // permute
        std::vector<int> order(nd);
        for (size_t i = 0; i < nd; ++i) order[i] = static_cast<int>(i);
        std::shuffle(order.begin(), order.end(), rng_);
        Shape parent(nd);
        for (size_t i = 0; i < nd; ++i) parent[order[i]] = shape[i];
        auto [st, size] = view(parent, depth - 1);
        return {st.permute(order), size};
      }
      case 2: {  // flip
        std::vector<bool> axes(nd);
        for (size_t i = 0; i < nd; ++i) axes[i] = rng_() % 2;
        auto [st, size] = view(shape, depth - 1);
        return {st.flip(axes), size};
      }
      case 3: {  // shrink a larger parent
        Shape parent = shape;
        ch04::Pairs ranges;
        for (size_t i = 0; i < nd; ++i) {
          const int64_t extra = rng_() % 3, lo = extra ? rng_() % (extra + 1) : 0;
          parent[i] += extra;
          ranges.push_back({lo, lo + shape[i]});
        }
        auto [st, size] = view(parent, depth - 1);
        return {st.shrink(ranges), size};
      }
      case 4: {  // pad a smaller parent: padding reads 0
        Shape parent = shape;
        ch04::Pairs pads;
        for (size_t i = 0; i < nd; ++i) {
          const int64_t room = shape[i] - 1, before = room > 0 ? rng_() % (room + 1) : 0;
          const int64_t after = room - before > 0 ? rng_() % (room - before + 1) : 0;
          parent[i] -= before + after;
          pads.push_back({before, after});
        }
        auto [st, size] = view(parent, depth - 1);
        return {st.pad(pads), size};
      }
      case 5: {  // broadcast: some axes of size 1, expanded (stride 0)
        Shape parent = shape;
        for (size_t i = 0; i < nd; ++i) {
          if (rng_() % 2) parent[i] = 1;
        }
        auto [st, size] = view(parent, depth - 1);
        return {st.expand(shape), size};
      }
      case 6: {  // the same elements in another shape: often a second View
        Shape parent(shape.rbegin(), shape.rend());
        auto [st, size] = view(parent, depth - 1);
        return {st.reshape(shape), size};
      }
      default: return {ShapeTracker::contiguous(shape), numel(shape)};
    }
  }

  NodeRef leaf(const Shape& shape) {
    // A view of `shape`: below the reduce the full shape; above it the output shape, expanded
    // to the full shape (stride 0 along the reduced axes).
    auto [st, size] = view(shape, 3);
    if (shape != full_) st = st.expand(full_);
    if (rng_() % 5 == 0) {  // a constant, sometimes padded (0 outside)
      ShapeTracker c = ShapeTracker::contiguous({}).reshape(Shape(full_.size(), 1)).expand(full_);
      if (rng_() % 2) {
        ch04::Pairs pads(full_.size(), {0, 0});
        Shape inner = full_;
        const size_t d = rng_() % full_.size();
        if (full_[d] > 1) {
          pads[d] = {1, 0};
          inner[d] -= 1;
        }
        c = ShapeTracker::contiguous({}).reshape(Shape(full_.size(), 1)).expand(inner).pad(pads);
      }
      return ch05::constant(std::uniform_real_distribution<double>(-2, 2)(rng_), b_.dtype, c);
    }
    const bool positive = rng_() % 2;
    std::normal_distribution<double> normal(0, 1);
    return b_.input(st, size, [&](int64_t) { return positive ? 0.5 + std::abs(normal(rng_)) : normal(rng_); });
  }

  NodeRef tree(const Shape& shape, int depth) {
    if (depth <= 0 || rng_() % 4 == 0) return leaf(shape);
    static const Op unary[] = {Op::NEG, Op::EXP2, Op::LOG2, Op::SIN, Op::SQRT, Op::RECIP};
    switch (rng_() % 3) {
      case 0: return ch05::alu(unary[rng_() % 6], {tree(shape, depth - 1)});
      case 1: return ch05::alu(binary(), {tree(shape, depth - 1), tree(shape, depth - 1)});
      default: return ch05::alu(Op::WHERE, {tree(shape, depth - 1), tree(shape, depth - 1), tree(shape, depth - 1)});
    }
  }

  std::mt19937_64& rng_;
  Builder b_;
  Shape full_, out_;
  NodeRef value_;
};

TEST(Task4Interpreter, RandomKernelsAgreeWithTheOracle) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 60; ++trial) {
      SCOPED_TRACE("kernel " + std::to_string(trial));
      const Kernel k = RandomKernel(rng).make(trial % 5 == 4 ? DType::kFloat64 : DType::kFloat32);
      ASSERT_TRUE(agree(k, "random kernel"));
    }
  }
}

// out[i, j] = a[i, j] * b[i, j] + 1 for rows of many lengths: 1, a few, and past any block.
TEST(Task4Interpreter, RowsOfEveryLengthIncludingTails) {
  std::mt19937_64 rng(31);
  for (int64_t len : {1, 2, 3, 7, 8, 9, 31, 64, 127, 1000, 1025}) {
    SCOPED_TRACE("row length " + std::to_string(len));
    Builder b;
    std::normal_distribution<double> normal(0, 1);
    const Shape full = {3, len};
    NodeRef x = b.input(ShapeTracker::contiguous(full), 3 * len, [&](int64_t) { return normal(rng); });
    NodeRef y = b.input(ShapeTracker::contiguous({len, 3}).permute({1, 0}), 3 * len, [&](int64_t) { return normal(rng); });
    NodeRef one = ch05::constant(1, DType::kFloat32, ShapeTracker::contiguous({}).reshape({1, 1}).expand(full));
    EXPECT_TRUE(agree(b.finish(ch05::alu(Op::ADD, {ch05::alu(Op::MUL, {x, y}), one}), full, full), "a * b + 1"));
  }
}

// sum and max over the last axis, over the first, and over both, for odd sizes.
TEST(Task4Interpreter, ReducesOverEveryAxisCombination) {
  std::mt19937_64 rng(32);
  std::normal_distribution<double> normal(0, 1);
  for (const Shape& full : {Shape{5, 7}, Shape{1, 300}, Shape{33, 1}, Shape{4, 3, 9}}) {
    for (int mask = 1; mask < (1 << full.size()); ++mask) {
      std::vector<int> axes;
      Shape out = full;
      for (size_t d = 0; d < full.size(); ++d) {
        if (mask & (1 << d)) {
          axes.push_back(static_cast<int>(d));
          out[d] = 1;
        }
      }
      for (Op op : {Op::SUM, Op::RMAX}) {
        SCOPED_TRACE(std::string(ch04::op_name(op)) + " over mask " + std::to_string(mask) + " of " + ch04::shape_str(full));
        Builder b;
        NodeRef x = b.input(ShapeTracker::contiguous(full), numel(full), [&](int64_t) { return normal(rng); });
        EXPECT_TRUE(agree(b.finish(ch05::reduce(op, x, axes), full, out), "reduce"));
      }
    }
  }
}

TEST(Task4Interpreter, MaxOfNegativesIsNegativeAndSumsCountEachElementOnce) {
  Builder b;
  const Shape full = {2, 4};
  NodeRef x = b.input(ShapeTracker::contiguous(full), 8, [](int64_t i) { return -10.0 - static_cast<double>(i); });
  const Outputs mx = run_both(b.finish(ch05::reduce(Op::RMAX, x, {1}), full, {2, 1}));
  EXPECT_EQ(mx.ours, (std::vector<double>{-10, -14})) << "max of negative numbers: start from -inf, not 0";
  Builder c;
  NodeRef ones = c.input(ShapeTracker::contiguous(full), 8, [](int64_t) { return 1.0; });
  const Outputs s = run_both(c.finish(ch05::reduce(Op::SUM, ones, {0, 1}), full, {1, 1}));
  EXPECT_EQ(s.ours, std::vector<double>{8}) << "sum of eight ones: start from 0, add each element once";
}

TEST(Task4Interpreter, PaddingReadsZeroForLoadsAndConstants) {
  Builder b;
  // x (2, 3) padded to (4, 5): one row above and below, one column left and right.
  NodeRef x = b.input(ShapeTracker::contiguous({2, 3}).pad({{1, 1}, {1, 1}}), 6, [](int64_t i) { return i + 1.0; });
  NodeRef seven = ch05::constant(7, DType::kFloat32,
                                 ShapeTracker::contiguous({}).reshape({1, 1}).expand({2, 5}).pad({{2, 0}, {0, 0}}));
  const Outputs o = run_both(b.finish(ch05::alu(Op::ADD, {x, seven}), {4, 5}, {4, 5}));
  EXPECT_EQ(o.ours, (std::vector<double>{0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 7, 11, 12, 13, 7, 7, 7, 7, 7, 7}))
      << "a padded load reads 0 outside its mask, and so does a padded constant";
}

TEST(Task4Interpreter, NanAndInfinityPropagate) {
  Builder b;
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const std::vector<double> v = {1, nan, -inf, 4, inf, 6};
  NodeRef x = b.input(ShapeTracker::contiguous({2, 3}), 6, [&](int64_t i) { return v[i]; });
  EXPECT_TRUE(agree(b.finish(ch05::alu(Op::MUL, {x, x}), {2, 3}, {2, 3}), "x * x with nan and inf"));
  Builder c;
  NodeRef y = c.input(ShapeTracker::contiguous({2, 3}), 6, [&](int64_t i) { return v[i]; });
  const Outputs s = run_both(c.finish(ch05::reduce(Op::SUM, y, {1}), {2, 3}, {2, 1}));
  EXPECT_TRUE(std::isnan(s.ours[0])) << "1 + nan - inf is nan";
  EXPECT_TRUE(std::isinf(s.ours[1]) && s.ours[1] > 0) << "4 + inf + 6 is inf";
}

TEST(Task4Interpreter, EmptyReducesGiveTheIdentityAndEmptyOutputsNothing) {
  for (Op op : {Op::SUM, Op::RMAX}) {
    Builder b;
    NodeRef x = b.input(ShapeTracker::contiguous({3, 0}), 0, [](int64_t) { return 0.0; });
    const Outputs o = run_both(b.finish(ch05::reduce(op, x, {1}), {3, 0}, {3, 1}));
    const double identity = op == Op::SUM ? 0.0 : -std::numeric_limits<double>::infinity();
    EXPECT_EQ(o.ours, std::vector<double>(3, identity)) << ch04::op_name(op) << " of nothing";
  }
  Builder e;
  NodeRef x = e.input(ShapeTracker::contiguous({0, 4}), 0, [](int64_t) { return 0.0; });
  EXPECT_TRUE(run_both(e.finish(ch05::alu(Op::NEG, {x}), {0, 4}, {0, 4})).ours.empty());
}

TEST(Task4Interpreter, AScalarKernel) {
  Builder b;
  NodeRef x = b.input(ShapeTracker::contiguous({}), 1, [](int64_t) { return 3.0; });
  const Outputs o = run_both(b.finish(ch05::alu(Op::MUL, {x, x}), {}, {}));
  EXPECT_EQ(o.ours, std::vector<double>{9});
}

TEST(Task4Interpreter, LargeKernelsOnTheParallelPath) {
  std::mt19937_64 rng(33);
  std::normal_distribution<double> normal(0, 1);
  // Kernels this large (150000 elements and more) are shared among threads: a matmul-shaped
  // reduce, an elementwise kernel, a reduce over the first axis.
  Builder b;
  NodeRef x = b.input(ShapeTracker::contiguous({32, 1, 240}).expand({32, 20, 240}), 32 * 240, [&](int64_t) { return normal(rng); });
  NodeRef w = b.input(ShapeTracker::contiguous({240, 20}).permute({1, 0}).reshape({1, 20, 240}).expand({32, 20, 240}),
                      240 * 20, [&](int64_t) { return normal(rng); });
  EXPECT_TRUE(agree(b.finish(ch05::reduce(Op::SUM, ch05::alu(Op::MUL, {x, w}), {2}), {32, 20, 240}, {32, 20, 1}), "matmul"));
  Builder c;
  NodeRef y = c.input(ShapeTracker::contiguous({128, 1201}), 128 * 1201, [&](int64_t) { return normal(rng); });
  EXPECT_TRUE(agree(c.finish(ch05::alu(Op::SIN, {y}), {128, 1201}, {128, 1201}), "sin"));
  Builder s;
  NodeRef z = s.input(ShapeTracker::contiguous({300, 501}), 300 * 501, [&](int64_t) { return normal(rng); });
  EXPECT_TRUE(agree(s.finish(ch05::reduce(Op::RMAX, z, {0}), {300, 501}, {1, 501}), "max over the first axis"));
}

TEST(Task4Interpreter, MalformedKernelsAndBuffersAreClearErrors) {
  Builder b;
  NodeRef x = b.input(ShapeTracker::contiguous({2, 3}), 6, [](int64_t) { return 1.0; });
  Kernel k = b.finish(ch05::alu(Op::NEG, {x}), {2, 3}, {2, 3});
  std::vector<ch04::Buffer*> bufs;
  for (const ch04::LazyRef& r : k.buffers) bufs.push_back(r->buffer().get());
  ch05::InterpretedRunner runner;
  auto message = [&](const Kernel& kk, const std::vector<ch04::Buffer*>& bb) -> std::string {
    try {
      runner.run(kk, bb);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message(k, {bufs[0]}).find("E_2_3"), std::string::npos) << "one buffer missing: name the kernel";
  Kernel bad_index = k;
  bad_index.ast = ch05::store(ch05::alu(Op::NEG, {ch05::load(5, DType::kFloat32, ShapeTracker::contiguous({2, 3}))}),
                              ShapeTracker::contiguous({2, 3}));
  EXPECT_NE(message(bad_index, bufs), "(no error)") << "a LOAD of buffer 5 in a kernel of 2 buffers";
  Kernel outside = k;
  outside.ast = ch05::store(
      ch05::alu(Op::NEG, {ch05::load(1, DType::kFloat32, ShapeTracker::contiguous({3, 3}).shrink({{1, 3}, {0, 3}}))}),
      ShapeTracker::contiguous({2, 3}));
  EXPECT_NE(message(outside, bufs).find("reads positions"), std::string::npos)
      << "a view that reads positions 3..8 of a 6-element buffer";
  ch04::Buffer wrong(DType::kFloat64, 6);
  EXPECT_NE(message(k, {bufs[0], &wrong}).find("float64"), std::string::npos) << "a float64 buffer in a float32 kernel";
}

}  // namespace
