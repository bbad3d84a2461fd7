// The lazy op graph: every Tensor op adds an immutable node here and nothing runs until the
// scheduler (schedule/schedule.h) is asked to realize some of them.
//
//   LazyRef a = LazyBuffer::buffer(buf, {2, 3});            // data that exists
//   LazyRef two = LazyBuffer::constant(2.0, DType::kFloat32, "CPU", {2, 3});
//   LazyRef y = LazyBuffer::alu(Op::MUL, {a, two});          // a base node: computes something
//   LazyRef t = y->permute({1, 0});                          // a view node: y's base + a ShapeTracker
//   LazyRef s = t->reduce(Op::SUM, {1});                     // shape (3, 1): reduces keep dims
//   LazyBuffer::alu(Op::MUL, {a, two}) == y                  // hash-consed: the same node
//
// A node is a *base* (op, srcs, arg; shape given by its ShapeTracker) or a *view* of a base (a
// ShapeTracker over the base's elements: movement ops never create bases). Once the scheduler
// realizes a base it holds a Buffer and forgets its sources.
#ifndef TINYREF_LAZY_LAZYBUFFER_H_
#define TINYREF_LAZY_LAZYBUFFER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinyref/backends/device.h"  // Buffer
#include "tinyref/codegen/options.h"  // SplitRule
#include "tinyref/dtype.h"
#include "tinyref/ops.h"
#include "tinyref/shape/shapetracker.h"

namespace tinyref {

class LazyBuffer;
using LazyRef = std::shared_ptr<LazyBuffer>;

// The non-operand arguments of an op.
struct LazyArg {
  std::vector<int64_t> ints;  // RESHAPE/EXPAND: shape; PERMUTE: order; FLIP: 0/1; SUM/RMAX: axes
  Pairs pairs;                // PAD: (before, after); SHRINK: [lo, hi)
  double value = 0;           // CONST
  std::string key() const;
};

class LazyBuffer {
 public:
  // Realized data of the given shape (the buffer's numel must match).
  static LazyRef buffer(std::shared_ptr<Buffer> buf, const Shape& shape, const std::string& device);
  static LazyRef constant(double value, DType dtype, const std::string& device, const Shape& shape);
  // Elementwise op; all sources have one shape. CMPLT/CMPNE give bool; CAST gives `cast_to`.
  static LazyRef alu(Op op, const std::vector<LazyRef>& srcs, DType cast_to = DType::kFloat32);

  LazyRef cast(DType to);
  LazyRef reduce(Op op, const std::vector<int>& axes);  // keeps dims (size 1 on axes)
  LazyRef reshape(const Shape& shape);
  LazyRef permute(const std::vector<int>& order);
  LazyRef expand(const Shape& shape);
  LazyRef pad(const Pairs& before_after);
  LazyRef shrink(const Pairs& lo_hi);
  LazyRef flip(const std::vector<bool>& axes);
  LazyRef contiguous();                     // forces a realize into a row-major buffer
  LazyRef copy_to(const std::string& device);

  Op op() const { return op_; }  // a view reports the movement op that made it
  DType dtype() const { return dtype_; }
  const std::string& device() const { return device_; }
  const ShapeTracker& st() const { return st_; }
  const Shape& shape() const { return st_.shape(); }
  int64_t numel() const { return st_.size(); }
  const std::vector<LazyRef>& srcs() const { return srcs_; }
  const LazyArg& arg() const { return arg_; }
  uint64_t id() const { return id_; }

  bool is_view() const { return base_ != nullptr; }
  LazyBuffer* base() { return base_ ? base_.get() : this; }
  LazyRef base_ref();
  bool realized() const;                      // the base holds a Buffer
  std::shared_ptr<Buffer> realized_buffer();  // the base's Buffer, or null
  // The value of every element, if this is an unmasked view of a constant.
  std::optional<double> const_value();

  // Called by the scheduler once a kernel has written `buf`; drops the sources.
  void set_realized(std::shared_ptr<Buffer> buf);

  ~LazyBuffer();
  LazyBuffer(const LazyBuffer&) = delete;
  LazyBuffer& operator=(const LazyBuffer&) = delete;

 private:
  LazyBuffer() = default;
  static LazyRef intern(Op op, DType dtype, const std::string& device, ShapeTracker st,
                        std::vector<LazyRef> srcs, LazyArg arg, LazyRef base, std::shared_ptr<Buffer> buf);
  LazyRef view(Op op, ShapeTracker st, LazyArg arg);
  // One reduce node over `axes` (sorted, each of extent > 1), giving shape `out`.
  LazyRef reduce_whole(Op op, const std::vector<int64_t>& axes, const Shape& out);

  Op op_ = Op::BUFFER;
  DType dtype_ = DType::kFloat32;
  std::string device_;
  ShapeTracker st_;
  std::vector<LazyRef> srcs_;
  LazyArg arg_;
  LazyRef base_;
  std::shared_ptr<Buffer> buffer_;
  uint64_t id_ = 0;
  std::string key_;
  std::weak_ptr<LazyBuffer> self_;
};

// Long reductions with few outputs leave most of a GPU idle (one block per output, or per tile
// of outputs), so on such a device LazyBuffer::reduce splits them: a first kernel reduces
// chunks of the first reduced axis, a second adds up the partials (tinygrad's split_reduceop,
// smaller). Which devices do is said by the layer that knows devices: the registry calls this
// as it creates a GPU device, with the device's rule (codegen/options.h, reduce_split_rule),
// asked again at each reduce.
void split_long_reductions_on(const std::string& device, std::function<SplitRule()> rule);

// Into how many chunks a reduction of `count` elements into each of `outputs` splits its first
// reduced axis (of `extent`): 1 for none.
//   conv2's weight gradient in MNIST: 25600 outputs, each a sum of 512x20x20 -> 64 chunks of 8
//   images on tensor cores (64x the warps, then a second kernel adds 64 partials per weight),
//   8 chunks of 64 images in float32 (8x the blocks of a group reduce)
int64_t reduce_split(int64_t outputs, int64_t count, int64_t extent, const SplitRule& rule);

// How many distinct nodes are alive (a test hook for hash-consing and for leaks).
size_t live_lazy_nodes();

}  // namespace tinyref

#endif  // TINYREF_LAZY_LAZYBUFFER_H_
