// Emitting uops (uops.h) into a Program: each instruction once (common subexpressions are
// shared within the loop that computed them), and arithmetic on values that are either one
// uop, scalar or vector, or one scalar uop per SIMD lane. The linearizer (linearizer.h) builds
// every kernel through it; it knows nothing of kernels, ASTs or ShapeTrackers.
//
//   UOpBuilder b(/*width=*/8);                          // the SIMD width of vector values
//   UOpBuilder::Val x{b.const_of(2, DType::kFloat32)};
//   UOpBuilder::Val y = b.alu(Op::MUL, DType::kFloat32, {x, x});
//   b.const_of(2, DType::kFloat32) == x.id              // emitted once
//   b.open_scope();  /* a RANGE and its body */  b.close_scope();   // the body's values forgotten
//   b.remember("n7@0", y);  b.recall("n7@0")->id == y.id            // until its scope closes
//   Program p = b.take();
#ifndef TINYREF_CODEGEN_UOP_BUILDER_H_
#define TINYREF_CODEGEN_UOP_BUILDER_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tinyref/codegen/uops.h"

namespace tinyref {

class UOpBuilder {
 public:
  // A value: one uop (scalar or vector; id), or one scalar uop per SIMD lane (lanes).
  struct Val {
    int id = -1;
    std::vector<int> lanes;
  };

  explicit UOpBuilder(int width = 1) : width_(width) {}
  void set_width(int width) { width_ = width; }
  int simd_width() const { return width_; }

  Program& program() { return p_; }
  const UOp& uop(int id) const { return p_.uops[id]; }
  Program take() { return std::move(p_); }

  // Appends u, or returns the earlier equal uop if one is still in scope. Loads through an
  // accumulator or a non-staged local buffer are never shared: their values change.
  int emit(const UOp& u);
  int emit_typed(UOpKind kind, DType dt, std::vector<int> src, int lanes = 1, int64_t arg = 0);
  int const_of(double v, DType dt);
  int int_const(int64_t v) { return const_of(static_cast<double>(v), DType::kInt32); }
  int alu_uop(Op op, DType dt, int lanes, std::vector<int> src);
  int define_acc(DType dt, double init, int lanes = 1);
  void accumulate(int acc, Op combine, DType dt, int value);  // acc = acc (combine) value

  // A loop body: open before emitting its RANGE; close after its END_RANGE. Closing forgets
  // the uops and the values remembered inside. Returns the first uop of the scope.
  void open_scope() { scopes_.push_back(p_.uops.size()); }
  int close_scope();

  // A value under a caller's key (the linearizer's: an AST node at one unrolled position),
  // until the scope that made its first uop closes. recall: nullptr if none.
  void remember(const std::string& key, const Val& v) { values_[key] = v; }
  const Val* recall(const std::string& key) const;

  int width(const Val& v) const;  // lanes of v
  DType dtype(const Val& v) const;
  int as_vector(const Val& v);    // v as one vector uop of the SIMD width
  int lane(const Val& v, int l);  // lane l of v as a scalar uop
  // op over values of any widths: scalar, vector (where the op has a vector form), else lane
  // by lane.
  Val alu(Op op, DType out, const std::vector<Val>& src);

 private:
  Program p_;
  int width_;
  std::unordered_map<std::string, int> cse_;
  std::unordered_map<std::string, Val> values_;
  std::vector<size_t> scopes_;
};

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_UOP_BUILDER_H_
