// The lazy graph: every tensor op records a node here, and nothing is computed until an
// Engine (realize.h) is asked for some of them.
//
//   auto buf = std::make_shared<Buffer>(DType::kFloat32, 6);      // host memory, 6 floats
//   LazyRef a = LazyBuffer::load(buf, {2, 3});                     // data that exists
//   LazyRef two = LazyBuffer::constant(2.0, DType::kFloat32, {2, 3});
//   LazyRef y = LazyBuffer::alu(Op::MUL, {a, two});   // a base: MUL of a and two, not computed
//   LazyRef t = y->permute({1, 0});                    // a view: y's base read through a ShapeTracker
//   LazyRef s = t->reduce(Op::SUM, {1});               // (3, 1): reductions keep their axes
//   LazyBuffer::alu(Op::MUL, {a, two}) == y            // true: identical nodes are shared
//   realize({s});                                      // now s's base holds a Buffer
//
// A node is either a *base*, which computes something (op, sources, argument; its own
// contiguous ShapeTracker), or a *view*, a base read through a ShapeTracker: movement ops only
// ever make views, never copy. CONST is a base of shape () that views reshape and expand
// (stride 0), so a constant of any shape costs nothing. Realizing a base gives it a Buffer and
// makes it forget its sources (so the graph behind it can be freed); a LOAD is born realized.
//
// Hash-consing: asking twice for the same op on the same sources with the same argument
// returns the same node (while it is alive), so a shared subexpression is computed once.
#ifndef CH04_LAZY_H_
#define CH04_LAZY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ch04/dtype.h"
#include "ch04/shapetracker.h"

namespace ch04 {

// ---------------------------------------------------------------------------- ops

enum class Op {
  NEG, EXP2, LOG2, SIN, SQRT, RECIP,         // unary: one source
  ADD, SUB, MUL, DIV, MAX, CMPLT, CMPNE,     // binary: two sources (comparisons give 0 or 1)
  WHERE,                                     // ternary: where(cond != 0, a, b)
  SUM, RMAX,                                 // reduce: over the axes in the argument
  RESHAPE, PERMUTE, EXPAND, PAD, SHRINK, FLIP,  // movement: views, never bases
  LOAD, CONST, CONTIGUOUS,                   // data that exists, a constant, a forced copy
};
enum class OpKind { kUnary, kBinary, kTernary, kReduce, kMovement, kBuffer };

OpKind op_kind(Op op);
const char* op_name(Op op);  // "ADD"
int op_arity(Op op);         // sources of a base with this op: 1, 2, 3; 0 for LOAD and CONST
inline bool is_elementwise(Op op) {
  const OpKind k = op_kind(op);
  return k == OpKind::kUnary || k == OpKind::kBinary || k == OpKind::kTernary;
}

// The non-source arguments of an op (empty for elementwise ops).
struct OpArg {
  std::vector<int64_t> ints;  // SUM/RMAX: axes; RESHAPE/EXPAND: new shape; PERMUTE: order;
                              // FLIP: 1 per flipped axis, 0 otherwise
  Pairs pairs;                // PAD: (before, after); SHRINK: [lo, hi)
  double value = 0;           // CONST
  bool operator==(const OpArg& other) const = default;
  std::string str() const;    // for hash-consing keys and messages
};

// ---------------------------------------------------------------------------- buffers

// Kernels run and buffers allocated since the program started (or since a test reset it):
// the proofs of laziness (no kernel before realize), of zero-copy (a movement op allocates
// nothing) and, in chapter 5, of fusion (fewer kernels).
struct Stats {
  int64_t kernels = 0;  // engines add one per kernel they run (the interpreter: per op)
  int64_t buffers = 0;  // Buffer's constructor adds one...
  int64_t bytes = 0;    // ...and its size
};
Stats& stats();

struct Buffer;

// Chapter 8's hook: a Buffer whose current value lives on a device. Chapters 4-6 never set it.
class DeviceCopy {
 public:
  virtual ~DeviceCopy() = default;
  // Copies the device's value into host.host_bytes() (called by Buffer::host()).
  virtual void copy_to_host(Buffer& host) = 0;
};

// numel elements of one dtype in host memory (not initialized), plus an optional device copy.
struct Buffer {
  Buffer(DType dtype, int64_t numel);
  ~Buffer();  // large bytes go back to a pool for the next Buffer of that size (lazy.cc)
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  const DType dtype;
  const int64_t numel;
  std::shared_ptr<DeviceCopy> device;  // chapter 8: where the current value lives
  bool host_valid = true;              // false: host() copies from `device` first

  size_t nbytes() const { return static_cast<size_t>(numel) * itemsize(dtype); }
  std::byte* host();                   // the host bytes, synced from the device if needed
  std::byte* host_bytes() { return bytes_.get(); }  // the host bytes as they are (no sync)
  // Typed access; T must be float for float32 and double for float64 (else invalid_argument).
  template <typename T>
  T* data();
  double get(int64_t i);
  void set(int64_t i, double value);

 private:
  std::unique_ptr<std::byte[]> bytes_;
};

// ---------------------------------------------------------------------------- the graph

class LazyBuffer;
using LazyRef = std::shared_ptr<LazyBuffer>;

class LazyBuffer : public std::enable_shared_from_this<LazyBuffer> {
 public:
  // ch04.4: data that exists: a realized LOAD base of this shape (buf->numel must match).
  // Every call makes a new node (two loads are never the same data).
  static LazyRef load(std::shared_ptr<Buffer> buf, const Shape& shape);
  // ch04.4: a CONST base of shape () holding value (rounded to dtype), reshaped and expanded
  // to `shape`.
  static LazyRef constant(double value, DType dtype, const Shape& shape);
  // ch04.4: an elementwise base. All sources have one shape and one dtype (else ShapeError /
  // std::invalid_argument naming the op); the result has that shape and dtype.
  static LazyRef alu(Op op, const std::vector<LazyRef>& srcs);

  // ch04.4: a SUM or RMAX base over `axes` (each in [0, ndim), repeats ignored); the result
  // keeps the reduced axes with size 1. No axes: this node itself.
  LazyRef reduce(Op op, const std::vector<int>& axes);
  // ch04.4: views of this node's base: the ShapeTracker op applied to this node's st(). An op
  // that changes nothing (same shape, identity order, zero padding, ...) returns this node.
  // Shapes:
  LazyRef reshape(const Shape& new_shape);
  LazyRef expand(const Shape& new_shape);
  // Axes, in a new order or flagged to run backwards:
  LazyRef permute(const std::vector<int>& order);
  LazyRef flip(const std::vector<bool>& flipped);
  // Per axis, zeros added (before, after), or the range [lo, hi) kept:
  LazyRef pad(const Pairs& before_after);
  LazyRef shrink(const Pairs& lo_hi);
  // A CONTIGUOUS base reading this node in row-major order (a copy when realized); a realized
  // base is returned as it is.
  LazyRef contiguous();

  Op op() const { return op_; }          // a view: the movement op that made it
  DType dtype() const { return dtype_; }
  const ShapeTracker& st() const { return st_; }  // a base: contiguous of its shape
  const Shape& shape() const { return st_.shape(); }
  int64_t numel() const { return st_.numel(); }
  const std::vector<LazyRef>& srcs() const { return srcs_; }
  const OpArg& arg() const { return arg_; }
  uint64_t id() const { return id_; }    // unique for the life of the program

  bool is_view() const { return base_ != nullptr; }
  // The base this node reads (itself for a base).
  LazyRef base() { return base_ ? base_ : shared_from_this(); }
  const LazyBuffer& base_node() const { return base_ ? *base_ : *this; }
  bool realized() const { return base_node().buffer_ != nullptr; }
  // The base's Buffer, or null before realize.
  const std::shared_ptr<Buffer>& buffer() const { return base_node().buffer_; }
  // The value of every element if this node reads an unrealized CONST without padding.
  std::optional<double> const_value() const;

  // ch04.4: called by an Engine on a base once its value is in `buf`: keep the buffer and
  // forget the sources (they are no longer needed, and holding them would keep the whole
  // graph behind this node alive).
  void set_realized(std::shared_ptr<Buffer> buf);

  // How many LazyBuffer nodes exist right now: a test hook for sharing and for leaks.
  static int64_t live_nodes();

  ~LazyBuffer();
  LazyBuffer(const LazyBuffer&) = delete;
  LazyBuffer& operator=(const LazyBuffer&) = delete;

 private:
  // Every node is born here: it takes the next id and counts itself in live_nodes().
  LazyBuffer(Op op, DType dtype, ShapeTracker st, std::vector<LazyRef> srcs, OpArg arg, LazyRef base);
  // The hash-consing constructor: the live node with the same key, or a new one.
  static LazyRef intern(Op op, DType dtype, ShapeTracker st, std::vector<LazyRef> srcs, OpArg arg,
                        LazyRef base);
  // A view of this node's base through st (the base itself when st is the base's own).
  LazyRef view(Op op, ShapeTracker st, OpArg arg);

  Op op_ = Op::LOAD;
  DType dtype_ = DType::kFloat32;
  ShapeTracker st_;
  std::vector<LazyRef> srcs_;
  OpArg arg_;
  LazyRef base_;                   // set for a view
  std::shared_ptr<Buffer> buffer_;  // set for a realized base
  uint64_t id_ = 0;
  std::string key_;                // the hash-consing key; empty for a load
};

}  // namespace ch04

#endif  // CH04_LAZY_H_
