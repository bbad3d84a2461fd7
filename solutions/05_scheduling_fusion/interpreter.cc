// The InterpretedRunner: a kernel's tree evaluated a row at a time.
//
// The full shape (d0, ..., dn-1) is walked as rows of its last axis. For every output row (a
// position of the outer axes that are not reduced), the nodes below the reduce are evaluated
// over full rows, once per position of the reduced outer axes, and combined into an
// accumulator row; then the nodes above the reduce run over that one row and the STORE writes
// it. A kernel without a reduce is the same walk with nothing below.
//
//   sum over k of x[i, k] * w[k, j], full shape (8, 4, 16), reduced axis 2 (the last):
//     32 output rows (i, j), each: LOAD 16 x's, LOAD 16 w's, MUL them, add the 16 up
//   sum over i of g[i, j], full shape (64, 10), reduced axis 0 (not the last):
//     1 output row of 10: 64 times LOAD a row of g and add it into the accumulator row
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "ch05/runner.h"

namespace ch05 {

using ch04::Op;
using ch04::Shape;
using ch04::ShapeTracker;
using ch04::View;

namespace {

// Where one row of a ShapeTracker lies, for outer coordinates fixed: lane i (the last
// coordinate) is valid for lo <= i < hi and sits at base + i * stride. Only a single View
// reads a row this way; several Views go through ShapeTracker::index lane by lane.
struct RowPlace {
  bool simple = false;
  int64_t base = 0, stride = 0, lo = 0, hi = 0;
};

RowPlace place_row(const ShapeTracker& st, const Shape& coords, int64_t len) {
  RowPlace r;
  if (st.views.size() != 1) return r;
  const View& v = st.views[0];
  const size_t n = v.ndim();
  r.simple = true;
  r.base = v.offset;
  r.hi = len;
  for (size_t d = 0; d + 1 < n; ++d) {
    r.base += coords[d] * v.strides[d];
    if (v.mask && (coords[d] < (*v.mask)[d].first || coords[d] >= (*v.mask)[d].second)) r.hi = 0;
  }
  if (n > 0) {
    r.stride = v.strides[n - 1];
    if (v.mask) {
      r.lo = std::min((*v.mask)[n - 1].first, len);
      r.hi = std::min(r.hi, (*v.mask)[n - 1].second);
    }
  }
  r.hi = std::max(r.hi, r.lo);
  return r;
}

// Row-major indices into `shape` of every valid position of v lie in [0, size): checked once
// per kernel, so that no row can read outside its buffer.
void check_bounds(const View& v, int64_t size, const std::string& what) {
  int64_t lo = v.offset, hi = v.offset;
  for (size_t d = 0; d < v.ndim(); ++d) {
    const int64_t first = v.mask ? (*v.mask)[d].first : 0, last = (v.mask ? (*v.mask)[d].second : v.shape[d]) - 1;
    if (last < first) return;  // nothing valid
    lo += std::min(first * v.strides[d], last * v.strides[d]);
    hi += std::max(first * v.strides[d], last * v.strides[d]);
  }
  if (lo < 0 || hi >= size) {
    throw std::invalid_argument(what + " reads positions " + std::to_string(lo) + ".." + std::to_string(hi) +
                                " of " + std::to_string(size) + " (" + v.str() + ")");
  }
}

void check_st(const ShapeTracker& st, int64_t numel, const std::string& what) {
  int64_t size = numel;
  for (const View& v : st.views) {
    check_bounds(v, size, what);
    size = v.numel();
  }
}

// out[i] = f(a[i], b[i], c[i]) for a row: one loop per op. `omp simd` tells the compiler that
// the lanes are independent (out never overlaps an input), so it vectorizes it.
template <typename T, typename F>
void each(int64_t len, T* out, const T* a, const T* b, const T* c, F f) {
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) out[i] = f(a[i], b[i], c[i]);
}

template <typename T>
void alu_row(Op op, int64_t len, T* out, const T* a, const T* b, const T* c) {
  switch (op) {
    case Op::NEG: return each(len, out, a, b, c, [](T x, T, T) { return -x; });
    case Op::EXP2: return each(len, out, a, b, c, [](T x, T, T) { return std::exp2(x); });
    case Op::LOG2: return each(len, out, a, b, c, [](T x, T, T) { return std::log2(x); });
    case Op::SIN: return each(len, out, a, b, c, [](T x, T, T) { return std::sin(x); });
    case Op::SQRT: return each(len, out, a, b, c, [](T x, T, T) { return std::sqrt(x); });
    case Op::RECIP: return each(len, out, a, b, c, [](T x, T, T) { return T(1) / x; });
    case Op::ADD: return each(len, out, a, b, c, [](T x, T y, T) { return x + y; });
    case Op::SUB: return each(len, out, a, b, c, [](T x, T y, T) { return x - y; });
    case Op::MUL: return each(len, out, a, b, c, [](T x, T y, T) { return x * y; });
    case Op::DIV: return each(len, out, a, b, c, [](T x, T y, T) { return x / y; });
    case Op::MAX: return each(len, out, a, b, c, [](T x, T y, T) { return x > y ? x : y; });
    case Op::CMPLT: return each(len, out, a, b, c, [](T x, T y, T) { return x < y ? T(1) : T(0); });
    case Op::CMPNE: return each(len, out, a, b, c, [](T x, T y, T) { return x != y ? T(1) : T(0); });
    case Op::WHERE: return each(len, out, a, b, c, [](T x, T y, T z) { return x != T(0) ? y : z; });
    default: return;  // verify() admits only the ops above
  }
}

// One node of the tree in evaluation order. A node below the reduce is evaluated over full
// rows, one above over output rows.
struct Step {
  const KernelNode* node;
  std::vector<int> src;  // indices of earlier steps
  bool below;
};

class Plan {
 public:
  explicit Plan(const Kernel& k) {
    root_ = add(k.ast->src[0].get(), false);
  }
  const std::vector<Step>& steps() const { return steps_; }
  int root() const { return root_; }

 private:
  int add(const KernelNode* n, bool below) {
    if (auto it = index_.find({n, below}); it != index_.end()) return it->second;
    Step s{n, {}, below};
    const bool below_src = below || n->kind == NodeKind::kReduce;
    for (const NodeRef& src : n->src) s.src.push_back(add(src.get(), below_src));
    steps_.push_back(std::move(s));
    return index_[{n, below}] = static_cast<int>(steps_.size()) - 1;
  }
  std::vector<Step> steps_;
  std::map<std::pair<const KernelNode*, bool>, int> index_;
  int root_ = 0;
};

template <typename T>
class RowEvaluator {
 public:
  RowEvaluator(const Kernel& k, const Plan& plan, const std::vector<ch04::Buffer*>& bufs)
      : k_(k), plan_(plan), out_(bufs[0]->data<T>()) {
    for (ch04::Buffer* b : bufs) data_.push_back(b->data<T>());
    const Shape& full = k.shape;
    n_ = full.size();
    row_ = n_ > 0 ? full[n_ - 1] : 1;
    std::vector<bool> reduced(n_, false);
    for (size_t i = 0; i < plan.steps().size(); ++i) {
      const KernelNode& node = *plan.steps()[i].node;
      if (node.kind != NodeKind::kReduce) continue;
      reduce_step_ = static_cast<int>(i);
      op_ = node.op;
      for (int ax : node.axes) reduced[ax] = true;
    }
    if (reduce_step_ >= 0) {
      // The reduce of a product (a matmul) multiplies as it folds: the MUL's row is never
      // written, if nothing else reads it.
      const int value = plan.steps()[reduce_step_].src[0];
      int readers = 0;
      for (const Step& st : plan.steps()) readers += static_cast<int>(std::count(st.src.begin(), st.src.end(), value));
      const KernelNode& v = *plan.steps()[value].node;
      terms_ = {value, value};
      if (v.kind == NodeKind::kAlu && v.op == Op::MUL && readers == 1) {
        product_ = value;
        terms_ = {plan.steps()[value].src[0], plan.steps()[value].src[1]};
      }
    }
    last_reduced_ = n_ > 0 && reduced[n_ - 1];
    out_row_ = last_reduced_ ? 1 : row_;
    for (size_t d = 0; d + 1 < n_; ++d) (reduced[d] ? sum_axes_ : out_axes_).push_back(d);
  }

  int64_t rows() const {
    int64_t n = 1;
    for (size_t d : out_axes_) n *= k_.shape[d];
    return n;
  }

  // Per thread: a scratch row per step, and where each step's current row is: its scratch
  // row, or (a load that lies contiguously in its buffer) the buffer itself.
  struct Scratch {
    std::vector<std::vector<T>> rows;
    std::vector<const T*> at;
    Shape coords;
  };
  Scratch scratch() const {
    Scratch s;
    for (const Step& st : plan_.steps()) s.rows.emplace_back(st.below ? row_ : out_row_);
    for (std::vector<T>& r : s.rows) s.at.push_back(r.data());
    s.coords.assign(n_, 0);
    return s;
  }

  // Output rows [first, first + n), n <= kGroup, one scratch each. A reduce along the row folds
  // each row into one number: a chain of dependent additions, as slow as the adder's latency.
  // The n rows' chains run side by side (each still adds its own row in order).
  static constexpr int kGroup = 8;
  void run_rows(int64_t first, int n, std::vector<Scratch>& s) const {
    for (int g = 0; g < n; ++g) place_output_row(first + g, s[g]);
    if (reduce_step_ >= 0) reduce_into(s, n);
    for (int g = 0; g < n; ++g) {
      evaluate(s[g], false, out_row_);
      // The STORE: the output row, written through the store's ShapeTracker.
      const T* value = s[g].at[plan_.root()];
      const RowPlace p = place_row(k_.ast->st, s[g].coords, out_row_);
      for (int64_t i = 0; i < out_row_; ++i) out_[p.base + i * p.stride] = value[i];
    }
  }

 private:
  // The outer coordinates of output row `row`; the reduced ones start at 0.
  void place_output_row(int64_t row, Scratch& s) const {
    std::fill(s.coords.begin(), s.coords.end(), 0);
    for (size_t i = out_axes_.size(); i-- > 0;) {
      const int64_t extent = k_.shape[out_axes_[i]];
      s.coords[out_axes_[i]] = row % extent;
      row /= extent;
    }
  }

  // Fills the reduce's step of each of the n rows with the reduction over every position of
  // the reduced axes.
  void reduce_into(std::vector<Scratch>& s, int n) const {
    const T start = op_ == Op::SUM ? T(0) : -std::numeric_limits<T>::infinity();
    for (int g = 0; g < n; ++g) std::fill(s[g].rows[reduce_step_].begin(), s[g].rows[reduce_step_].end(), start);
    int64_t combos = 1;
    for (size_t d : sum_axes_) combos *= k_.shape[d];
    for (int64_t c = 0; c < combos; ++c) {
      for (int g = 0; g < n; ++g) {
        int64_t rest = c;
        for (size_t i = sum_axes_.size(); i-- > 0;) {
          s[g].coords[sum_axes_[i]] = rest % k_.shape[sum_axes_[i]];
          rest /= k_.shape[sum_axes_[i]];
        }
        evaluate(s[g], true, row_);
      }
      auto sum = [](T a, T v) { return a + v; };
      auto max = [](T a, T v) { return a > v ? a : v; };
      if (product_ >= 0) {
        op_ == Op::SUM ? fold<true>(s, n, sum) : fold<true>(s, n, max);
      } else {
        op_ == Op::SUM ? fold<false>(s, n, sum) : fold<false>(s, n, max);
      }
    }
    for (int g = 0; g < n; ++g) {
      for (size_t d : sum_axes_) s[g].coords[d] = 0;  // above the reduce they read position 0
    }
  }

  // acc = combine(acc, value) for this position of the reduced axes, in every row; the value is
  // the product a[i] * b[i] of the MUL's two source rows when the product is fused in.
  template <bool kProduct, typename F>
  void fold(std::vector<Scratch>& s, int n, F combine) const {
    auto value = [](const T* a, const T* b, int64_t i) { return kProduct ? a[i] * b[i] : a[i]; };
    if (!last_reduced_) {  // lane by lane: independent, and the compiler vectorizes it
      for (int g = 0; g < n; ++g) {
        T* acc = s[g].rows[reduce_step_].data();
        const T *a = s[g].at[terms_[0]], *b = s[g].at[terms_[1]];
#pragma omp simd
        for (int64_t i = 0; i < row_; ++i) acc[i] = combine(acc[i], value(a, b, i));
      }
      return;
    }
    T acc[kGroup];
    const T *a[kGroup], *b[kGroup];
    for (int g = 0; g < kGroup; ++g) {
      const Scratch& sg = s[g < n ? g : 0];
      acc[g] = sg.rows[reduce_step_][0];
      a[g] = sg.at[terms_[0]];
      b[g] = sg.at[terms_[1]];
    }
    if (n == kGroup) {  // kGroup independent chains, interleaved (the unrolled accumulators
                        // stay in registers)
      for (int64_t i = 0; i < row_; ++i) {
#pragma GCC unroll 8
        for (int g = 0; g < kGroup; ++g) acc[g] = combine(acc[g], value(a[g], b[g], i));
      }
    } else {
      for (int g = 0; g < n; ++g) {
        for (int64_t i = 0; i < row_; ++i) acc[g] = combine(acc[g], value(a[g], b[g], i));
      }
    }
    for (int g = 0; g < n; ++g) s[g].rows[reduce_step_][0] = acc[g];
  }

  // Evaluates the steps on one side of the reduce over a row of `len` lanes.
  void evaluate(Scratch& s, bool below, int64_t len) const {
    const std::vector<Step>& steps = plan_.steps();
    for (size_t i = 0; i < steps.size(); ++i) {
      const Step& st = steps[i];
      if (st.below != below || st.node->kind == NodeKind::kReduce || static_cast<int>(i) == product_) continue;
      T* out = s.rows[i].data();
      const KernelNode& n = *st.node;
      if (n.kind == NodeKind::kLoad || n.kind == NodeKind::kConst) {
        s.at[i] = read_leaf(n, s.coords, len, out);
        continue;
      }
      const T* a = s.at[st.src[0]];
      const T* b = st.src.size() > 1 ? s.at[st.src[1]] : a;
      const T* c = st.src.size() > 2 ? s.at[st.src[2]] : a;
      alu_row(n.op, len, out, a, b, c);
    }
  }

  // A leaf's row: in `out`, or, when it lies whole and contiguous in its buffer, in place.
  const T* read_leaf(const KernelNode& n, Shape& coords, int64_t len, T* out) const {
    const T* data = n.kind == NodeKind::kLoad ? data_[n.buffer] : nullptr;
    const T value = static_cast<T>(n.value);
    const RowPlace p = place_row(n.st, coords, len);
    if (!p.simple) {  // several Views: each lane through ShapeTracker::index
      for (int64_t i = 0; i < len; ++i) {
        if (n_ > 0) coords[n_ - 1] = i;
        const int64_t pos = n.st.index(coords);
        out[i] = pos < 0 ? T(0) : data ? data[pos] : value;
      }
      if (n_ > 0) coords[n_ - 1] = 0;
      return out;
    }
    if (data != nullptr && p.stride == 1 && p.lo == 0 && p.hi == len) return data + p.base;
    // Zeros outside [lo, hi); inside, one value for a constant or a broadcast, else a gather.
    // (Plain loops marked simd: std::fill of floats is not vectorized at -O2.)
#pragma omp simd
    for (int64_t i = 0; i < p.lo; ++i) out[i] = T(0);
    if (data == nullptr || p.stride == 0) {
      const T same = data == nullptr || p.hi == p.lo ? value : data[p.base];  // no read if nothing is valid
#pragma omp simd
      for (int64_t i = p.lo; i < p.hi; ++i) out[i] = same;
    } else {
#pragma omp simd
      for (int64_t i = p.lo; i < p.hi; ++i) out[i] = data[p.base + i * p.stride];
    }
#pragma omp simd
    for (int64_t i = p.hi; i < len; ++i) out[i] = T(0);
    return out;
  }

  const Kernel& k_;
  const Plan& plan_;
  T* out_;
  std::vector<const T*> data_;
  size_t n_ = 0;
  int64_t row_ = 1, out_row_ = 1;
  int reduce_step_ = -1;  // the reduce's step, -1 for none
  int product_ = -1;      // the MUL step fused into the fold, -1 for none
  std::array<int, 2> terms_ = {0, 0};  // the steps whose rows the fold reads
  Op op_ = Op::SUM;       // the reduce's op
  bool last_reduced_ = false;
  std::vector<size_t> out_axes_, sum_axes_;  // outer axes (all but the last) kept / reduced
};

void check_buffers(const Kernel& k, const std::vector<ch04::Buffer*>& bufs) {
  const std::string name = "kernel " + k.name();
  if (bufs.size() != k.buffers.size()) {
    throw std::invalid_argument(name + ": " + std::to_string(k.buffers.size()) + " buffers expected, got " +
                                std::to_string(bufs.size()));
  }
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (bufs[i] == nullptr) throw std::invalid_argument(name + ": buffer " + std::to_string(i) + " is missing");
    if (bufs[i]->dtype != k.ast->dtype) {
      throw std::invalid_argument(name + ": buffer " + std::to_string(i) + " is " + ch04::dtype_name(bufs[i]->dtype) +
                                  ", the kernel computes " + ch04::dtype_name(k.ast->dtype));
    }
  }
  if (bufs[0]->numel != ch04::prod(k.output_shape())) {
    throw std::invalid_argument(name + ": the output buffer has " + std::to_string(bufs[0]->numel) +
                                " elements, the kernel writes " + std::to_string(ch04::prod(k.output_shape())));
  }
  std::vector<const KernelNode*> todo = {k.ast.get()};
  while (!todo.empty()) {
    const KernelNode* n = todo.back();
    todo.pop_back();
    if (n->kind == NodeKind::kLoad) {
      check_st(n->st, bufs[n->buffer]->numel, name + ": LOAD of buffer " + std::to_string(n->buffer));
    }
    for (const NodeRef& s : n->src) todo.push_back(s.get());
  }
}

template <typename T>
void run_typed(const Kernel& k, const std::vector<ch04::Buffer*>& bufs) {
  const Plan plan(k);
  const RowEvaluator<T> eval(k, plan, bufs);
  const int64_t rows = eval.rows();
  if (ch04::prod(k.shape) == 0 && ch04::prod(k.output_shape()) == 0) return;
  // Small kernels run on one thread: starting the others costs more than they save.
  const bool parallel = ch04::prod(k.shape) >= (1 << 17) && rows > RowEvaluator<T>::kGroup;
  using Eval = RowEvaluator<T>;
  const int64_t groups = (rows + Eval::kGroup - 1) / Eval::kGroup;
#pragma omp parallel if (parallel)
  {
    std::vector<typename Eval::Scratch> scratch;
    for (int g = 0; g < Eval::kGroup; ++g) scratch.push_back(eval.scratch());
#pragma omp for schedule(static)
    for (int64_t group = 0; group < groups; ++group) {
      const int64_t first = group * Eval::kGroup;
      eval.run_rows(first, static_cast<int>(std::min<int64_t>(Eval::kGroup, rows - first)), scratch);
    }
  }
}

}  // namespace

void InterpretedRunner::run(const Kernel& k, const std::vector<ch04::Buffer*>& bufs) {
  verify(k);
  check_buffers(k, bufs);
  if (k.ast->dtype == ch04::DType::kFloat32) {
    run_typed<float>(k, bufs);
  } else {
    run_typed<double>(k, bufs);
  }
}

}  // namespace ch05
