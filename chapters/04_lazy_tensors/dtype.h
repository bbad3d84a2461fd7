// The element types of chapter 4's tensors: float32 for training, float64 for gradient checks.
//
//   DType t = DType::kFloat32;
//   itemsize(t)           // 4 bytes
//   dtype_name(t)         // "float32"
//
// There is no bool or integer dtype: a comparison (CMPLT, CMPNE) gives 0.0 or 1.0 in its
// operands' dtype, and a class label is a float holding a whole number. Two dtypes keep every
// kernel a template over float and double, and nothing else.
#ifndef CH04_DTYPE_H_
#define CH04_DTYPE_H_

#include <cstddef>

namespace ch04 {

enum class DType { kFloat32, kFloat64 };

inline size_t itemsize(DType t) { return t == DType::kFloat32 ? 4 : 8; }
inline const char* dtype_name(DType t) { return t == DType::kFloat32 ? "float32" : "float64"; }

}  // namespace ch04

#endif  // CH04_DTYPE_H_
