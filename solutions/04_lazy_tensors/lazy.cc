#include "ch04/lazy.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace ch04 {

// ---------------------------------------------------------------------------- ops (given)

namespace {

struct OpInfo {
  const char* name;
  OpKind kind;
  int arity;
};

// In the order of enum class Op.
constexpr OpInfo kOps[] = {
    {"NEG", OpKind::kUnary, 1},      {"EXP2", OpKind::kUnary, 1},      {"LOG2", OpKind::kUnary, 1},
    {"SIN", OpKind::kUnary, 1},      {"SQRT", OpKind::kUnary, 1},      {"RECIP", OpKind::kUnary, 1},
    {"ADD", OpKind::kBinary, 2},     {"SUB", OpKind::kBinary, 2},      {"MUL", OpKind::kBinary, 2},
    {"DIV", OpKind::kBinary, 2},     {"MAX", OpKind::kBinary, 2},      {"CMPLT", OpKind::kBinary, 2},
    {"CMPNE", OpKind::kBinary, 2},   {"WHERE", OpKind::kTernary, 3},   {"SUM", OpKind::kReduce, 1},
    {"RMAX", OpKind::kReduce, 1},    {"RESHAPE", OpKind::kMovement, 1}, {"PERMUTE", OpKind::kMovement, 1},
    {"EXPAND", OpKind::kMovement, 1}, {"PAD", OpKind::kMovement, 1},    {"SHRINK", OpKind::kMovement, 1},
    {"FLIP", OpKind::kMovement, 1},  {"LOAD", OpKind::kBuffer, 0},     {"CONST", OpKind::kBuffer, 0},
    {"CONTIGUOUS", OpKind::kBuffer, 1},
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == static_cast<size_t>(Op::CONTIGUOUS) + 1,
              "kOps must list every Op, in order");

}  // namespace

OpKind op_kind(Op op) { return kOps[static_cast<int>(op)].kind; }
const char* op_name(Op op) { return kOps[static_cast<int>(op)].name; }
int op_arity(Op op) { return kOps[static_cast<int>(op)].arity; }

std::string OpArg::str() const {
  std::ostringstream os;
  os.precision(17);
  os << shape_str(ints) << pairs_str(pairs) << value;
  return os.str();
}

// ---------------------------------------------------------------------------- buffers (given)

Stats& stats() {
  static Stats s;
  return s;
}

namespace {

// Freed large buffers, kept by size for the next buffer of that size. A training step allocates
// the same sizes every step, and a fresh large allocation is a fresh mmap from the C library
// whose every page faults when first written: MNIST's 51 MB activations took ~100 ms each to
// fill that way, longer than the kernel computing them. PyTorch and tinyref keep freed memory
// the same way (tinyref/backends/allocator.h). Small buffers are left to malloc, which reuses
// them well; at most 1 GiB is kept.
class HostPool {
 public:
  static constexpr size_t kMinBytes = size_t{256} << 10, kMaxKeptBytes = size_t{1} << 30;

  std::byte* take(size_t bytes) {
    if (bytes >= kMinBytes) {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = free_.find(bytes); it != free_.end()) {
        std::byte* p = it->second.release();
        free_.erase(it);
        kept_ -= bytes;
        return p;
      }
    }
    return new std::byte[bytes];
  }
  void give_back(size_t bytes, std::byte* p) {
    std::unique_ptr<std::byte[]> owned(p);
    if (bytes < kMinBytes) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (kept_ + bytes > kMaxKeptBytes) return;
    kept_ += bytes;
    free_.emplace(bytes, std::move(owned));
  }

 private:
  std::mutex mu_;
  std::multimap<size_t, std::unique_ptr<std::byte[]>> free_;
  size_t kept_ = 0;
};

HostPool& host_pool() {
  static auto* pool = new HostPool();  // never destroyed: Buffers may outlive static destructors
  return *pool;
}

}  // namespace

Buffer::Buffer(DType dtype_, int64_t numel_)
    : dtype(dtype_), numel(numel_), bytes_(host_pool().take(static_cast<size_t>(numel_) * itemsize(dtype_))) {
  stats().buffers += 1;
  stats().bytes += static_cast<int64_t>(nbytes());
}

Buffer::~Buffer() { host_pool().give_back(nbytes(), bytes_.release()); }

std::byte* Buffer::host() {
  if (!host_valid && device) {
    device->copy_to_host(*this);
    host_valid = true;
  }
  return bytes_.get();
}

template <typename T>
T* Buffer::data() {
  if ((dtype == DType::kFloat32) != std::is_same_v<T, float>) {
    throw std::invalid_argument(std::string("Buffer::data: the buffer holds ") + dtype_name(dtype) + ", asked for " +
                                (std::is_same_v<T, float> ? "float" : "double"));
  }
  return reinterpret_cast<T*>(host());
}
template float* Buffer::data<float>();
template double* Buffer::data<double>();

double Buffer::get(int64_t i) { return dtype == DType::kFloat32 ? data<float>()[i] : data<double>()[i]; }

void Buffer::set(int64_t i, double value) {
  if (dtype == DType::kFloat32) {
    data<float>()[i] = static_cast<float>(value);
  } else {
    data<double>()[i] = value;
  }
}

// ---------------------------------------------------------------------------- the graph

namespace {

// Hash-consing: key -> the live node with that key. Keys name sources by id, and ids are never
// reused, so a key can only match a node whose sources are the very same objects. Never
// destroyed: nodes held by static objects may outlive any static map.
std::unordered_map<std::string, std::weak_ptr<LazyBuffer>>& cache() {
  static auto* c = new std::unordered_map<std::string, std::weak_ptr<LazyBuffer>>();
  return *c;
}
uint64_t next_id = 1;
int64_t live = 0;

double round_to(DType dtype, double v) { return dtype == DType::kFloat32 ? static_cast<float>(v) : v; }

}  // namespace

int64_t LazyBuffer::live_nodes() { return live; }

LazyBuffer::LazyBuffer(Op op, DType dtype, ShapeTracker st, std::vector<LazyRef> srcs, OpArg arg, LazyRef base)
    : op_(op), dtype_(dtype), st_(std::move(st)), srcs_(std::move(srcs)), arg_(std::move(arg)), base_(std::move(base)),
      id_(next_id++) {
  ++live;
}

LazyBuffer::~LazyBuffer() {
  --live;
  if (key_.empty()) return;
  auto& c = cache();
  if (auto it = c.find(key_); it != c.end() && it->second.expired()) c.erase(it);
}

std::optional<double> LazyBuffer::const_value() const {
  const LazyBuffer& b = base_node();
  if (b.op_ != Op::CONST) return std::nullopt;
  for (const View& v : st_.views) {
    if (v.mask) return std::nullopt;
  }
  return b.arg_.value;
}

// ch04.4 from here on.

LazyRef LazyBuffer::intern(Op op, DType dtype, ShapeTracker st, std::vector<LazyRef> srcs, OpArg arg, LazyRef base) {
  // Everything that decides what the node computes. Sources are named by id: addresses are
  // reused once a node is freed, ids never are.
  std::string key;
  if (base) {
    key = "VIEW of " + std::to_string(base->id_) + " " + st.str();
  } else {
    key = std::string(op_name(op)) + " " + dtype_name(dtype) + " " + shape_str(st.shape()) + " of";
    for (const LazyRef& s : srcs) key += " " + std::to_string(s->id_);
    key += " " + arg.str();
  }
  std::weak_ptr<LazyBuffer>& slot = cache()[key];
  if (LazyRef same = slot.lock()) return same;  // alive: share it
  LazyRef node(new LazyBuffer(op, dtype, std::move(st), std::move(srcs), std::move(arg), std::move(base)));
  node->key_ = key;
  slot = node;
  return node;
}

LazyRef LazyBuffer::load(std::shared_ptr<Buffer> buf, const Shape& shape) {
  if (!buf || buf->numel != prod(shape)) {
    throw ShapeError("load: a buffer of " + (buf ? std::to_string(buf->numel) : std::string("no")) +
                     " elements for shape " + shape_str(shape));
  }
  // Never in the cache (no key): two loads are two pieces of data, even when equal.
  LazyRef node(new LazyBuffer(Op::LOAD, buf->dtype, ShapeTracker::contiguous(shape), {}, {}, nullptr));
  node->buffer_ = std::move(buf);
  return node;
}

LazyRef LazyBuffer::constant(double value, DType dtype, const Shape& shape) {
  OpArg arg;
  arg.value = round_to(dtype, value);
  LazyRef scalar = intern(Op::CONST, dtype, ShapeTracker::contiguous({}), {}, arg, nullptr);
  return scalar->reshape(Shape(shape.size(), 1))->expand(shape);
}

LazyRef LazyBuffer::alu(Op op, const std::vector<LazyRef>& srcs) {
  if (!is_elementwise(op) || static_cast<int>(srcs.size()) != op_arity(op)) {
    throw std::invalid_argument(std::string("alu: ") + op_name(op) + " with " + std::to_string(srcs.size()) +
                                " sources is not an elementwise op");
  }
  const LazyRef& first = srcs[0];
  for (const LazyRef& s : srcs) {
    if (s->shape() != first->shape()) {
      throw ShapeError(std::string(op_name(op)) + ": shapes " + shape_str(first->shape()) + " and " +
                       shape_str(s->shape()) + " differ (broadcast first)");
    }
    if (s->dtype() != first->dtype()) {
      throw std::invalid_argument(std::string(op_name(op)) + ": dtypes " + dtype_name(first->dtype()) + " and " +
                                  dtype_name(s->dtype()) + " differ");
    }
  }
  return intern(op, first->dtype(), ShapeTracker::contiguous(first->shape()), srcs, {}, nullptr);
}

LazyRef LazyBuffer::reduce(Op op, const std::vector<int>& axes) {
  if (op != Op::SUM && op != Op::RMAX) throw std::invalid_argument(std::string("reduce: ") + op_name(op) + " is not a reduce op");
  Shape out = shape();
  std::vector<int64_t> reduced;
  for (int axis : axes) {
    if (axis < 0 || axis >= static_cast<int>(out.size())) {
      throw ShapeError(std::string(op_name(op)) + ": axis " + std::to_string(axis) + " is out of range for shape " +
                       shape_str(shape()));
    }
    if (shape()[axis] != 1 && std::find(reduced.begin(), reduced.end(), axis) == reduced.end()) reduced.push_back(axis);
    out[axis] = 1;
  }
  if (reduced.empty()) return shared_from_this();  // reducing axes of size 1 changes nothing
  std::sort(reduced.begin(), reduced.end());
  OpArg arg;
  arg.ints = reduced;
  return intern(op, dtype_, ShapeTracker::contiguous(out), {shared_from_this()}, arg, nullptr);
}

LazyRef LazyBuffer::view(Op op, ShapeTracker st, OpArg arg) {
  if (st == st_) return shared_from_this();  // the op changed nothing
  LazyRef b = base();
  if (st == b->st_) return b;                // back to the base's own shape and order
  return intern(op, dtype_, std::move(st), {}, std::move(arg), b);
}

LazyRef LazyBuffer::reshape(const Shape& new_shape) {
  OpArg arg;
  arg.ints = new_shape;
  return view(Op::RESHAPE, st_.reshape(new_shape), arg);
}

LazyRef LazyBuffer::permute(const std::vector<int>& order) {
  OpArg arg;
  arg.ints.assign(order.begin(), order.end());
  return view(Op::PERMUTE, st_.permute(order), arg);
}

LazyRef LazyBuffer::expand(const Shape& new_shape) {
  OpArg arg;
  arg.ints = new_shape;
  return view(Op::EXPAND, st_.expand(new_shape), arg);
}

LazyRef LazyBuffer::pad(const Pairs& before_after) {
  OpArg arg;
  arg.pairs = before_after;
  return view(Op::PAD, st_.pad(before_after), arg);
}

LazyRef LazyBuffer::shrink(const Pairs& lo_hi) {
  OpArg arg;
  arg.pairs = lo_hi;
  return view(Op::SHRINK, st_.shrink(lo_hi), arg);
}

LazyRef LazyBuffer::flip(const std::vector<bool>& flipped) {
  OpArg arg;
  arg.ints.assign(flipped.begin(), flipped.end());
  return view(Op::FLIP, st_.flip(flipped), arg);
}

LazyRef LazyBuffer::contiguous() {
  if (!is_view() && realized()) return shared_from_this();
  return intern(Op::CONTIGUOUS, dtype_, ShapeTracker::contiguous(shape()), {shared_from_this()}, {}, nullptr);
}

void LazyBuffer::set_realized(std::shared_ptr<Buffer> buf) {
  if (is_view() || !buf || buf->numel != numel() || buf->dtype != dtype_) {
    throw std::logic_error(std::string("set_realized: ") + (is_view() ? "a view" : "a buffer that does not fit") +
                           " for " + op_name(op_) + " " + shape_str(shape()));
  }
  buffer_ = std::move(buf);
  srcs_.clear();  // the graph behind this node can go now
}

}  // namespace ch04
