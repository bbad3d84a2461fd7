// The five element types tinyref computes with, and what each costs in memory and in C++.
//
//   DType t = DType::kFloat32;
//   itemsize(t)            // 4
//   dtype_name(t)          // "float32"
//   c_type(t)              // "float": what a generated kernel declares
//   promote(DType::kInt32, DType::kFloat32)   // kFloat32: the wider of the two, as numpy does
//
// bool and uint8 are one byte each; float64 exists so gradient checks can run at full precision.
#ifndef TINYREF_DTYPE_H_
#define TINYREF_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace tinyref {

// Ordered by promotion rank: promote() returns the later of two.
enum class DType : uint8_t { kBool, kUInt8, kInt32, kFloat32, kFloat64 };

inline constexpr int kNumDTypes = 5;

size_t itemsize(DType t);
const char* dtype_name(DType t);  // "float32"
const char* c_type(DType t);      // "float"
bool is_float(DType t);
bool is_int(DType t);  // int32 and uint8 (not bool)
DType promote(DType a, DType b);
DType parse_dtype(const std::string& name);  // throws tinyref::Error on unknown names

// The C++ type that holds one element of T on the host: to_vector<T>() and from_vector check it.
template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::kFloat32; }
template <>
constexpr DType dtype_of<double>() { return DType::kFloat64; }
template <>
constexpr DType dtype_of<int32_t>() { return DType::kInt32; }
template <>
constexpr DType dtype_of<uint8_t>() { return DType::kUInt8; }
template <>
constexpr DType dtype_of<bool>() { return DType::kBool; }

}  // namespace tinyref

#endif  // TINYREF_DTYPE_H_
