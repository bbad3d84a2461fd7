// A kernel as a nest of loops: what chapter 6's optimizations rearrange before any code exists.
//
//   relu(x @ w + b), x (8, 16), w (16, 4): the ch05 kernel's full shape is (8, 4, 16)
//
//   LoopKernel k(kernel);
//   k.describe()      // "gidx0<8 gidx1<4 ridx0<16": two output loops, then the reduce loop
//   k.index(1)        // x's position and validity: {(gidx0*16)+ridx0, 1}
//   k.split(1, 2, LoopKind::kUpcast);
//   k.describe()      // "gidx1<2 ... up0<2": gidx1 now steps by 2, up0 picks one of the two
//   k.dims[1]         // (gidx1*2)+up0: the output column, in terms of the loops
//
// Every dimension of the full shape is an expression of loop variables (dims[d]); each leaf
// (the STORE, every LOAD and CONST) reads through its ShapeTracker, so its position is
// sts[i].to_expr(dims). Splitting a loop only rewrites dims; moving one only reorders loops:
// neither can change what the kernel computes, which is why optimizations are safe to try.
// A split whose amount does not divide the extent adds a guard (outer*amount + inner < extent)
// that the generated code checks: the tail.
//
// Loop kinds, and where the linearizer puts them:
//   kGlobal   an output loop                       for (gidx...) {   outermost; the first ones
//                                                                   may run on several threads
//   kReduce   a reduce loop                        for (ridx...) {   inside the output loops
//   kUpcast   an output dimension, unrolled        no loop: one value (and accumulator) per
//                                                  position, computed side by side
//   kUnroll   a reduce dimension, unrolled         no loop: one partial accumulator per position,
//                                                  combined after the reduce loops
#ifndef CH06_LOOP_KERNEL_H_
#define CH06_LOOP_KERNEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ch04/shapetracker.h"
#include "ch05/kernel.h"
#include "ch06/simplify.h"

namespace ch06 {

enum class LoopKind { kGlobal, kReduce, kUpcast, kUnroll };
const char* loop_kind_name(LoopKind kind);  // "global"
inline bool is_loop(LoopKind kind) { return kind == LoopKind::kGlobal || kind == LoopKind::kReduce; }
inline bool is_reduce_kind(LoopKind kind) { return kind == LoopKind::kReduce || kind == LoopKind::kUnroll; }

struct Loop {
  std::string var;  // gidx0, ridx0, up0, un0: the C++ variable (upcast/unroll: never printed)
  int64_t extent = 1;
  LoopKind kind = LoopKind::kGlobal;
  // 0..extent-1 (a loop of extent 0 runs no iteration: any value will do, so 0..0)
  Expr variable() const { return ch04::var(var, 0, extent > 0 ? extent - 1 : 0); }
};

class LoopKernel {
 public:
  // ch06.2: the loops of a ch05 kernel: one per dimension of its full shape, reduced
  // dimensions moved after the output ones, dimensions of extent 1 dropped, and neighbouring
  // dimensions of one kind merged wherever every leaf's ShapeTracker reads them as one
  // (no new View). Throws std::invalid_argument for a malformed kernel (ch05::verify).
  explicit LoopKernel(const ch05::Kernel& kernel);

  std::string name;                             // the ch05 kernel's name
  ch05::NodeRef ast;                            // keeps the nodes below alive
  std::vector<ch04::DType> buffers;             // each buffer's dtype; [0] is written
  std::vector<const ch05::KernelNode*> leaves;  // [0] the STORE, then each LOAD and CONST once
  std::vector<ch04::ShapeTracker> sts;          // their ShapeTrackers, of `shape`
  ch04::Shape shape;                            // the full shape after dropping and merging
  std::vector<bool> reduced;                    // per dimension of `shape`
  std::vector<Loop> loops;                      // nesting order
  std::vector<Expr> dims;                       // per dimension: its index from loop variables
  std::vector<Expr> guards;                     // what an iteration must satisfy (split tails)
  int parallel = 0;                             // the first `parallel` loops are shared by threads
  std::vector<std::string> applied;             // optimizations, in order: "upcast gidx1 8"
  int64_t flops = 0;                            // arithmetic of one run, for CH06_DEBUG=2

  const ch05::KernelNode* reduce() const { return reduce_; }

  // ch06.2: loop l (extent e) becomes an outer loop of ceil(e / amount) iterations, keeping
  // its name and place, and an inner one of `amount` of `kind`, named afresh and placed right
  // after it (a loop kind) or last (kUpcast, kUnroll). dims and guards are rewritten through
  // var := outer * amount + inner; an amount that does not divide e adds the guard
  // outer * amount + inner < e. An outer loop of one iteration disappears (its variable is 0).
  // Returns the inner loop's position.
  size_t split(size_t l, int64_t amount, LoopKind kind);
  // Moves loop `from` to position `to` (the others keep their order).
  void move(size_t from, size_t to);

  // The leaf's {position, validity} in terms of the loop variables, simplified, with the
  // variables in `fixed` replaced by those values (the linearizer fixes unrolled loops).
  std::pair<Expr, Expr> index(size_t leaf, const std::map<std::string, int64_t>& fixed = {}) const;
  // How far leaf's position moves per iteration of loop l: 0 (it is reused), 1 (stride-1),
  // or nullopt where no one number says (a second View's div or mod in the way). Padding is
  // ignored: a padded row is still read stride-1 where it is valid.
  std::optional<int64_t> stride(size_t leaf, size_t l) const;
  // Which loop holds variable `var` (loops.size() if none).
  size_t find(const std::string& var) const;
  // Product of the extents of the loops of this kind.
  int64_t extent_of(LoopKind kind) const;
  // "gidx0<8 gidx1<4 ridx0<16 up0<4(upcast)", plus guards: for messages and debug output.
  std::string describe() const;

 private:
  std::string fresh_name(LoopKind kind);
  const ch05::KernelNode* reduce_ = nullptr;
  std::map<std::string, int> counters_;  // per name prefix: the next free number
};

}  // namespace ch06

#endif  // CH06_LOOP_KERNEL_H_
