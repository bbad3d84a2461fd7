#include "tinyref/dtype.h"

#include "tinyref/error.h"

namespace tinyref {

namespace {
struct Info {
  size_t size;
  const char* name;
  const char* ctype;
};
constexpr Info kInfo[kNumDTypes] = {
    {1, "bool", "bool"},
    {1, "uint8", "unsigned char"},
    {4, "int32", "int"},
    {4, "float32", "float"},
    {8, "float64", "double"},
};
const Info& info(DType t) { return kInfo[static_cast<int>(t)]; }
}  // namespace

size_t itemsize(DType t) { return info(t).size; }
const char* dtype_name(DType t) { return info(t).name; }
const char* c_type(DType t) { return info(t).ctype; }
bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat64; }
bool is_int(DType t) { return t == DType::kInt32 || t == DType::kUInt8; }
DType promote(DType a, DType b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

DType parse_dtype(const std::string& name) {
  for (int i = 0; i < kNumDTypes; ++i) {
    if (name == kInfo[i].name) return static_cast<DType>(i);
  }
  TT_CHECK(false, "dtype: unknown dtype '" << name << "' (use bool, uint8, int32, float32, float64)");
  return DType::kFloat32;
}

}  // namespace tinyref
