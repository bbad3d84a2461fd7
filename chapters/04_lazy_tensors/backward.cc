// Tensor::backward: reverse-mode autograd over the GradNodes the primitives recorded.
#include <unordered_map>
#include <unordered_set>

#include "ch04/tensor.h"
#include "chapters/course.h"
#include "tensor_internal.h"  // private to the chapter: not under ch04/

namespace ch04 {

// TODO(ch04.6): backward(). Check that this has one element and requires grad (ShapeError,
// std::invalid_argument). Order every TensorImpl that requires grad below this one so that each
// comes after all of its grad_fn->parents (a post-order walk); then, from this tensor (whose
// gradient is a constant 1) back to the leaves: a node with a grad_fn hands its gradient to
// backward_rule (or grad_fn->custom when set) and ADDs each result into its parent's gradient;
// a leaf (no grad_fn) adds its gradient into t->grad (a new TensorImpl holding the sum). At the
// end, reset every grad_fn: the recorded graph is spent.
void Tensor::backward() const { throw course::NotImplemented("ch04.6: Tensor::backward"); }

}  // namespace ch04
