#include "tinyref/ops.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tinyref/dtype.h"
#include "tinyref/error.h"

namespace tinyref {
namespace {

TEST(OpsTable, NamesAreUniqueAndTablesAgree) {
  std::set<std::string> names;
  for (Op op : all_ops()) {
    EXPECT_TRUE(names.insert(op_name(op)).second) << op_name(op);
    switch (op_kind(op)) {
      case OpKind::kUnary: EXPECT_EQ(op_arity(op), 1) << op; break;
      case OpKind::kBinary: EXPECT_EQ(op_arity(op), 2) << op; break;
      case OpKind::kTernary: EXPECT_EQ(op_arity(op), 3) << op; break;
      default: break;
    }
    // Every computing op needs a C++ template for the renderer.
    if (is_elementwise(op) || is_reduce(op)) {
      EXPECT_NE(std::string(op_template(op)), "") << op;
    }
  }
  EXPECT_EQ(static_cast<int>(names.size()), kNumOps);
  EXPECT_EQ(std::string(op_name(Op::ADD)), "ADD");
  EXPECT_EQ(std::string(op_template(Op::MUL)), "($0*$1)");
}

// The flags that lazy, the scheduler, the codegen and autograd read (ops.def) say what their
// old hand-written lists said; a flag set where its kind cannot use it is a slip in ops.def.
TEST(OpsTable, FlagsAgreeWithWhatTheOpsDo) {
  EXPECT_TRUE(op_has(Op::EXP2, kFloatOnly) && op_has(Op::EXP2, kUnsafePad) && op_has(Op::EXP2, kVectorForm));
  EXPECT_TRUE(op_has(Op::MOD, kIntOnly) && op_has(Op::MOD, kUnsafePad) && op_has(Op::MOD, kNoGradient));
  EXPECT_TRUE(op_has(Op::AND, kBoolOnly) && op_has(Op::CMPLT, kBoolResult) && op_has(Op::CMPNE, kBoolResult));
  EXPECT_FALSE(op_has(Op::SIN, kUnsafePad));  // sin(0) = 0: padding may fuse through it
  EXPECT_FALSE(op_has(Op::ADD, kNoGradient));
  for (Op op : all_ops()) {
    const bool computes = is_elementwise(op) || is_reduce(op);
    if (!computes) EXPECT_FALSE(op_has(op, kVectorForm) || op_has(op, kFloatOnly) || op_has(op, kUnsafePad)) << op;
    EXPECT_LE(op_has(op, kFloatOnly) + op_has(op, kIntOnly) + op_has(op, kBoolOnly), 1) << op;
  }
}

TEST(DTypes, PromoteAndParse) {
  EXPECT_EQ(promote(DType::kInt32, DType::kFloat32), DType::kFloat32);
  EXPECT_EQ(promote(DType::kBool, DType::kUInt8), DType::kUInt8);
  EXPECT_EQ(itemsize(DType::kFloat64), 8u);
  EXPECT_EQ(parse_dtype("int32"), DType::kInt32);
  EXPECT_THROW(parse_dtype("float16"), Error);
}

}  // namespace
}  // namespace tinyref
