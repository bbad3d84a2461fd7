// What each elementwise op computes on one element, generated from ops.def's interpreter column.
// The INTERP backend runs kernels with it and the lazy graph folds constants with it, so the
// two can never disagree.
//
//   eval_alu(Op::ADD, DType::kFloat32, DType::kFloat32, 1.0, 2.0)   // 3.0
//   eval_alu(Op::CMPLT, DType::kBool, DType::kInt32, 1, 2)          // 1.0 (true)
//   eval_alu(Op::CAST, DType::kInt32, DType::kFloat32, -2.7)        // -2.0 (C truncation)
//
// Values travel as double (exact for every int32, uint8 and bool); the result is rounded to
// the output dtype as the compiled C++ would store it.
#ifndef TINYREF_OPS_EVAL_H_
#define TINYREF_OPS_EVAL_H_

#include <cmath>
#include <cstdint>
#include <limits>

#include "tinyref/dtype.h"
#include "tinyref/ops.h"

namespace tinyref {

namespace ops_eval_detail {
// C semantics (truncation toward zero); a zero divisor gives 0 instead of trapping.
inline int64_t tt_idiv(int64_t a, int64_t b) { return b == 0 ? 0 : a / b; }
inline int64_t tt_mod(int64_t a, int64_t b) { return b == 0 ? 0 : a % b; }
inline double tt_idiv(double a, double b) { return std::trunc(a / b); }
inline double tt_mod(double a, double b) { return std::fmod(a, b); }

template <typename T>
T apply(Op op, T a, T b, T c) {
  (void)b;
  (void)c;
  switch (op) {
#define OP(NAME, ARITY, KIND, FLAGS, TEMPLATE, INTERP) \
  case Op::NAME:                                \
    return static_cast<T>(INTERP);
#include "tinyref/ops.def"
#undef OP
  }
  return a;
}
}  // namespace ops_eval_detail

// Rounds v to what a variable of dtype t holds.
inline double round_to(DType t, double v) {
  switch (t) {
    case DType::kBool: return v != 0 ? 1.0 : 0.0;
    case DType::kUInt8: return static_cast<double>(static_cast<uint8_t>(static_cast<int64_t>(v)));
    case DType::kInt32: return static_cast<double>(static_cast<int32_t>(static_cast<int64_t>(v)));
    case DType::kFloat32: return static_cast<double>(static_cast<float>(v));
    case DType::kFloat64: return v;
  }
  return v;
}

// What a reduce starts from, which is also its value over no elements at all: 0 for SUM; for
// RMAX the lowest value of the dtype (-inf for floats), which any element replaces.
inline double reduce_identity(Op op, DType t) {
  if (op == Op::SUM) return 0;
  switch (t) {
    case DType::kFloat32:
    case DType::kFloat64: return -std::numeric_limits<double>::infinity();
    case DType::kInt32: return std::numeric_limits<int32_t>::min();
    default: return 0;
  }
}

// `in` is the operands' dtype (for WHERE: the dtype of the two values), `out` the result's.
inline double eval_alu(Op op, DType out, DType in, double a, double b = 0, double c = 0) {
  if (op == Op::CAST) return round_to(out, is_float(in) || is_float(out) ? a : std::trunc(a));
  if (is_float(in) && op != Op::WHERE) return round_to(out, ops_eval_detail::apply<double>(op, a, b, c));
  if (op == Op::WHERE) return round_to(out, a != 0 ? b : c);
  if (is_float(out)) return round_to(out, ops_eval_detail::apply<double>(op, a, b, c));
  const int64_t r = ops_eval_detail::apply<int64_t>(op, static_cast<int64_t>(a), static_cast<int64_t>(b),
                                                    static_cast<int64_t>(c));
  return round_to(out, static_cast<double>(r));
}

}  // namespace tinyref

#endif  // TINYREF_OPS_EVAL_H_
