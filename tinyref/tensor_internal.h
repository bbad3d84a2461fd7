// Private to //tinyref:tensor: the primitive layer the Tensor methods are written with. Every
// primitive maps to one op in ops.def and records its autograd node; everything else in
// tensor*.cc is composed from these.
#ifndef TINYREF_TENSOR_INTERNAL_H_
#define TINYREF_TENSOR_INTERNAL_H_

#include <functional>
#include <string>
#include <vector>

#include "tinyref/autograd/autograd.h"
#include "tinyref/tensor.h"

namespace tinyref {

struct AutogradCtx {
  GradNode node;
  std::vector<std::shared_ptr<TensorImpl>> parents;
  // When set, used instead of node.op's rule: the gradient of each parent from the output's.
  std::function<std::vector<LazyRef>(const LazyRef& grad)> custom;
};

struct TensorImpl {
  LazyRef lazy;
  bool requires_grad = false;
  std::shared_ptr<AutogradCtx> ctx;  // how this was computed, while a backward may need it
  bool graph_freed = false;          // computed, but a backward() has spent ctx: no second one
  std::shared_ptr<TensorImpl> grad;
};

class TensorOps {
 public:
  static const TensorImpl& impl(const Tensor& t) { return t.impl(); }
  static Tensor wrap(LazyRef lazy) { return Tensor::from_lazy(std::move(lazy)); }
  // One op from ops.def on tensors of one shape (and, except WHERE, one dtype).
  static Tensor alu(Op op, const std::vector<Tensor>& srcs, DType cast_to = DType::kFloat32);
  static Tensor reduce(const Tensor& x, Op op, const std::vector<int>& axes);  // keeps dims
  static Tensor movement(const Tensor& x, Op op, const LazyArg& arg);
  static Tensor const_like(const Tensor& x, double value, std::optional<DType> dtype = std::nullopt);
  // Numpy broadcasting to one shape (and dtype promotion unless keep_dtypes); `op` names errors.
  static std::vector<Tensor> broadcast(std::vector<Tensor> xs, const char* op, bool keep_dtypes = false);
  static std::vector<int> axes(const Tensor& x, const std::vector<int>& axes, const char* op);
  static int axis(const Tensor& x, int axis, const char* op);
  static std::string resolve_device(const std::string& device);
  // A tensor for `out`, with an autograd node for `op` if a source requires grad.
  static Tensor record(LazyRef out, Op op, const LazyArg& arg, const std::vector<Tensor>& srcs);
  // A tensor for `out` whose gradient with respect to srcs is `backward` (a composite whose
  // mechanical gradient would be needlessly expensive, like conv2d's input gradient).
  static Tensor record_custom(LazyRef out, const std::vector<Tensor>& srcs,
                              std::function<std::vector<LazyRef>(const LazyRef& grad)> backward);
};

}  // namespace tinyref

#endif  // TINYREF_TENSOR_INTERNAL_H_
