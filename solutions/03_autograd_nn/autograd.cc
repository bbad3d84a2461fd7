// The graph and backward() (ch03.1). The backward rules of the ops are in grad_ops.cc.
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "ch03/autograd.h"

namespace ch03 {
namespace {

thread_local bool g_grad_enabled = true;

}  // namespace

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }
bool grad_enabled() { return g_grad_enabled; }

template <typename T>
Tensor<T>::Tensor(ch02::Tensor<T> value, bool requires_grad) : node_(std::make_shared<Node<T>>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

template <typename T>
Tensor<T> Tensor<T>::from_op(std::string op, ch02::Tensor<T> value,
                             const std::vector<Tensor>& inputs, BackwardFn<T> backward) {
  Tensor out(std::move(value));
  out.node_->op = std::move(op);
  bool any = false;
  for (const Tensor& in : inputs) any = any || in.requires_grad();
  if (!grad_enabled() || !any) return out;  // a constant: keep no inputs alive
  out.node_->requires_grad = true;
  out.node_->backward = std::move(backward);
  for (const Tensor& in : inputs) out.node_->inputs.push_back(in.node_);
  return out;
}

template <typename T>
const ch02::Tensor<T>& Tensor<T>::grad() const {
  if (!node_->grad) {
    throw std::logic_error("grad: this tensor (shape " + ch02::shape_str(shape()) + ", op " +
                           node_->op + ") has no gradient" +
                           (node_->requires_grad ? " yet: call backward() first"
                                                 : ": it does not require grad"));
  }
  return *node_->grad;
}

template <typename T>
void Tensor<T>::set_value(ch02::Tensor<T> value) {
  if (value.shape() != shape()) {
    throw std::invalid_argument("set_value: shape " + ch02::shape_str(value.shape()) +
                                " for a tensor of shape " + ch02::shape_str(shape()));
  }
  node_->value = std::move(value);
}

template <typename T>
void Tensor<T>::backward() const {
  if (node_->value.numel() != 1) {
    throw std::invalid_argument("backward: the output has shape " + ch02::shape_str(shape()) +
                                "; without a seed it must have one element (a loss)");
  }
  backward(ch02::Tensor<T>::full(shape(), T(1)));
}

template <typename T>
void Tensor<T>::backward(const ch02::Tensor<T>& seed) const {
  if (seed.shape() != shape()) {
    throw std::invalid_argument("backward: seed of shape " + ch02::shape_str(seed.shape()) +
                                " for an output of shape " + ch02::shape_str(shape()));
  }
  if (!node_->requires_grad) return;  // nothing upstream wants a gradient

  // Topological order (inputs before the nodes that use them), by depth-first search with an
  // explicit stack: a long chain of ops must not overflow the call stack.
  std::vector<Node<T>*> order;
  std::unordered_set<Node<T>*> visited;
  std::vector<std::pair<Node<T>*, size_t>> stack{{node_.get(), 0}};
  visited.insert(node_.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      Node<T>* in = node->inputs[next++].get();
      if (in->requires_grad && visited.insert(in).second) stack.push_back({in, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  // Walk from the output back: when a node is reached, every node that uses it is done, so
  // its gradient is complete. Several uses of a node add up (the multivariate chain rule).
  std::unordered_map<Node<T>*, ch02::Tensor<T>> grads;
  grads.emplace(node_.get(), seed);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node<T>* node = *it;
    auto found = grads.find(node);
    if (found == grads.end()) continue;
    const ch02::Tensor<T> g = found->second;
    grads.erase(found);  // interior gradients are not kept: free them as we go
    if (!node->backward) {
      node->grad = node->grad ? ch02::add(*node->grad, g) : g.clone();  // the leaf owns it
      continue;
    }
    std::vector<ch02::Tensor<T>> input_grads = node->backward(g);
    if (input_grads.size() != node->inputs.size()) {
      throw std::logic_error("backward of " + node->op + " returned " +
                             std::to_string(input_grads.size()) + " gradients for " +
                             std::to_string(node->inputs.size()) + " inputs");
    }
    for (size_t i = 0; i < input_grads.size(); ++i) {
      Node<T>* in = node->inputs[i].get();
      if (!in->requires_grad) continue;
      if (input_grads[i].shape() != in->value.shape()) {
        throw std::logic_error("backward of " + node->op + " returned a gradient of shape " +
                               ch02::shape_str(input_grads[i].shape()) + " for input " +
                               std::to_string(i) + " of shape " +
                               ch02::shape_str(in->value.shape()));
      }
      auto [slot, fresh] = grads.try_emplace(in, input_grads[i]);
      if (!fresh) slot->second = ch02::add(slot->second, input_grads[i]);
    }
  }
}

template class Tensor<float>;
template class Tensor<double>;

}  // namespace ch03
