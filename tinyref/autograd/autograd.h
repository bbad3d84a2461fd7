// Reverse-mode rules, one per op, written with lazy ops: a gradient is just more graph, which
// the scheduler fuses and runs together with the forward pass.
//
//   GradNode n{Op::MUL, {}, {x, y}, out};
//   std::vector<LazyRef> g = backward_rule(n, grad_out);   // {grad_out * y, grad_out * x}
//   has_backward_rule(Op::CMPLT)                           // false: comparisons have none
//
// Every gradient has the shape and dtype of its input; a rule returns nullptr for inputs that
// get no gradient (the condition of WHERE, integer operands).
#ifndef TINYREF_AUTOGRAD_AUTOGRAD_H_
#define TINYREF_AUTOGRAD_AUTOGRAD_H_

#include <vector>

#include "tinyref/lazy/lazybuffer.h"
#include "tinyref/ops.h"

namespace tinyref {

struct GradNode {
  Op op;
  LazyArg arg;                  // the forward op's argument (axes, shapes, padding, ...)
  std::vector<LazyRef> inputs;  // its operands as they were
  LazyRef output;               // its result (exp2, sqrt, recip and max reuse it)
};

std::vector<LazyRef> backward_rule(const GradNode& node, const LazyRef& grad);

// False for ops with no gradient (comparisons, integer ops, the buffer ops).
bool has_backward_rule(Op op);

}  // namespace tinyref

#endif  // TINYREF_AUTOGRAD_AUTOGRAD_H_
