#include "ch04/lazy.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "chapters/course.h"

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

[[maybe_unused]] double round_to(DType dtype, double v) { return dtype == DType::kFloat32 ? static_cast<float>(v) : v; }

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

// ---------------------------------------------------------------------------- ch04.4: the graph
//
// TODO(ch04.4): the factories, the views and hash-consing. Every node but a load is made by
// intern(), which first looks in cache() for a live node with the same key: the key must tell
// apart everything that makes two nodes compute different things (op, dtype, shape, which
// sources, the argument; for a view, its base and its ShapeTracker). Name sources by their
// id_, never by address: an address is reused once a node is freed. A new node comes from the
// private constructor above (which gives it an id and counts it), keeps its key in key_ (the
// destructor uses it) and goes into cache().

LazyRef LazyBuffer::intern(Op op, DType dtype, ShapeTracker st, std::vector<LazyRef> srcs, OpArg arg, LazyRef base) {
  throw course::NotImplemented("ch04.4: LazyBuffer::intern (hash-consing)");
}

LazyRef LazyBuffer::load(std::shared_ptr<Buffer> buf, const Shape& shape) {
  throw course::NotImplemented("ch04.4: LazyBuffer::load");
}

LazyRef LazyBuffer::constant(double value, DType dtype, const Shape& shape) {
  throw course::NotImplemented("ch04.4: LazyBuffer::constant");
}

LazyRef LazyBuffer::alu(Op op, const std::vector<LazyRef>& srcs) {
  throw course::NotImplemented("ch04.4: LazyBuffer::alu");
}

LazyRef LazyBuffer::reduce(Op op, const std::vector<int>& axes) {
  throw course::NotImplemented("ch04.4: LazyBuffer::reduce");
}

// The movement ops below all end here: a view of this node's base through `st`.
LazyRef LazyBuffer::view(Op op, ShapeTracker st, OpArg arg) {
  throw course::NotImplemented("ch04.4: LazyBuffer::view");
}

LazyRef LazyBuffer::reshape(const Shape& new_shape) { throw course::NotImplemented("ch04.4: LazyBuffer::reshape"); }

LazyRef LazyBuffer::permute(const std::vector<int>& order) {
  throw course::NotImplemented("ch04.4: LazyBuffer::permute");
}

LazyRef LazyBuffer::expand(const Shape& new_shape) { throw course::NotImplemented("ch04.4: LazyBuffer::expand"); }

LazyRef LazyBuffer::pad(const Pairs& before_after) { throw course::NotImplemented("ch04.4: LazyBuffer::pad"); }

LazyRef LazyBuffer::shrink(const Pairs& lo_hi) { throw course::NotImplemented("ch04.4: LazyBuffer::shrink"); }

LazyRef LazyBuffer::flip(const std::vector<bool>& flipped) { throw course::NotImplemented("ch04.4: LazyBuffer::flip"); }

LazyRef LazyBuffer::contiguous() { throw course::NotImplemented("ch04.4: LazyBuffer::contiguous"); }

void LazyBuffer::set_realized(std::shared_ptr<Buffer> buf) {
  throw course::NotImplemented("ch04.4: LazyBuffer::set_realized");
}

}  // namespace ch04
