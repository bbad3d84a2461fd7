// Given: the names of the uop kinds and the text form of a program.
#include "ch06/uops.h"

#include <sstream>

namespace ch06 {

const char* uop_kind_name(UOpKind kind) {
  switch (kind) {
    case UOpKind::kDefineGlobal: return "DEFINE_GLOBAL";
    case UOpKind::kRange: return "RANGE";
    case UOpKind::kEndRange: return "END_RANGE";
    case UOpKind::kConst: return "CONST";
    case UOpKind::kLoad: return "LOAD";
    case UOpKind::kAlu: return "ALU";
    case UOpKind::kDefineAcc: return "DEFINE_ACC";
    case UOpKind::kAccumulate: return "ACCUMULATE";
    case UOpKind::kStore: return "STORE";
    case UOpKind::kSpecial: return "SPECIAL";
  }
  return "?";
}

std::string to_string(const Program& program) {
  std::ostringstream os;
  os << program.name << (program.opts.empty() ? "" : " (" + program.opts + ")") << "\n";
  for (size_t i = 0; i < program.uops.size(); ++i) {
    const UOp& u = program.uops[i];
    os << i << " " << uop_kind_name(u.kind);
    switch (u.kind) {
      case UOpKind::kDefineGlobal: os << " " << ch04::dtype_name(u.dtype) << " buf" << u.buffer; break;
      case UOpKind::kRange:
        os << " " << u.var << " < " << u.extent;
        if (u.parallel > 0) os << " parallel " << u.parallel;
        break;
      case UOpKind::kConst: os << " " << ch04::dtype_name(u.dtype) << " " << u.value; break;
      case UOpKind::kLoad:
      case UOpKind::kStore:
        os << " " << ch04::dtype_name(u.dtype) << " buf" << u.buffer << "[" << ch04::render(u.index) << "]";
        break;
      case UOpKind::kAlu:
      case UOpKind::kAccumulate: os << " " << ch04::op_name(u.op) << " " << ch04::dtype_name(u.dtype); break;
      case UOpKind::kDefineAcc: os << " " << ch04::op_name(u.op) << " " << ch04::dtype_name(u.dtype) << " " << u.value; break;
      default: break;
    }
    if (!u.src.empty()) {
      os << " (";
      for (size_t s = 0; s < u.src.size(); ++s) os << (s ? ", " : "") << u.src[s];
      os << ")";
    }
    if (u.valid) os << " if " << ch04::render(u.valid);
    os << "\n";
  }
  return os.str();
}

}  // namespace ch06
