// Tensor::backward: reverse-mode autograd over the GradNodes the primitives recorded.
#include <unordered_map>
#include <unordered_set>

#include "ch04/tensor.h"
#include "tensor_internal.h"  // private to the chapter: not under ch04/

namespace ch04 {

namespace {

// Every tensor that requires grad below `root` (itself included), each after all of its parents:
// reversed, a node comes before everything it was computed from.
std::vector<TensorImpl*> topological_order(TensorImpl* root) {
  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> seen;
  std::vector<std::pair<TensorImpl*, bool>> stack = {{root, false}};  // (tensor, parents done)
  while (!stack.empty()) {
    auto [t, parents_done] = stack.back();
    stack.pop_back();
    if (parents_done) {
      order.push_back(t);
      continue;
    }
    if (!seen.insert(t).second) continue;
    stack.push_back({t, true});
    if (!t->grad_fn) continue;
    for (const auto& p : t->grad_fn->parents) {
      if (p->requires_grad && !seen.count(p.get())) stack.push_back({p.get(), false});
    }
  }
  return order;
}

}  // namespace

// ch04.6
void Tensor::backward() const {
  if (numel() != 1) throw ShapeError("backward: needs a tensor with one element, the shape is " + shape_str(shape()));
  if (!requires_grad()) {
    throw std::invalid_argument("backward: nothing to differentiate (no input of this tensor called requires_grad_())");
  }
  const std::vector<TensorImpl*> order = topological_order(impl_.get());
  std::unordered_map<TensorImpl*, LazyRef> grads;  // d this / d tensor, summed over every use
  grads[impl_.get()] = LazyBuffer::constant(1, dtype(), shape());
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* t = *it;
    const LazyRef g = grads[t];
    if (!g) continue;  // nothing flows here (a WHERE condition, say)
    if (!t->grad_fn) {  // a leaf keeps its gradient, adding to what earlier backward() calls left
      auto total = std::make_shared<TensorImpl>();
      total->lazy = t->grad ? LazyBuffer::alu(Op::ADD, {t->grad->lazy, g}) : g;
      t->grad = total;
      continue;
    }
    const GradFn& fn = *t->grad_fn;
    const std::vector<LazyRef> input_grads = fn.custom ? fn.custom(g) : backward_rule(fn.node, g);
    for (size_t j = 0; j < input_grads.size(); ++j) {
      TensorImpl* parent = fn.parents[j].get();
      if (!input_grads[j] || !parent->requires_grad) continue;
      if (input_grads[j]->shape() != parent->lazy->shape()) {
        throw std::logic_error(std::string("backward: the rule of ") + op_name(fn.node.op) + " gave input " +
                               std::to_string(j) + " a gradient of shape " + shape_str(input_grads[j]->shape()) +
                               " for an input of shape " + shape_str(parent->lazy->shape()));
      }
      LazyRef& sum = grads[parent];
      sum = sum ? LazyBuffer::alu(Op::ADD, {sum, input_grads[j]}) : input_grads[j];
    }
  }
  for (TensorImpl* t : order) t->grad_fn.reset();  // the recorded graph is spent
}

}  // namespace ch04
