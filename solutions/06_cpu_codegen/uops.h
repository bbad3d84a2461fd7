// The loop-level instruction list ("uops") a kernel is lowered to: loops opened and closed,
// loads and stores with their index expressions, arithmetic, accumulators. Nothing in it is
// C++: render_cpp.h prints it for a CPU, and chapter 8 prints the same list as CUDA.
//
//   relu(x @ w + b) as uops (to_string):
//     0 DEFINE_GLOBAL float32 buf0            out (the buffer written)
//     1 DEFINE_GLOBAL float32 buf1            x
//     2 DEFINE_GLOBAL float32 buf2            w
//     3 DEFINE_GLOBAL float32 buf3            b
//     4 RANGE gidx0 < 8                       for each row
//     5 RANGE gidx1 < 4                       for each column
//     6 DEFINE_ACC float32 0                  acc = 0
//     7 RANGE ridx0 < 16                      for each k
//     8 LOAD float32 buf1[((gidx0*16)+ridx0)]
//     9 LOAD float32 buf2[((ridx0*4)+gidx1)]
//    10 ALU MUL float32 (8, 9)
//    11 ACCUMULATE SUM float32 (6, 10)        acc += x * w
//    12 END_RANGE (7)
//    13 LOAD float32 buf3[gidx1]
//    14 ALU ADD float32 (6, 13)               acc + b
//    15 CONST float32 0
//    16 ALU MAX float32 (14, 15)              relu
//    17 STORE float32 buf0[((gidx0*4)+gidx1)] (16)
//    18 END_RANGE (5)
//    19 END_RANGE (4)
//
// Operands (src) are positions of earlier uops. A uop's `valid` guards it: a LOAD reads 0
// without touching memory, a CONST is 0, an ACCUMULATE or STORE does nothing where it is 0.
#ifndef CH06_UOPS_H_
#define CH06_UOPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ch04/dtype.h"
#include "ch04/lazy.h"
#include "ch04/symbolic.h"

namespace ch06 {

enum class UOpKind {
  kDefineGlobal,  // buffer: a kernel argument (buffer 0 is written, the others read)
  kRange,         // var from 0 to extent-1: a loop opens. parallel > 0: the threads share
                  // this loop and the next parallel-1 ones (they are perfectly nested)
  kEndRange,      // src[0]: the RANGE it closes
  kConst,         // value (0 where valid is false: a padded constant)
  kLoad,          // buffer[index] (0 where valid is false, without reading memory)
  kAlu,           // op (an elementwise ch04::Op) of src
  kDefineAcc,     // an accumulator starting at value, for the reduce op `op`
  kAccumulate,    // src[0] (a DEFINE_ACC) = src[0] op src[1], where valid; op is SUM or RMAX
  kStore,         // buffer[index] = src[0], where valid
  kSpecial,       // reserved for chapter 8 (a GPU block or thread index); never made here
};
const char* uop_kind_name(UOpKind kind);  // "DEFINE_GLOBAL"

struct UOp {
  explicit UOp(UOpKind k) : kind(k) {}
  UOpKind kind;
  ch04::DType dtype = ch04::DType::kFloat32;
  ch04::Op op = ch04::Op::ADD;  // kAlu; kDefineAcc and kAccumulate: SUM or RMAX
  std::vector<int> src;
  int buffer = -1;              // kDefineGlobal, kLoad, kStore
  ch04::Expr index;             // kLoad, kStore
  ch04::Expr valid;             // kConst, kLoad, kAccumulate, kStore; null: always valid
  double value = 0;             // kConst, kDefineAcc
  std::string var;              // kRange: the loop variable's name
  int64_t extent = 0;           // kRange
  int parallel = 0;             // kRange
};

struct Program {
  std::string name;                  // the kernel's name, and the C++ function's
  std::vector<UOp> uops;
  std::vector<ch04::DType> buffers;  // the dtype of each kernel argument; [0] is written
  int64_t flops = 0;                 // arithmetic of one run (for CH06_DEBUG=2's GFLOP/s)
  std::string opts;                  // the optimizations applied ("upcast gidx1 8, parallel 1")
};

// One line per uop, as in the picture above.
std::string to_string(const Program& program);

}  // namespace ch06

#endif  // CH06_UOPS_H_
