#include "tinyref/ops.h"

namespace tinyref {

namespace {
struct OpInfo {
  const char* name;
  int arity;
  OpKind kind;
  unsigned flags;
  const char* tmpl;
};
constexpr OpInfo kOpInfo[kNumOps] = {
#define OP(NAME, ARITY, KIND, FLAGS, TEMPLATE, INTERP) {#NAME, ARITY, OpKind::k##KIND, FLAGS, TEMPLATE},
#include "tinyref/ops.def"
#undef OP
};
}  // namespace

const char* op_name(Op op) { return kOpInfo[static_cast<int>(op)].name; }
int op_arity(Op op) { return kOpInfo[static_cast<int>(op)].arity; }
OpKind op_kind(Op op) { return kOpInfo[static_cast<int>(op)].kind; }
const char* op_template(Op op) { return kOpInfo[static_cast<int>(op)].tmpl; }
bool op_has(Op op, OpFlag flag) { return (kOpInfo[static_cast<int>(op)].flags & flag) != 0; }

const std::array<Op, kNumOps>& all_ops() {
  static const std::array<Op, kNumOps> ops = [] {
    std::array<Op, kNumOps> a{};
    for (int i = 0; i < kNumOps; ++i) a[i] = static_cast<Op>(i);
    return a;
  }();
  return ops;
}

std::ostream& operator<<(std::ostream& os, Op op) { return os << op_name(op); }

}  // namespace tinyref
