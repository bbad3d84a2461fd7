#include "tinyref/lazy/lazybuffer.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "tinyref/error.h"
#include "tinyref/ops_eval.h"

namespace tinyref {

namespace {

// Hash-consing: structural key -> the live node with that key. Keys name sources by id (never
// reused), so an entry can only match nodes whose sources are still the same objects.
std::unordered_map<std::string, std::weak_ptr<LazyBuffer>>& cache() {
  static auto* c = new std::unordered_map<std::string, std::weak_ptr<LazyBuffer>>();
  return *c;
}
uint64_t next_id = 1;

// Devices whose long reductions split, and each one's rule.
std::unordered_map<std::string, std::function<SplitRule()>>& split_devices() {
  static auto* d = new std::unordered_map<std::string, std::function<SplitRule()>>();
  return *d;
}

}  // namespace

size_t live_lazy_nodes() {
  size_t n = 0;
  for (const auto& [k, w] : cache()) n += w.expired() ? 0 : 1;
  return n;
}

std::string LazyArg::key() const {
  std::ostringstream os;
  for (int64_t i : ints) os << i << ",";
  os << "|";
  for (auto [a, b] : pairs) os << a << ":" << b << ",";
  os << "|" << value;
  return os.str();
}

LazyRef LazyBuffer::intern(Op op, DType dtype, const std::string& device, ShapeTracker st,
                           std::vector<LazyRef> srcs, LazyArg arg, LazyRef base,
                           std::shared_ptr<Buffer> buf) {
  std::ostringstream key;
  key.precision(17);
  if (base) {
    key << "VIEW " << base->id_ << " " << st.to_string();
  } else {
    key << op_name(op) << " " << dtype_name(dtype) << " " << device << " " << shape_str(st.shape()) << " [";
    for (const LazyRef& s : srcs) key << s->id_ << ",";
    key << "] " << arg.key();
    if (buf) key << " #" << next_id;  // data buffers are never shared
  }
  auto& c = cache();
  if (auto it = c.find(key.str()); it != c.end()) {
    if (LazyRef alive = it->second.lock()) return alive;
  }
  LazyRef n(new LazyBuffer());
  n->op_ = op;
  n->dtype_ = dtype;
  n->device_ = device;
  n->st_ = std::move(st);
  n->srcs_ = std::move(srcs);
  n->arg_ = std::move(arg);
  n->base_ = std::move(base);
  n->buffer_ = std::move(buf);
  n->id_ = next_id++;
  n->key_ = key.str();
  n->self_ = n;
  c[n->key_] = n;
  return n;
}

LazyBuffer::~LazyBuffer() {
  auto& c = cache();
  if (auto it = c.find(key_); it != c.end() && it->second.expired()) c.erase(it);
}

LazyRef LazyBuffer::base_ref() { return base_ ? base_ : self_.lock(); }

bool LazyBuffer::realized() const { return base_ ? base_->buffer_ != nullptr : buffer_ != nullptr; }

std::shared_ptr<Buffer> LazyBuffer::realized_buffer() { return base()->buffer_; }

std::optional<double> LazyBuffer::const_value() {
  if (base()->op_ != Op::CONST || base()->buffer_ || st_.has_mask()) return std::nullopt;
  return base()->arg_.value;
}

void LazyBuffer::set_realized(std::shared_ptr<Buffer> buf) {
  TT_ASSERT(!base_);
  buffer_ = std::move(buf);
  srcs_.clear();
}

LazyRef LazyBuffer::buffer(std::shared_ptr<Buffer> buf, const Shape& shape, const std::string& device) {
  TT_ASSERT(static_cast<int64_t>(buf->numel()) == prod(shape));
  const DType dt = buf->dtype();
  return intern(Op::BUFFER, dt, device, ShapeTracker::from_shape(shape), {}, {}, nullptr, std::move(buf));
}

LazyRef LazyBuffer::constant(double value, DType dtype, const std::string& device, const Shape& shape) {
  LazyArg arg;
  arg.value = round_to(dtype, value);
  LazyRef scalar = intern(Op::CONST, dtype, device, ShapeTracker::from_shape({}), {}, arg, nullptr, nullptr);
  if (shape.empty()) return scalar;
  return scalar->reshape(Shape(shape.size(), 1))->expand(shape);
}

LazyRef LazyBuffer::alu(Op op, const std::vector<LazyRef>& srcs, DType cast_to) {
  TT_ASSERT(is_elementwise(op) && static_cast<int>(srcs.size()) == op_arity(op));
  const LazyRef& a = srcs[0];
  for (const LazyRef& s : srcs) {
    TT_CHECK(s->shape() == a->shape(), op_name(op) << ": shapes " << a->shape() << " and " << s->shape()
                                                   << " differ (broadcast first)");
    TT_CHECK(s->device() == a->device(), op_name(op) << ": devices " << a->device() << " and " << s->device()
                                                     << " differ (copy with to() first)");
  }
  DType in = a->dtype(), out = a->dtype();
  if (op == Op::WHERE) {
    TT_CHECK(a->dtype() == DType::kBool, "WHERE: condition must be bool, got " << dtype_name(a->dtype()));
    in = out = srcs[1]->dtype();
  }
  for (size_t i = op == Op::WHERE ? 1 : 0; i < srcs.size(); ++i) {
    TT_CHECK(srcs[i]->dtype() == in, op_name(op) << ": dtypes " << dtype_name(in) << " and "
                                                 << dtype_name(srcs[i]->dtype()) << " differ (cast first)");
  }
  TT_CHECK(!op_has(op, kFloatOnly) || is_float(in), op_name(op) << ": needs a float dtype, got " << dtype_name(in));
  TT_CHECK(!op_has(op, kIntOnly) || is_int(in), op_name(op) << ": needs an integer dtype, got " << dtype_name(in));
  TT_CHECK(!op_has(op, kBoolOnly) || in == DType::kBool, op_name(op) << ": needs bool, got " << dtype_name(in));
  if (op_has(op, kBoolResult)) out = DType::kBool;
  if (op == Op::CAST) {
    if (cast_to == in) return a;
    out = cast_to;
  }
  // Constant folding: all-constant operands, and the identities x+0, x-0, x*1, x/1.
  std::vector<double> cv;
  for (const LazyRef& s : srcs) {
    if (auto v = s->const_value()) cv.push_back(*v);
  }
  if (cv.size() == srcs.size()) {
    cv.resize(3, 0.0);
    return constant(eval_alu(op, out, in, cv[0], cv[1], cv[2]), out, a->device(), a->shape());
  }
  if (srcs.size() == 2) {
    auto b = srcs[1]->const_value();
    if (b && ((*b == 0 && (op == Op::ADD || op == Op::SUB)) || (*b == 1 && (op == Op::MUL || op == Op::DIV)))) {
      return a;
    }
    auto av = a->const_value();
    if (av && ((*av == 0 && op == Op::ADD) || (*av == 1 && op == Op::MUL))) return srcs[1];
  }
  LazyArg arg;
  return intern(op, out, a->device(), ShapeTracker::from_shape(a->shape()), srcs, arg, nullptr, nullptr);
}

LazyRef LazyBuffer::cast(DType to) { return alu(Op::CAST, {self_.lock()}, to); }

LazyRef LazyBuffer::reduce(Op op, const std::vector<int>& axes) {
  TT_ASSERT(is_reduce(op));
  Shape out = shape();
  std::vector<int64_t> sorted;
  for (int ax : axes) {
    TT_CHECK(ax >= 0 && ax < static_cast<int>(out.size()),
             op_name(op) << ": axis " << ax << " is out of range for shape " << shape());
    sorted.push_back(ax);
  }
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  int64_t count = 1;
  std::vector<int64_t> real;
  for (int64_t ax : sorted) {
    count *= out[ax];
    if (out[ax] != 1) real.push_back(ax);
    out[ax] = 1;
  }
  if (real.empty()) return self_.lock();
  // Nothing to reduce (an axis of extent 0): every output is the reduce's identity, as an empty
  // sum is 0 in PyTorch. A kernel could not express it: its full shape would be the output's.
  if (count == 0) return constant(reduce_identity(op, dtype_), dtype_, device_, out);
  if (auto v = const_value()) {
    return constant(op == Op::SUM ? round_to(dtype_, *v * count) : *v, dtype_, device_, out);
  }
  const auto split = split_devices().find(device_);
  const int64_t chunks =
      split == split_devices().end() ? 1 : reduce_split(prod(out), count, shape()[real[0]], split->second());
  if (chunks == 1) return reduce_whole(op, real, out);
  // Two kernels: the first reduces each of `chunks` slices of the first reduced axis (chunks
  // times the outputs, so chunks times the blocks), the second adds up the partials.
  Shape sliced = shape();
  sliced[real[0]] = chunks;
  sliced.insert(sliced.begin() + real[0] + 1, shape()[real[0]] / chunks);
  std::vector<int64_t> within;  // the reduced axes of `sliced`, all but the chunk axis
  for (int64_t ax : real) within.push_back(ax + 1);
  Shape partial_shape = sliced;
  for (int64_t ax : within) partial_shape[ax] = 1;
  LazyRef partials = reshape(sliced)->reduce_whole(op, within, partial_shape);
  Shape total_shape = partial_shape;
  total_shape[real[0]] = 1;
  return partials->reduce_whole(op, {real[0]}, total_shape)->reshape(out);
}

LazyRef LazyBuffer::reduce_whole(Op op, const std::vector<int64_t>& axes, const Shape& out) {
  LazyArg arg;
  arg.ints = axes;
  return intern(op, dtype_, device_, ShapeTracker::from_shape(out), {self_.lock()}, arg, nullptr, nullptr);
}

void split_long_reductions_on(const std::string& device, std::function<SplitRule()> rule) {
  split_devices()[device] = std::move(rule);
}

int64_t reduce_split(int64_t outputs, int64_t count, int64_t extent, const SplitRule& rule) {
  constexpr int64_t kMinCount = 16384;  // shorter ones fit a block (or a warp's loop) as they are
  if (count < kMinCount) return 1;
  int64_t chunks = 1;
  while (chunks * 2 <= rule.max_chunks && extent % (chunks * 2) == 0 && outputs * chunks * 2 < rule.max_partials &&
         count / (chunks * 2) >= rule.min_slice) {
    chunks *= 2;
  }
  return chunks;
}

LazyRef LazyBuffer::view(Op op, ShapeTracker st, LazyArg arg) {
  LazyRef b = base_ref();
  if (st == ShapeTracker::from_shape(b->shape())) return b;
  return intern(op, dtype_, device_, std::move(st), {}, std::move(arg), b, nullptr);
}

LazyRef LazyBuffer::reshape(const Shape& shape) {
  if (shape == this->shape()) return self_.lock();
  return view(Op::RESHAPE, st_.reshape(shape), {shape, {}, 0});
}
LazyRef LazyBuffer::permute(const std::vector<int>& order) {
  bool identity = true;
  for (size_t i = 0; i < order.size(); ++i) identity = identity && order[i] == static_cast<int>(i);
  if (identity && order.size() == shape().size()) return self_.lock();
  return view(Op::PERMUTE, st_.permute(order), {{order.begin(), order.end()}, {}, 0});
}
LazyRef LazyBuffer::expand(const Shape& shape) {
  if (shape == this->shape()) return self_.lock();
  return view(Op::EXPAND, st_.expand(shape), {shape, {}, 0});
}
LazyRef LazyBuffer::pad(const Pairs& before_after) {
  bool zero = true;
  for (auto [b, a] : before_after) zero = zero && b == 0 && a == 0;
  if (zero && before_after.size() == shape().size()) return self_.lock();
  return view(Op::PAD, st_.pad(before_after), {{}, before_after, 0});
}
LazyRef LazyBuffer::shrink(const Pairs& lo_hi) {
  bool full = lo_hi.size() == shape().size();
  for (size_t i = 0; full && i < lo_hi.size(); ++i) full = lo_hi[i].first == 0 && lo_hi[i].second == shape()[i];
  if (full) return self_.lock();
  return view(Op::SHRINK, st_.shrink(lo_hi), {{}, lo_hi, 0});
}
LazyRef LazyBuffer::flip(const std::vector<bool>& axes) {
  if (std::find(axes.begin(), axes.end(), true) == axes.end() && axes.size() == shape().size()) return self_.lock();
  return view(Op::FLIP, st_.flip(axes), {{axes.begin(), axes.end()}, {}, 0});
}

LazyRef LazyBuffer::contiguous() {
  if (!base_ && buffer_) return self_.lock();
  return intern(Op::CONTIGUOUS, dtype_, device_, ShapeTracker::from_shape(shape()), {self_.lock()}, {},
                nullptr, nullptr);
}

LazyRef LazyBuffer::copy_to(const std::string& device) {
  if (device == device_) return self_.lock();
  return intern(Op::COPY, dtype_, device, ShapeTracker::from_shape(shape()), {contiguous()}, {}, nullptr,
                nullptr);
}

}  // namespace tinyref
