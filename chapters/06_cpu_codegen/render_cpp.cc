#include "ch06/render_cpp.h"

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>

#include "ch06/compiler.h"
#include "chapters/course.h"

namespace ch06 {

using ch04::DType;
using ch04::Op;

namespace {

[[maybe_unused]] const char* c_type(DType dtype) { return dtype == DType::kFloat32 ? "float" : "double"; }

// The helpers the ops need, written out: a kernel includes no header, so g++ has almost
// nothing to parse. The builtins are the libm functions without <cmath>.
[[maybe_unused]] const char* kPrelude = R"(template <typename T> static inline T ch06_max(T a, T b) { return a > b ? a : b; }
static inline float ch06_exp2(float x) { return __builtin_exp2f(x); }
static inline double ch06_exp2(double x) { return __builtin_exp2(x); }
static inline float ch06_log2(float x) { return __builtin_log2f(x); }
static inline double ch06_log2(double x) { return __builtin_log2(x); }
static inline float ch06_sin(float x) { return __builtin_sinf(x); }
static inline double ch06_sin(double x) { return __builtin_sin(x); }
static inline float ch06_sqrt(float x) { return __builtin_sqrtf(x); }
static inline double ch06_sqrt(double x) { return __builtin_sqrt(x); }
)";

[[maybe_unused]] std::string alu_expr(Op op, const std::vector<std::string>& a, DType dtype) {
  const std::string one = literal(1, dtype), zero = literal(0, dtype);
  switch (op) {
    case Op::NEG: return "(-" + a[0] + ")";
    case Op::EXP2: return "ch06_exp2(" + a[0] + ")";
    case Op::LOG2: return "ch06_log2(" + a[0] + ")";
    case Op::SIN: return "ch06_sin(" + a[0] + ")";
    case Op::SQRT: return "ch06_sqrt(" + a[0] + ")";
    case Op::RECIP: return "(" + one + "/" + a[0] + ")";
    case Op::ADD: return "(" + a[0] + "+" + a[1] + ")";
    case Op::SUB: return "(" + a[0] + "-" + a[1] + ")";
    case Op::MUL: return "(" + a[0] + "*" + a[1] + ")";
    case Op::DIV: return "(" + a[0] + "/" + a[1] + ")";
    case Op::MAX: return "ch06_max(" + a[0] + ", " + a[1] + ")";
    case Op::CMPLT: return "((" + a[0] + "<" + a[1] + ")?" + one + ":" + zero + ")";
    case Op::CMPNE: return "((" + a[0] + "!=" + a[1] + ")?" + one + ":" + zero + ")";
    case Op::WHERE: return "((" + a[0] + "!=" + zero + ")?" + a[1] + ":" + a[2] + ")";
    default: break;
  }
  throw std::invalid_argument(std::string("render_cpp: ") + ch04::op_name(op) + " is not an elementwise op");
}

// The C++ of one program, a statement per uop, in body_; names_[i] is what later statements
// call uop i's value: a variable (val3, alu7, acc0, gidx1, data2) or an inlined constant.
class Renderer {
 public:
  explicit Renderer(const Program& p) : p_(p), names_(p.uops.size()) {}

  // TODO(ch06.5): the whole source, as render_cpp.h shows it:
  //  - a first comment line naming the kernel (and p_.opts), then kPrelude;
  //  - extern "C" void NAME(float* __restrict__ data0, const float* __restrict__ data1, ...):
  //    buffer 0 written, the others const; c_type() gives float or double;
  //  - statement(i) for every uop, then body_ and the closing brace;
  //  - extern "C" void <entry_point(NAME)>(void** b) { NAME((float*)b[0], (const float*)b[1]...); }
  std::string run() { throw course::NotImplemented("ch06.5: render_cpp"); }

 private:
  void line(const std::string& s) { body_ << std::string(2 * depth_, ' ') << s << "\n"; }
  std::string fresh(const std::string& prefix) { return prefix + std::to_string(counters_[prefix]++); }
  const std::string& name(int uop) const { return names_[uop]; }

  // TODO(ch06.5): uop i as C++, one `case` per UOpKind:
  //  DEFINE_GLOBAL  names_[i] = "data<buffer>"
  //  RANGE          "#pragma omp parallel for" (with " collapse(n)" for parallel = n > 1) when
  //                 parallel > 0, then "for (int gidx0 = 0; gidx0 < 8; gidx0++) {"; depth_ + 1
  //  END_RANGE      "}"; depth_ - 1
  //  CONST          no statement: names_[i] is the literal (or "(valid?literal:0.0f)")
  //  LOAD           "float val0 = data1[index];" or, guarded, "= (valid?data1[index]:0.0f);":
  //                 the load must happen only where valid is true
  //  ALU            "float alu0 = " + alu_expr(op, its operands' names, dtype) + ";"
  //  DEFINE_ACC     "float acc0 = <literal of its value>;"
  //  ACCUMULATE     "acc0 = (acc0+alu3);" (SUM) or "acc0 = ch06_max(acc0, alu3);" (RMAX),
  //                 behind "if (valid) " when guarded
  //  STORE          "data0[index] = alu5;", behind "if (valid) " when guarded
  //  SPECIAL        std::invalid_argument: a GPU uop
  // Indexes and validities print with ch04::render.
  void statement(size_t i) { throw course::NotImplemented("ch06.5: render_cpp (a statement)"); }

  const Program& p_;
  std::vector<std::string> names_;
  std::map<std::string, int> counters_;
  std::ostringstream body_;
  int depth_ = 1;
};

}  // namespace

std::string literal(double value, DType dtype) {
  // TODO(ch06.5): std::ostringstream with precision 9 (float32: print static_cast<float>(value))
  // or 17 (float64) reads back exactly; ".0" appended when there is no '.' or 'e' (1 is an int
  // in C++, 1.0 a double), then "f" for float32. In parentheses when negative ("a-" followed
  // by "-1.0f" would read as "a-- 1.0f"). Infinities and NaN have no literal: __builtin_inff(),
  // __builtin_inf(), __builtin_nanf(""), __builtin_nan("").
  throw course::NotImplemented("ch06.5: literal");
}

std::string render_cpp(const Program& program) { return Renderer(program).run(); }

}  // namespace ch06
