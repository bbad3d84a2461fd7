// Your CUDA renderer: task ch08.3. README.md, "Task 3", walks through it.
#include "ch08/render_cuda.h"

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>

#include "ch06/render_cpp.h"
#include "chapters/course.h"

namespace ch08 {

using ch04::DType;
using ch04::Op;
using ch06::UOp;
using ch06::UOpKind;

namespace {

// Given. NVRTC compiles without the system's headers: the math is CUDA's own device functions
// (exp2f and friends, within 2 ulp of the exact value), under one name for both dtypes. Put it
// at the top of every kernel's source.
[[maybe_unused]] const char* kHelpers = R"(__device__ inline float ch08_max(float a, float b) { return a > b ? a : b; }
__device__ inline double ch08_max(double a, double b) { return a > b ? a : b; }
__device__ inline float ch08_exp2(float x) { return exp2f(x); }
__device__ inline double ch08_exp2(double x) { return exp2(x); }
__device__ inline float ch08_log2(float x) { return log2f(x); }
__device__ inline double ch08_log2(double x) { return log2(x); }
__device__ inline float ch08_sin(float x) { return sinf(x); }
__device__ inline double ch08_sin(double x) { return sin(x); }
__device__ inline float ch08_sqrt(float x) { return sqrtf(x); }
__device__ inline double ch08_sqrt(double x) { return sqrt(x); }
)";

// Given: each elementwise op as a template: $0 $1 $2 its operands, $t the C type. You wrote
// the same in chapter 6; fill() below does the substitution.
[[maybe_unused]] const std::map<Op, std::string>& op_templates() {
  static const std::map<Op, std::string> t = {
      {Op::NEG, "(-$0)"},
      {Op::EXP2, "ch08_exp2($0)"},
      {Op::LOG2, "ch08_log2($0)"},
      {Op::SIN, "ch08_sin($0)"},
      {Op::SQRT, "ch08_sqrt($0)"},
      {Op::RECIP, "(($t)1/$0)"},
      {Op::ADD, "($0+$1)"},
      {Op::SUB, "($0-$1)"},
      {Op::MUL, "($0*$1)"},
      {Op::DIV, "($0/$1)"},
      {Op::MAX, "ch08_max($0, $1)"},
      {Op::CMPLT, "(($0<$1) ? ($t)1 : ($t)0)"},
      {Op::CMPNE, "(($0!=$1) ? ($t)1 : ($t)0)"},
      {Op::WHERE, "(($0!=($t)0) ? $1 : $2)"},
  };
  return t;
}

[[maybe_unused]] const char* c_type(DType dtype) { return dtype == DType::kFloat32 ? "float" : "double"; }

// Given: fill("($0+$1)", {"a", "b"}, kFloat32) is "(a+b)".
[[maybe_unused]] std::string fill(const std::string& pattern, const std::vector<std::string>& args, DType dtype) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '$') {
      out += pattern[i];
    } else if (pattern[i + 1] == 't') {
      out += c_type(dtype);
      ++i;
    } else {
      out += args.at(static_cast<size_t>(pattern[++i] - '0'));
    }
  }
  return out;
}

// Given: chapter 6's literals, but infinity and NaN from their bits: NVRTC has no
// __builtin_inff (g++ and nvcc do, which is how this was found).
[[maybe_unused]] std::string literal(double value, DType dtype) {
  if (std::isfinite(value)) return ch06::literal(value, dtype);
  const bool f32 = dtype == DType::kFloat32;
  if (std::isnan(value)) return f32 ? "__int_as_float(0x7fc00000)" : "__longlong_as_double(0x7ff8000000000000LL)";
  const std::string inf = f32 ? "__int_as_float(0x7f800000)" : "__longlong_as_double(0x7ff0000000000000LL)";
  return value < 0 ? "(-" + inf + ")" : inf;
}

}  // namespace

// TODO(ch08.3): the kernel's source, as render_cuda.h describes it. A class like chapter 6's
// renderer works well: one C name per uop (a variable, or an inlined constant), one statement
// per uop, the body indented by loop depth. What is new here:
//   - the signature: extern "C" __global__ void __launch_bounds__(threads) name(...)
//   - SPECIAL: const int gidx0 = <index_expression>;
//   - after uop combine_after: group_combine(program, the DEFINE_ACCs so far)      (task 4)
//   - where program.float4: the loads float4_loads() groups read as one float4 at the first
//     one's place, `float4 v = *((const float4*)(data1+index));` (guarded like any load),
//     and each of the four is v.x, v.y, v.z or v.w                                 (task 5)
// Leave tasks 4 and 5 for later: the tests of this task use neither.
std::string render_cuda(const GpuProgram& program) { throw course::NotImplemented("ch08.3: render_cuda"); }

}  // namespace ch08
