// Backward rules, one per primitive op, written as more lazy ops: a gradient is just more graph,
// realized together with (or after) the forward pass. Only these ops have rules; matmul,
// softmax, cross-entropy and conv2d are compositions of them (tensor.h) and get their
// gradients for free.
//
//   GradNode n{Op::MUL, {}, {x, y}, out};
//   backward_rule(n, g)           // {g * y, g * x}
//   GradNode e{Op::EXPAND, {{4, 3}}, {b}, out};   // b: (1, 3) expanded to (4, 3)
//   backward_rule(e, g)           // {g summed over axis 0}: shape (1, 3), b's shape
//   has_backward_rule(Op::CMPLT)  // false: a comparison has no gradient
//
// The rule of a movement op is the inverse movement: expand -> sum, pad -> shrink, shrink ->
// pad, permute -> the inverse permute, reshape -> reshape back, flip -> flip. Each gradient
// has the shape and dtype of its input. Rules use the same primitive ops as tinyref's
// (tinyref/autograd/autograd.cc), so chapter 5 counts the same kernels for a training step.
#ifndef CH04_AUTOGRAD_H_
#define CH04_AUTOGRAD_H_

#include <vector>

#include "ch04/lazy.h"

namespace ch04 {

struct GradNode {
  Op op;
  OpArg arg;                    // the forward op's argument (axes, shape, order, padding...)
  std::vector<LazyRef> inputs;  // its sources, as they were
  LazyRef output;               // its result (the rules of EXP2, SQRT, RECIP and RMAX use it)
};

// The gradient of the loss with respect to each input, given `grad`, the gradient with respect
// to the output. nullptr for an input that gets none (the condition of WHERE).
// ch04.6: the elementwise ops (NEG EXP2 LOG2 SIN SQRT RECIP ADD SUB MUL DIV MAX WHERE).
// ch04.7: SUM, RMAX, the six movement ops, and CONTIGUOUS.
std::vector<LazyRef> backward_rule(const GradNode& node, const LazyRef& grad);

// False for CMPLT, CMPNE, LOAD and CONST: no gradient flows through them.
bool has_backward_rule(Op op);

}  // namespace ch04

#endif  // CH04_AUTOGRAD_H_
