#include "tinyref/codegen/uops.h"

#include <sstream>

namespace tinyref {

const char* uop_kind_name(UOpKind k) {
  static const char* names[] = {"DEFINE_GLOBAL", "DEFINE_LOCAL", "DEFINE_ACC", "CONST", "RANGE",
                                "END_RANGE",     "LOAD",         "STORE",      "ALU",   "ASSIGN",
                                "VECTORIZE",     "GEP",          "BROADCAST",  "HREDUCE", "SPECIAL",
                                "BARRIER",       "MMA",          "COPY_ASYNC", "ASYNC_COMMIT", "ASYNC_WAIT",
                                "WGMMA",         "WGMMA_FENCE",  "WGMMA_COMMIT", "WGMMA_WAIT", "PROXY_FENCE"};
  return names[static_cast<int>(k)];
}

int64_t shared_array_bytes(const UOp& array) { return (array.arg * itemsize(array.dtype) + 15) / 16 * 16; }

int64_t shared_array_bytes(const Program& program) {
  int64_t bytes = 0;
  for (const UOp& u : program.uops) {
    if (u.kind == UOpKind::kDefineLocal && u.tag != "pack") bytes += shared_array_bytes(u);
  }
  return bytes;
}

std::string Program::to_string() const {
  std::ostringstream os;
  os << name << "\n";
  for (size_t i = 0; i < uops.size(); ++i) {
    const UOp& u = uops[i];
    os << i << " " << uop_kind_name(u.kind);
    if (u.kind == UOpKind::kAlu || u.kind == UOpKind::kHReduce) os << " " << op_name(u.op);
    os << " " << dtype_name(u.dtype);
    if (u.lanes > 1) os << " x" << u.lanes;
    if (u.kind == UOpKind::kConst || u.kind == UOpKind::kDefineAcc) os << " " << u.value;
    if (u.kind == UOpKind::kSpecial) os << " " << u.tag;
    if (u.kind == UOpKind::kRange || u.kind == UOpKind::kSpecial || u.kind == UOpKind::kDefineGlobal || u.kind == UOpKind::kDefineLocal ||
        u.kind == UOpKind::kGep) {
      os << " arg=" << u.arg;
    }
    if (u.parallel) os << " parallel";
    if (!u.src.empty()) {
      os << " (";
      for (size_t j = 0; j < u.src.size(); ++j) os << (j ? ", " : "") << u.src[j];
      os << ")";
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace tinyref
