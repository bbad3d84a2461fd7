#include "ch04/realize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_set>

namespace ch04 {

// ---------------------------------------------------------------------------- the engine hook (given)

namespace {
std::shared_ptr<Engine>& current_engine() {
  static auto* e = new std::shared_ptr<Engine>(std::make_shared<Interpreter>());
  return *e;
}
}  // namespace

Engine& engine() { return *current_engine(); }
void set_engine(std::shared_ptr<Engine> e) { current_engine() = e ? std::move(e) : std::make_shared<Interpreter>(); }
void realize(const std::vector<LazyRef>& outs) { engine().realize(outs); }

ScopedEngine::ScopedEngine(std::shared_ptr<Engine> e) : previous_(current_engine()) { set_engine(std::move(e)); }
ScopedEngine::~ScopedEngine() { set_engine(std::move(previous_)); }

// ---------------------------------------------------------------------------- ch04.5: the interpreter

namespace {

// One source of an op, read through its ShapeTracker: a realized base's Buffer, or an
// unrealized CONST (every position a CONST view computes is 0, so one element holds it).
template <typename T>
class Reader {
 public:
  explicit Reader(LazyBuffer& src) : st_(src.st()) {
    if (src.realized()) {
      data_ = src.buffer()->template data<T>();
    } else if (src.base()->op() == Op::CONST) {
      value_ = static_cast<T>(src.base()->arg().value);
    } else {
      throw std::logic_error(std::string("Interpreter: a source (") + op_name(src.base()->op()) + " " +
                             shape_str(src.shape()) + ") was not realized before the op that reads it");
    }
  }

  // The element at idx; padding reads 0.
  T at(const Shape& idx) const {
    const int64_t pos = st_.index(idx);
    return pos < 0 ? T(0) : data()[pos];
  }

  // The row of len elements starting at idx and running along `axis`. When it lies in memory
  // with stride 1 and has no padding, a pointer into the buffer (no copy); else copied into
  // scratch. idx is modified and restored.
  const T* row(Shape& idx, int axis, int64_t len, T* scratch) const {
    if (st_.views.size() > 1) {  // several views: every element through all of them
      const int64_t start = idx[axis];
      for (int64_t j = 0; j < len; ++j, ++idx[axis]) scratch[j] = at(idx);
      idx[axis] = start;
      return scratch;
    }
    const View& v = st_.views[0];
    int64_t pos = v.offset;
    for (size_t d = 0; d < idx.size(); ++d) {
      if (static_cast<int>(d) == axis) continue;
      if (v.mask && (idx[d] < (*v.mask)[d].first || idx[d] >= (*v.mask)[d].second)) {
        std::fill(scratch, scratch + len, T(0));  // the whole row is padding
        return scratch;
      }
      pos += idx[d] * v.strides[d];
    }
    const int64_t start = idx[axis], stride = v.strides[axis];
    int64_t lo = 0, hi = len;  // the j whose element is valid
    if (v.mask) {
      lo = std::clamp<int64_t>((*v.mask)[axis].first - start, 0, len);
      hi = std::clamp<int64_t>((*v.mask)[axis].second - start, lo, len);
    }
    const T* p = data() + pos + start * stride;
    if (stride == 1 && lo == 0 && hi == len) return p;
    std::fill(scratch, scratch + lo, T(0));
#pragma omp simd
    for (int64_t j = lo; j < hi; ++j) scratch[j] = p[j * stride];
    std::fill(scratch + hi, scratch + len, T(0));
    return scratch;
  }

 private:
  const T* data() const { return data_ ? data_ : &value_; }
  const ShapeTracker& st_;
  const T* data_ = nullptr;
  T value_ = 0;
};

// out[j] = op(a[j], b[j], c[j]) for j < n. `#pragma omp simd` asks the compiler for vector
// instructions, which -O2 alone rarely uses.
template <typename T>
void apply(Op op, int64_t n, const T* a, const T* b, const T* c, T* out) {
#define CH04_LOOP(expr)                                             \
  _Pragma("omp simd") for (int64_t j = 0; j < n; ++j) out[j] = (expr); \
  break
  switch (op) {
    case Op::NEG: CH04_LOOP(-a[j]);
    case Op::EXP2: CH04_LOOP(std::exp2(a[j]));
    case Op::LOG2: CH04_LOOP(std::log2(a[j]));
    case Op::SIN: CH04_LOOP(std::sin(a[j]));
    case Op::SQRT: CH04_LOOP(std::sqrt(a[j]));
    case Op::RECIP: CH04_LOOP(T(1) / a[j]);
    case Op::ADD: CH04_LOOP(a[j] + b[j]);
    case Op::SUB: CH04_LOOP(a[j] - b[j]);
    case Op::MUL: CH04_LOOP(a[j] * b[j]);
    case Op::DIV: CH04_LOOP(a[j] / b[j]);
    case Op::MAX: CH04_LOOP(a[j] > b[j] ? a[j] : b[j]);
    case Op::CMPLT: CH04_LOOP(a[j] < b[j] ? T(1) : T(0));
    case Op::CMPNE: CH04_LOOP(a[j] != b[j] ? T(1) : T(0));
    case Op::WHERE: CH04_LOOP(a[j] != T(0) ? b[j] : c[j]);
    case Op::CONTIGUOUS: CH04_LOOP(a[j]);
    default: throw std::logic_error(std::string("Interpreter: ") + op_name(op) + " is not elementwise");
  }
#undef CH04_LOOP
}

// The coordinates of row r when rows run over every axis but `axis` in row-major order
// (axis -1: r counts single elements).
void row_index(const Shape& shape, int axis, int64_t r, Shape& idx) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (static_cast<int>(d) == axis) {
      idx[d] = 0;
    } else {
      idx[d] = r % shape[d];
      r /= shape[d];
    }
  }
}

// The last axis of `shape` with more than one element among those `allowed`, or -1.
int last_long_axis(const Shape& shape, const std::vector<bool>& allowed) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (allowed[d] && shape[d] > 1) return static_cast<int>(d);
  }
  return -1;
}

// Elementwise ops and CONTIGUOUS: a row along the last long axis at a time, rows split among
// the threads. That axis is contiguous in the output, because the axes after it have size 1.
template <typename T>
void run_elementwise(LazyBuffer& node, T* out) {
  const Shape& shape = node.shape();
  std::vector<Reader<T>> srcs;
  for (const LazyRef& s : node.srcs()) srcs.emplace_back(*s);
  const int axis = last_long_axis(shape, std::vector<bool>(shape.size(), true));
  const int64_t len = axis < 0 ? 1 : shape[axis];
  const int64_t rows = node.numel() / std::max<int64_t>(len, 1);
#pragma omp parallel if (node.numel() > 32768)
  {
    std::vector<T> scratch(3 * len);
    const T* in[3] = {nullptr, nullptr, nullptr};
    Shape idx(shape.size(), 0);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      row_index(shape, axis, r, idx);
      for (size_t k = 0; k < srcs.size(); ++k) {
        T* mine = scratch.data() + k * len;
        if (axis < 0) {  // one element (a scalar shape, or sizes all 1)
          *mine = srcs[k].at(idx);
          in[k] = mine;
        } else {
          in[k] = srcs[k].row(idx, axis, len, mine);
        }
      }
      apply(node.op(), len, in[0], in[1], in[2], out + r * len);
    }
  }
}

// SUM and RMAX. The loops run along the input's last axis when they can:
//  - that axis is kept (a weight gradient's sum over the batch): each output row adds up one
//    input row per reduced index;
//  - it is reduced (matmul's sum over k): each output element folds input rows along it.
template <typename T>
void run_reduce(LazyBuffer& node, T* out) {
  const Reader<T> src(*node.srcs()[0]);
  const Shape& in_shape = node.srcs()[0]->shape();
  const size_t nd = in_shape.size();
  std::vector<bool> reduced(nd, false), kept(nd, true);
  for (int64_t a : node.arg().ints) reduced[a] = true, kept[a] = false;
  const bool is_sum = node.op() == Op::SUM;
  const T init = is_sum ? T(0) : -std::numeric_limits<T>::infinity();
  int axis = last_long_axis(in_shape, kept);
  const bool along_kept = axis >= 0 && kept[nd - 1];
  if (!along_kept) axis = last_long_axis(in_shape, reduced);
  const int64_t len = axis < 0 ? 1 : in_shape[axis];
  Shape box(nd, 1);  // the reduced indices a group walks, besides `axis`
  for (size_t d = 0; d < nd; ++d) {
    if (reduced[d] && static_cast<int>(d) != axis) box[d] = in_shape[d];
  }
  const int64_t box_count = prod(box), outputs = node.numel();
  const int64_t groups = along_kept ? outputs / len : outputs;
#pragma omp parallel if (prod(in_shape) > 32768)
  {
    std::vector<T> scratch(len), acc(along_kept ? len : 1);
    Shape idx(nd, 0), group(nd, 0);
#pragma omp for schedule(static)
    for (int64_t g = 0; g < groups; ++g) {
      row_index(node.shape(), along_kept ? axis : -1, g, group);  // this group's kept coordinates
      std::fill(acc.begin(), acc.end(), init);
      for (int64_t b = 0; b < box_count; ++b) {
        row_index(box, -1, b, idx);
        for (size_t d = 0; d < nd; ++d) {
          if (kept[d]) idx[d] = group[d];
        }
        if (axis < 0) {  // nothing left to run along (an axis of size 0 was reduced)
          acc[0] = is_sum ? acc[0] + src.at(idx) : std::max(acc[0], src.at(idx));
          continue;
        }
        const T* row = src.row(idx, axis, len, scratch.data());
        T* a = acc.data();
        if (along_kept && is_sum) {
#pragma omp simd
          for (int64_t j = 0; j < len; ++j) a[j] += row[j];
        } else if (along_kept) {
#pragma omp simd
          for (int64_t j = 0; j < len; ++j) a[j] = a[j] > row[j] ? a[j] : row[j];
        } else if (is_sum) {
          T s = a[0];
#pragma omp simd reduction(+ : s)
          for (int64_t j = 0; j < len; ++j) s += row[j];
          a[0] = s;
        } else {
          T m = a[0];
#pragma omp simd reduction(max : m)
          for (int64_t j = 0; j < len; ++j) m = m > row[j] ? m : row[j];
          a[0] = m;
        }
      }
      std::copy(acc.begin(), acc.end(), out + g * static_cast<int64_t>(acc.size()));
    }
  }
}

template <typename T>
void run(LazyBuffer& node, Buffer& buf) {
  T* out = buf.data<T>();
  if (node.op() == Op::CONST) {
    out[0] = static_cast<T>(node.arg().value);
  } else if (op_kind(node.op()) == OpKind::kReduce) {
    run_reduce<T>(node, out);
  } else {
    run_elementwise<T>(node, out);
  }
}

// The unrealized bases below `outs`, every one after the bases it reads. Unrealized CONSTs are
// read in place, so they are only computed when they are an output themselves.
std::vector<LazyBuffer*> bases_in_order(const std::vector<LazyRef>& outs) {
  std::vector<LazyBuffer*> order;
  std::unordered_set<LazyBuffer*> seen;
  std::vector<std::pair<LazyBuffer*, bool>> stack;  // (node, its sources are done)
  for (const LazyRef& out : outs) stack.push_back({out->base().get(), false});
  while (!stack.empty()) {
    auto [node, sources_done] = stack.back();
    stack.pop_back();
    if (sources_done) {
      order.push_back(node);
      continue;
    }
    if (node->realized() || !seen.insert(node).second) continue;
    stack.push_back({node, true});
    for (const LazyRef& s : node->srcs()) {
      LazyBuffer* b = s->base().get();
      if (!b->realized() && b->op() != Op::CONST && !seen.count(b)) stack.push_back({b, false});
    }
  }
  return order;
}

}  // namespace

void Interpreter::realize(const std::vector<LazyRef>& outs) {
  for (LazyBuffer* node : bases_in_order(outs)) {
    auto buf = std::make_shared<Buffer>(node->dtype(), node->numel());
    if (node->dtype() == DType::kFloat32) {
      run<float>(*node, *buf);
    } else {
      run<double>(*node, *buf);
    }
    stats().kernels += 1;
    node->set_realized(std::move(buf));
  }
}

}  // namespace ch04
