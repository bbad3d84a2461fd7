// A kernel's AST, what the scheduler (schedule.h) makes of the lazy graph and the codegen
// (codegen/kernel.h) starts from: ops over LOADs of buffers (BUFFER) and constants (CONST), each
// read through a ShapeTracker, under a STORE root that writes buffer 0.
//
//   print_ast(item.ast)          // STORE float32 buf0 ...
//                                //   SUM float32 axes(1,)
//                                //     MUL float32
//                                //       BUFFER float32 buf1 ShapeTracker(...)
//                                //       BUFFER float32 buf2 ShapeTracker(...)
//   ast_key(item.ast)            // the same on one line: a cache key (equal text, equal kernel)
#ifndef TINYREF_SCHEDULE_AST_H_
#define TINYREF_SCHEDULE_AST_H_

#include <memory>
#include <string>
#include <vector>

#include "tinyref/dtype.h"
#include "tinyref/ops.h"
#include "tinyref/shape/shapetracker.h"

namespace tinyref {

struct AstNode;
using AstRef = std::shared_ptr<const AstNode>;

struct AstNode {
  Op op = Op::STORE;        // STORE, BUFFER (a load), CONST, elementwise, SUM or RMAX
  DType dtype = DType::kFloat32;
  std::vector<AstRef> src;
  int buf = -1;             // BUFFER, STORE: index into ScheduleItem::bufs
  double value = 0;         // CONST
  std::vector<int> axes;    // SUM, RMAX: reduced dimensions (they become size 1)
  ShapeTracker st;          // BUFFER, CONST, STORE: kernel coordinates -> buffer position
};

// A text form of an AST: what TT_DEBUG=5 prints, and a cache key (equal text, equal kernel).
std::string ast_key(const AstRef& ast);
std::string print_ast(const AstRef& ast);

}  // namespace tinyref

#endif  // TINYREF_SCHEDULE_AST_H_
