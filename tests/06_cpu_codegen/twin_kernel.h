// Kernels built twice: as chapter 5's tree (what chapter 6 compiles) and as tinyref's AST (the
// oracle, run by tinyref's interpreter), from the same random choices: the same full shape,
// the same views of the same buffers, the same ops.
//
//   std::mt19937_64 rng(seed);
//   twin::Twin t = twin::random_kernel(rng, {.reduce = true});
//   ch05::to_string(t.kernel)          // what failure messages print
//   std::vector<double> want = twin::expected(t);
//   EXPECT_TRUE(twin::agrees(t, want, got));
//
// Input values are multiples of 1/4 in [-2, 2] and the ops mostly exact (+ - * max and
// comparisons): sums in any order are then exact in float32, and a result that differs at all
// is wrong. exp2, sin, sqrt, log2 and 1/x appear only right above a leaf; their last-bit
// differences (and the reassociated sums of them) are what the tolerance allows.
//
// Header-only on purpose: it builds chapter 5 trees over chapter 4 views, so it is compiled
// inside each test with whichever chapters 4 and 5 that test links.
#ifndef TESTS_06_CPU_CODEGEN_TWIN_KERNEL_H_
#define TESTS_06_CPU_CODEGEN_TWIN_KERNEL_H_

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ch04/lazy.h"
#include "ch04/shapetracker.h"
#include "ch05/kernel.h"
#include "gtest/gtest.h"
#include "tests/06_cpu_codegen/guarded_memory.h"
#include "tests/06_cpu_codegen/tinyref_kernel.h"
#include "tests/testing/testing.h"
#include "tinyref/shape/shapetracker.h"

namespace twin {

using ch04::Op;
using ch04::Shape;

struct Twin {
  ch05::Kernel kernel;
  tinyref::AstRef ref;
  std::vector<ch04::DType> dtypes;                     // per buffer, the output first
  std::vector<std::vector<double>> inputs;             // buffers 1..
  std::vector<std::shared_ptr<ch04::Buffer>> memory;   // every buffer as chapter 4 holds it
  int64_t outputs = 0;
  int64_t reduce_size = 1;  // elements folded into each output
  bool exact = true;        // only + - * max, comparisons and where: every result exact
  std::string text() const { return ch05::to_string(kernel); }
};

// A node of both trees.
struct Node {
  ch05::NodeRef ours;
  tinyref::AstRef ref;
};

inline tinyref::DType ref_dtype(ch04::DType d) {
  return d == ch04::DType::kFloat32 ? tinyref::DType::kFloat32 : tinyref::DType::kFloat64;
}

inline tinyref::Op ref_op(Op op) {
  switch (op) {
    case Op::NEG: return tinyref::Op::NEG;
    case Op::EXP2: return tinyref::Op::EXP2;
    case Op::LOG2: return tinyref::Op::LOG2;
    case Op::SIN: return tinyref::Op::SIN;
    case Op::SQRT: return tinyref::Op::SQRT;
    case Op::RECIP: return tinyref::Op::RECIP;
    case Op::ADD: return tinyref::Op::ADD;
    case Op::SUB: return tinyref::Op::SUB;
    case Op::MUL: return tinyref::Op::MUL;
    case Op::DIV: return tinyref::Op::DIV;
    case Op::MAX: return tinyref::Op::MAX;
    case Op::CMPLT: return tinyref::Op::CMPLT;
    case Op::CMPNE: return tinyref::Op::CMPNE;
    case Op::WHERE: return tinyref::Op::WHERE;
    case Op::SUM: return tinyref::Op::SUM;
    case Op::RMAX: return tinyref::Op::RMAX;
    default: return tinyref::Op::ADD;
  }
}

inline tinyref::AstRef ref_node(tinyref::Op op, tinyref::DType dt, std::vector<tinyref::AstRef> src) {
  auto n = std::make_shared<tinyref::AstNode>();
  n->op = op;
  n->dtype = dt;
  n->src = std::move(src);
  return n;
}

// Builds one kernel's two trees over one full shape.
class Builder {
 public:
  Builder(Shape full, ch04::DType dtype) : full_(std::move(full)), dtype_(dtype) {
    t_.dtypes.push_back(dtype);
  }

  const Shape& full() const { return full_; }

  // A LOAD of a new buffer holding `data`, read through `view` (applied to both trackers,
  // starting from the contiguous `buffer_shape`); view must end at the full shape.
  template <typename View>
  Node load(const Shape& buffer_shape, const std::vector<double>& data, const View& view) {
    const int b = static_cast<int>(t_.dtypes.size());
    t_.dtypes.push_back(dtype_);
    t_.inputs.push_back(data);
    ch04::ShapeTracker st = view(ch04::ShapeTracker::contiguous(buffer_shape));
    tinyref::ShapeTracker rst = view(tinyref::ShapeTracker::from_shape(buffer_shape));
    auto r = std::make_shared<tinyref::AstNode>();
    r->op = tinyref::Op::BUFFER;
    r->dtype = ref_dtype(dtype_);
    r->buf = b;
    r->st = rst;
    return {ch05::load(b, dtype_, st), r};
  }
  // The same, through a ShapeTracker given view by view (for windows no movement op makes).
  Node load_views(const std::vector<double>& data, const std::vector<ch04::View>& views,
                  const std::vector<tinyref::View>& ref_views) {
    return load({static_cast<int64_t>(data.size())}, data, [&](auto st) {
      using ST = decltype(st);
      if constexpr (std::is_same_v<ST, ch04::ShapeTracker>) {
        return ch04::ShapeTracker{views};
      } else {
        return tinyref::ShapeTracker{ref_views};
      }
    });
  }
  // A constant over the full shape; with `pad`, a smaller constant padded with zeros.
  Node constant(double v, const ch04::Pairs& pad = {}) {
    Shape inner = full_;
    for (size_t d = 0; d < pad.size(); ++d) inner[d] -= pad[d].first + pad[d].second;
    const Shape ones(full_.size(), 1);
    auto view = [&](auto st) {
      st = st.reshape(ones).expand(inner);
      return pad.empty() ? st : st.pad(pad);
    };
    auto r = std::make_shared<tinyref::AstNode>();
    r->op = tinyref::Op::CONST;
    r->dtype = ref_dtype(dtype_);
    r->value = v;
    r->st = view(tinyref::ShapeTracker::from_shape({}));
    return {ch05::constant(v, dtype_, view(ch04::ShapeTracker::contiguous({}))), r};
  }
  // An elementwise op: comparisons are 0/1 floats in chapter 4, bools cast to float in tinyref.
  Node alu(Op op, const std::vector<Node>& src) {
    if (op == Op::EXP2 || op == Op::LOG2 || op == Op::SIN || op == Op::SQRT || op == Op::RECIP || op == Op::DIV) {
      t_.exact = false;
    }
    std::vector<ch05::NodeRef> ours;
    std::vector<tinyref::AstRef> refs;
    for (const Node& s : src) {
      ours.push_back(s.ours);
      refs.push_back(s.ref);
    }
    tinyref::AstRef r;
    if (op == Op::CMPLT || op == Op::CMPNE) {
      r = ref_node(tinyref::Op::CAST, ref_dtype(dtype_), {ref_node(ref_op(op), tinyref::DType::kBool, refs)});
    } else {
      r = ref_node(ref_op(op), ref_dtype(dtype_), refs);
    }
    return {ch05::alu(op, ours), r};
  }
  Node reduce(Op op, const Node& src, const std::vector<int>& axes) {
    auto r = ref_node(ref_op(op), ref_dtype(dtype_), {src.ref});
    std::const_pointer_cast<tinyref::AstNode>(r)->axes = axes;
    t_.reduce_size = 1;
    for (int a : axes) t_.reduce_size *= full_[a];
    reduced_ = axes;
    return {ch05::reduce(op, src.ours, axes), r};
  }

  Twin finish(const Node& root) {
    Shape out = full_;
    for (int a : reduced_) out[a] = 1;
    t_.outputs = ch04::prod(out);
    auto store = std::make_shared<tinyref::AstNode>();
    store->op = tinyref::Op::STORE;
    store->dtype = ref_dtype(dtype_);
    store->src = {root.ref};
    store->buf = 0;
    store->st = tinyref::ShapeTracker::from_shape(out);
    t_.ref = store;
    t_.kernel.ast = ch05::store(root.ours, ch04::ShapeTracker::contiguous(out));
    t_.kernel.shape = full_;
    t_.memory.push_back(std::make_shared<ch04::Buffer>(dtype_, t_.outputs));
    for (const std::vector<double>& in : t_.inputs) {
      auto buf = std::make_shared<ch04::Buffer>(dtype_, static_cast<int64_t>(in.size()));
      for (size_t j = 0; j < in.size(); ++j) buf->set(static_cast<int64_t>(j), in[j]);
      t_.memory.push_back(buf);
    }
    for (const auto& buf : t_.memory) t_.kernel.buffers.push_back(ch04::LazyBuffer::load(buf, {buf->numel}));
    return std::move(t_);
  }

 private:
  Shape full_;
  ch04::DType dtype_;
  std::vector<int> reduced_;
  Twin t_;
};

// n values, multiples of 1/4 in [-2, 2] (or in [lo, hi] when given).
inline std::vector<double> quarters(std::mt19937_64& rng, int64_t n, int lo = -8, int hi = 8) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = (lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1))) / 4.0;
  return v;
}

struct Options {
  bool reduce = false;
  int max_dims = 4;
  int64_t max_elements = 4096;
  int64_t max_reduce = 1024;
  bool float64 = false;      // else float32 (and, now and then, float64)
  bool inexact = true;       // exp2, sin, sqrt, log2, 1/x right above leaves
  bool pad = true;           // padded loads and constants
  std::vector<int64_t> extents = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 24, 32};
};

// A LOAD of a new random buffer read through a random view of the full shape: permuted, flipped,
// shrunk, padded, expanded (always along `broadcast`), and now and then reshaped and back (a
// second View, read through div and mod).
inline Node random_load(Builder& b, std::mt19937_64& rng, const std::set<int>& broadcast, bool pad) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const Shape& full = b.full();
  const size_t nd = full.size();
  Shape base(nd);
  ch04::Pairs pads(nd, {0, 0}), shrinks(nd);
  std::vector<bool> flips(nd, false);
  for (size_t d = 0; d < nd; ++d) {
    base[d] = full[d];
    if (full[d] == 1 || broadcast.count(static_cast<int>(d)) || pick(6) == 0) {
      base[d] = 1;
    } else if (pad && pick(4) == 0 && full[d] >= 2) {
      const int64_t lo = pick(3), hi = pick(3);
      if (lo + hi < full[d]) {
        pads[d] = {lo, hi};
        base[d] = full[d] - lo - hi;
      }
    } else if (pick(4) == 0) {
      const int64_t lo = pick(3), extra = pick(3);
      base[d] = full[d] + lo + extra;
      shrinks[d] = {lo, lo + full[d]};
    }
    if (shrinks[d].second == 0) shrinks[d] = {0, base[d]};
    flips[d] = base[d] > 1 && pick(4) == 0;
  }
  std::vector<int> perm(nd);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<int> back(nd);
  Shape buffer_shape(nd);
  for (size_t i = 0; i < nd; ++i) {
    buffer_shape[i] = base[perm[i]];
    back[perm[i]] = static_cast<int>(i);
  }
  Shape after_pad = full;
  for (size_t d = 0; d < nd; ++d) {
    if (base[d] == 1) after_pad[d] = 1;
  }
  const bool roundtrip = nd >= 2 && pick(3) == 0;
  const size_t m = nd >= 2 ? static_cast<size_t>(pick(static_cast<int>(nd) - 1)) : 0;
  auto view = [&](auto st) {
    st = st.permute(back).flip(flips).shrink(shrinks).pad(pads).expand(full);
    if (roundtrip) {
      Shape merged = full;
      merged[m] *= merged[m + 1];
      merged.erase(merged.begin() + static_cast<long>(m) + 1);
      st = st.reshape(merged).reshape(full);
    }
    return st;
  };
  return b.load(buffer_shape, quarters(rng, ch04::prod(buffer_shape)), view);
}

inline Node random_leaf(Builder& b, std::mt19937_64& rng, const std::set<int>& broadcast, const Options& o) {
  if (rng() % 5 != 0) return random_load(b, rng, broadcast, o.pad);
  const double v = static_cast<double>(static_cast<int>(rng() % 17) - 8) / 4;
  if (!o.pad || rng() % 2 == 0 || !broadcast.empty()) return b.constant(v);
  ch04::Pairs pad;
  for (int64_t e : b.full()) pad.push_back(e >= 3 ? std::pair<int64_t, int64_t>{1, 1} : std::pair<int64_t, int64_t>{0, 0});
  return b.constant(v, pad);
}

// A tree of `depth` levels of ops over random leaves.
inline Node random_tree(Builder& b, std::mt19937_64& rng, int depth, const std::set<int>& broadcast, const Options& o) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  if (depth == 0 || pick(4) == 0) {
    Node leaf = random_leaf(b, rng, broadcast, o);
    if (!o.inexact || pick(4) != 0) return leaf;
    const Node one = b.constant(1);
    const Node positive = b.alu(Op::ADD, {b.alu(Op::MUL, {leaf, leaf}), one});  // x*x + 1 >= 1
    switch (pick(6)) {
      case 0: return b.alu(Op::EXP2, {leaf});
      case 1: return b.alu(Op::SIN, {leaf});
      case 2: return b.alu(Op::SQRT, {positive});
      case 3: return b.alu(Op::LOG2, {positive});
      case 4: return b.alu(Op::RECIP, {positive});
      default: return b.alu(Op::DIV, {random_leaf(b, rng, broadcast, o), positive});
    }
  }
  auto sub = [&] { return random_tree(b, rng, depth - 1, broadcast, o); };
  static const Op binary[] = {Op::ADD, Op::SUB, Op::MUL, Op::MAX, Op::CMPLT, Op::CMPNE};
  switch (pick(9)) {
    case 0: return b.alu(Op::NEG, {sub()});
    case 1: return b.alu(Op::WHERE, {sub(), sub(), sub()});
    default: return b.alu(binary[pick(6)], {sub(), sub()});
  }
}

// A random kernel: 1 to max_dims dimensions of the given extents, an elementwise tree, and
// (with o.reduce) a SUM or RMAX over some axes followed, now and then, by an op with a load
// that is broadcast along the reduced axes.
inline Twin random_kernel(std::mt19937_64& rng, const Options& o = {}) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Shape full;
  std::vector<int> axes;
  while (true) {
    full.assign(1 + pick(o.max_dims), 1);
    for (int64_t& e : full) e = o.extents[pick(static_cast<int>(o.extents.size()))];
    axes.clear();
    int64_t reduce = 1;
    for (size_t d = 0; o.reduce && d < full.size(); ++d) {
      if (pick(2) == 0) {
        axes.push_back(static_cast<int>(d));
        reduce *= full[d];
      }
    }
    if (o.reduce && axes.empty()) {
      axes.push_back(pick(static_cast<int>(full.size())));
      reduce = full[axes[0]];
    }
    if (ch04::prod(full) <= o.max_elements && reduce <= o.max_reduce) break;
  }
  const ch04::DType dtype = o.float64 || pick(5) == 0 ? ch04::DType::kFloat64 : ch04::DType::kFloat32;
  Builder b(full, dtype);
  Node root = random_tree(b, rng, 2, {}, o);
  if (o.reduce) {
    root = b.reduce(pick(2) == 0 ? Op::SUM : Op::RMAX, root, axes);
    if (pick(2) == 0) {
      static const Op after[] = {Op::ADD, Op::MUL, Op::MAX, Op::CMPLT, Op::SUB};
      const std::set<int> reduced(axes.begin(), axes.end());
      root = b.alu(after[pick(5)], {root, random_leaf(b, rng, reduced, o)});
    }
  }
  return b.finish(root);
}

// relu(x @ w + b): x (m, k), w (k, n), b (n,); full shape (m, n, k).
inline Twin matmul(std::mt19937_64& rng, int64_t m, int64_t n, int64_t k, bool bias_relu = false) {
  Builder b({m, n, k}, ch04::DType::kFloat32);
  const Node x = b.load({m, k}, quarters(rng, m * k), [&](auto st) { return st.reshape({m, 1, k}).expand({m, n, k}); });
  const Node w = b.load({k, n}, quarters(rng, k * n),
                        [&](auto st) { return st.permute({1, 0}).reshape({1, n, k}).expand({m, n, k}); });
  Node root = b.reduce(Op::SUM, b.alu(Op::MUL, {x, w}), {2});
  if (bias_relu) {
    const Node bias = b.load({n}, quarters(rng, n), [&](auto st) { return st.reshape({1, n, 1}).expand({m, n, k}); });
    root = b.alu(Op::MAX, {b.alu(Op::ADD, {root, bias}), b.constant(0)});
  }
  return b.finish(root);
}

// A convolution as one reduce: x (batch, cin, h, w) padded by `pad`, weights (cout, cin, kh, kw);
// full shape (batch, cout, oh, ow, cin, kh, kw). The windows are a second View over the padded
// input (no single movement op makes overlapping windows).
inline Twin conv2d(std::mt19937_64& rng, int64_t batch, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t kh,
                   int64_t kw, int64_t pad) {
  const int64_t hp = h + 2 * pad, wp = w + 2 * pad, oh = hp - kh + 1, ow = wp - kw + 1;
  const Shape full = {batch, cout, oh, ow, cin, kh, kw};
  Builder b(full, ch04::DType::kFloat32);
  const ch04::Pairs padding = {{0, 0}, {0, 0}, {pad, pad}, {pad, pad}};
  const Shape window_strides = {cin * hp * wp, 0, wp, 1, hp * wp, wp, 1};
  const ch04::ShapeTracker padded = ch04::ShapeTracker::contiguous({batch, cin, h, w}).pad(padding);
  const tinyref::ShapeTracker ref_padded = tinyref::ShapeTracker::from_shape({batch, cin, h, w}).pad(padding);
  std::vector<ch04::View> views = padded.views;
  std::vector<tinyref::View> ref_views = ref_padded.views;
  views.push_back(ch04::View::make(full, window_strides));
  ref_views.push_back(tinyref::View::create(full, window_strides));
  const Node x = b.load_views(quarters(rng, batch * cin * h * w), views, ref_views);
  const Node wt = b.load({cout, cin, kh, kw}, quarters(rng, cout * cin * kh * kw), [&](auto st) {
    return st.permute({0, 1, 2, 3}).reshape({1, cout, 1, 1, cin, kh, kw}).expand(full);
  });
  return b.finish(b.reduce(Op::SUM, b.alu(Op::MUL, {x, wt}), {4, 5, 6}));
}

// tinyref's output for the kernel.
inline std::vector<double> expected(const Twin& t) {
  std::vector<tinyref::DType> dts;
  for (ch04::DType d : t.dtypes) dts.push_back(ref_dtype(d));
  return tinyref_kernel::run(t.ref, dts, t.inputs, t.outputs);
}

// Runs a compiled kernel on the twin's inputs in guarded memory (guarded_memory.h).
inline ::testing::AssertionResult run_guarded(guarded_memory::KernelFunction f, const Twin& t, std::vector<double>* out) {
  std::vector<std::vector<double>> bufs = {std::vector<double>(static_cast<size_t>(t.outputs))};
  bufs.insert(bufs.end(), t.inputs.begin(), t.inputs.end());
  std::vector<bool> is_double;
  for (ch04::DType d : t.dtypes) is_double.push_back(d == ch04::DType::kFloat64);
  const std::string error = guarded_memory::run(f, is_double, bufs);
  if (!error.empty()) return ::testing::AssertionFailure() << error << "\nkernel:\n" << t.text();
  *out = bufs[0];
  return ::testing::AssertionSuccess();
}

// got equals tinyref's result: exactly when the kernel uses exact ops only (quarters added and
// multiplied stay exact in any order), else within the last bits of the transcendental ops:
// rtol is 16 float ulps (libm's exp2f and a compiler's may differ by one or two), and atol
// grows with the number of such terms a reduce adds up in another order than tinyref.
inline ::testing::AssertionResult agrees(const Twin& t, const std::vector<double>& want, const std::vector<double>& got,
                                         const std::string& what = "kernel") {
  const bool f64 = t.dtypes[0] == ch04::DType::kFloat64;
  const double rtol = t.exact ? 0 : f64 ? 1e-12 : 2e-6;
  const double atol = t.exact ? 0 : (f64 ? 1e-13 : 1e-6) * 16 * static_cast<double>(t.reduce_size);
  ::testing::AssertionResult r = testing_util::all_close(want, got, rtol, atol, what);
  if (!r) r << "\n" << t.text();
  return r;
}

}  // namespace twin

#endif  // TESTS_06_CPU_CODEGEN_TWIN_KERNEL_H_
