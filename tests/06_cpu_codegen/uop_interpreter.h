// Runs a chapter 6 Program (uops.h) directly, the way its rendered C++ would run, with every
// index checked: the linearizer's tests need neither the renderer nor a compiler, and an index
// outside a buffer is a clear failure instead of a crash.
//
//   std::vector<std::vector<double>> bufs = {out, in1, in2};   // buffer 0 is written
//   std::string error = uop_interpreter::run(program, bufs);   // "" or what went wrong
//
// float32 values are rounded to float after every op, as the C++ computes them. Header-only: it
// reads chapter 6's Program, so it compiles with whichever chapter 6 a test links.
#ifndef TESTS_06_CPU_CODEGEN_UOP_INTERPRETER_H_
#define TESTS_06_CPU_CODEGEN_UOP_INTERPRETER_H_

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "ch06/uops.h"

namespace uop_interpreter {

inline double alu_value(ch04::Op op, const std::vector<double>& a) {
  using ch04::Op;
  switch (op) {
    case Op::NEG: return -a[0];
    case Op::EXP2: return std::exp2(a[0]);
    case Op::LOG2: return std::log2(a[0]);
    case Op::SIN: return std::sin(a[0]);
    case Op::SQRT: return std::sqrt(a[0]);
    case Op::RECIP: return 1 / a[0];
    case Op::ADD: return a[0] + a[1];
    case Op::SUB: return a[0] - a[1];
    case Op::MUL: return a[0] * a[1];
    case Op::DIV: return a[0] / a[1];
    case Op::MAX: return a[0] > a[1] ? a[0] : a[1];
    case Op::CMPLT: return a[0] < a[1] ? 1 : 0;
    case Op::CMPNE: return a[0] != a[1] ? 1 : 0;
    case Op::WHERE: return a[0] != 0 ? a[1] : a[2];
    default: throw std::invalid_argument(std::string("not an elementwise op: ") + ch04::op_name(op));
  }
}

inline std::string run(const ch06::Program& p, std::vector<std::vector<double>>& buffers) {
  using ch06::UOpKind;
  const size_t n = p.uops.size();
  std::vector<double> val(n, std::numeric_limits<double>::quiet_NaN());
  std::vector<size_t> end_of(n, n);
  for (size_t i = 0; i < n; ++i) {
    if (p.uops[i].kind == UOpKind::kEndRange) end_of.at(p.uops[i].src.at(0)) = i;
  }
  std::map<std::string, int64_t> vars;
  auto round = [](ch04::DType d, double v) { return d == ch04::DType::kFloat32 ? static_cast<double>(static_cast<float>(v)) : v; };
  std::fill(buffers[0].begin(), buffers[0].end(), std::numeric_limits<double>::quiet_NaN());
  size_t pc = 0;
  try {
    auto holds = [&](const ch04::Expr& valid) { return !valid || ch04::evaluate(valid, vars) != 0; };
    auto position = [&](const ch06::UOp& u) -> int64_t {
      const int64_t i = ch04::evaluate(u.index, vars);
      const size_t b = static_cast<size_t>(u.buffer);
      if (b >= buffers.size() || i < 0 || i >= static_cast<int64_t>(buffers[b].size())) {
        throw std::out_of_range(std::string(u.kind == UOpKind::kLoad ? "LOAD" : "STORE") + " of buf" +
                                std::to_string(u.buffer) + "[" + std::to_string(i) + "] (index " +
                                ch04::render(u.index) + "), outside the buffer's " +
                                std::to_string(b < buffers.size() ? buffers[b].size() : 0) + " elements");
      }
      return i;
    };
    while (pc < n) {
      const ch06::UOp& u = p.uops[pc];
      switch (u.kind) {
        case UOpKind::kDefineGlobal: break;
        case UOpKind::kRange:
          if (u.extent <= 0) {
            pc = end_of[pc] + 1;
            continue;
          }
          vars[u.var] = 0;
          break;
        case UOpKind::kEndRange: {
          const ch06::UOp& r = p.uops.at(u.src.at(0));
          if (++vars[r.var] < r.extent) {
            pc = static_cast<size_t>(u.src[0]) + 1;
            continue;
          }
          vars.erase(r.var);
          break;
        }
        case UOpKind::kConst: val[pc] = holds(u.valid) ? round(u.dtype, u.value) : 0; break;
        case UOpKind::kLoad: val[pc] = holds(u.valid) ? buffers[u.buffer][position(u)] : 0; break;
        case UOpKind::kAlu: {
          std::vector<double> a;
          for (int s : u.src) a.push_back(val.at(s));
          val[pc] = round(u.dtype, alu_value(u.op, a));
          break;
        }
        case UOpKind::kDefineAcc: val[pc] = u.value; break;
        case UOpKind::kAccumulate:
          if (holds(u.valid)) {
            const ch04::Op combine = u.op == ch04::Op::SUM ? ch04::Op::ADD : ch04::Op::MAX;
            val.at(u.src[0]) = round(u.dtype, alu_value(combine, {val.at(u.src[0]), val.at(u.src[1])}));
          }
          break;
        case UOpKind::kStore:
          if (holds(u.valid)) buffers[u.buffer][position(u)] = round(u.dtype, val.at(u.src.at(0)));
          break;
        case UOpKind::kSpecial: throw std::invalid_argument("a SPECIAL uop on the CPU");
      }
      ++pc;
    }
  } catch (const std::exception& e) {
    return "uop " + std::to_string(pc) + " (" + ch06::uop_kind_name(p.uops[pc].kind) + "): " + e.what();
  }
  return "";
}

}  // namespace uop_interpreter

#endif  // TESTS_06_CPU_CODEGEN_UOP_INTERPRETER_H_
