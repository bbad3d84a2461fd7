// The op enum and its tables, all generated from ops.def with X-macros.
//
//   Op op = Op::ADD;
//   op_name(op)       // "ADD"
//   op_arity(op)      // 2
//   op_kind(op)       // OpKind::kBinary
//   op_template(op)   // "($0+$1)": the C++ renderer substitutes operands for $0 and $1
//   op_has(Op::DIV, kUnsafePad)   // true: DIV(0, 0) is not 0 (the flags are listed in ops.def)
//   for (Op o : all_ops()) ...   // every op, in ops.def order
//
// A new line in ops.def changes kNumOps; the static_assert below makes you look at every table
// that must grow with it (the conformance table and the autograd rules check themselves).
#ifndef TINYREF_OPS_H_
#define TINYREF_OPS_H_

#include <array>
#include <ostream>

namespace tinyref {

enum class OpKind { kUnary, kBinary, kTernary, kReduce, kMovement, kBuffer };

// What the rest of tinyref asks about an op; each is explained in ops.def.
enum OpFlag : unsigned {
  kNone = 0,
  kFloatOnly = 1u << 0,
  kIntOnly = 1u << 1,
  kBoolOnly = 1u << 2,
  kBoolResult = 1u << 3,
  kUnsafePad = 1u << 4,
  kVectorForm = 1u << 5,
  kNoGradient = 1u << 6,
};

enum class Op {
#define OP(NAME, ARITY, KIND, FLAGS, TEMPLATE, INTERP) NAME,
#include "tinyref/ops.def"
#undef OP
};

inline constexpr int kNumOps = 0
#define OP(NAME, ARITY, KIND, FLAGS, TEMPLATE, INTERP) +1
#include "tinyref/ops.def"
#undef OP
    ;
static_assert(kNumOps == 32, "ops.def changed: update the conformance table, autograd rules, "
                             "the renderer prefix and this count");

const char* op_name(Op op);  // "ADD"
int op_arity(Op op);
OpKind op_kind(Op op);
const char* op_template(Op op);
bool op_has(Op op, OpFlag flag);
const std::array<Op, kNumOps>& all_ops();

// Elementwise = unary, binary or ternary: these fuse freely into one kernel.
inline bool is_elementwise(Op op) {
  OpKind k = op_kind(op);
  return k == OpKind::kUnary || k == OpKind::kBinary || k == OpKind::kTernary;
}
inline bool is_movement(Op op) { return op_kind(op) == OpKind::kMovement; }
inline bool is_reduce(Op op) { return op_kind(op) == OpKind::kReduce; }

std::ostream& operator<<(std::ostream& os, Op op);

}  // namespace tinyref

#endif  // TINYREF_OPS_H_
