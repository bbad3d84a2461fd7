// The op enum and its tables, all generated from ops.def with X-macros.
//
//   Op op = Op::ADD;
//   op_name(op)       // "ADD"
//   op_arity(op)      // 2
//   op_kind(op)       // OpKind::kBinary
//   op_template(op)   // "($0+$1)": the C++ renderer substitutes operands for $0 and $1
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

enum class Op {
#define OP(NAME, ARITY, KIND, TEMPLATE, INTERP) NAME,
#include "tinyref/ops.def"
#undef OP
};

inline constexpr int kNumOps = 0
#define OP(NAME, ARITY, KIND, TEMPLATE, INTERP) +1
#include "tinyref/ops.def"
#undef OP
    ;
static_assert(kNumOps == 32, "ops.def changed: update the conformance table, autograd rules, "
                             "the renderer prefix and this count");

const char* op_name(Op op);  // "ADD"
int op_arity(Op op);
OpKind op_kind(Op op);
const char* op_template(Op op);
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
