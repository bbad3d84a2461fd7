// Private to the chapter's tensor files: what a Tensor holds, and the primitive layer its
// methods are written with. Each primitive is one lazy op plus, when an input requires a
// gradient, the GradNode that backward() will hand to backward_rule.
#ifndef CH04_TENSOR_INTERNAL_H_
#define CH04_TENSOR_INTERNAL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ch04/tensor.h"

namespace ch04 {

// How a tensor was computed, kept while a backward pass may need it.
struct GradFn {
  GradNode node;
  std::vector<std::shared_ptr<TensorImpl>> parents;  // node.inputs' tensors, in order
  // When set, used instead of backward_rule(node, ...): conv2d's input gradient.
  std::function<std::vector<LazyRef>(const LazyRef& grad)> custom;
};

struct TensorImpl {
  LazyRef lazy;
  bool requires_grad = false;
  std::shared_ptr<GradFn> grad_fn;   // null for a leaf (or with NoGrad)
  std::shared_ptr<TensorImpl> grad;  // the accumulated gradient of a leaf
};

struct TensorOps {
  static TensorImpl& impl(const Tensor& t) { return *t.impl_; }
  static const std::shared_ptr<TensorImpl>& impl_ptr(const Tensor& t) { return t.impl_; }
  static Tensor wrap(std::shared_ptr<TensorImpl> impl) { return Tensor(std::move(impl)); }
  static bool grad_enabled();
  // A tensor for `out`, recording op/arg/srcs for backward when a source requires grad.
  static Tensor record(LazyRef out, Op op, const OpArg& arg, const std::vector<Tensor>& srcs);
  // A tensor for `out` whose gradients with respect to srcs come from `backward`.
  static Tensor record_custom(LazyRef out, const std::vector<Tensor>& srcs,
                              std::function<std::vector<LazyRef>(const LazyRef& grad)> backward);
  // One elementwise op on tensors of one shape and dtype (broadcast first).
  static Tensor alu(Op op, const std::vector<Tensor>& srcs);
  // numpy broadcasting of every tensor to one shape, by reshape and expand; `op` names errors.
  static std::vector<Tensor> broadcast(const std::vector<Tensor>& xs, const char* op);
  // An axis in [-ndim, ndim) as an index in [0, ndim); `op` names the error.
  static int axis(const Tensor& x, int axis, const char* op);
  // Normalized axes; empty means all of them.
  static std::vector<int> axes(const Tensor& x, const std::vector<int>& axes, const char* op);
};

}  // namespace ch04

#endif  // CH04_TENSOR_INTERNAL_H_
