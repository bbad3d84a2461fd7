// The graph and backward() (ch03.1). The backward rules of the ops are in grad_ops.cc.
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "ch03/autograd.h"
#include "chapters/course.h"

namespace ch03 {
namespace {

// TODO(ch03.1): NoGradGuard switches this off for its lifetime (and restores what it found:
// guards nest). thread_local, so that two threads do not switch each other's off.
thread_local bool g_grad_enabled = true;

}  // namespace

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) {
  // TODO(ch03.1)
  throw course::NotImplemented("ch03.1: NoGradGuard");
}
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }
bool grad_enabled() { return g_grad_enabled; }

template <typename T>
Tensor<T>::Tensor(ch02::Tensor<T> value, bool requires_grad) {
  // TODO(ch03.1): a new Node holding value (no copy: the ch02 tensor shares its storage).
  throw course::NotImplemented("ch03.1: Tensor(value, requires_grad)");
}

template <typename T>
Tensor<T> Tensor<T>::from_op(std::string op, ch02::Tensor<T> value,
                             const std::vector<Tensor>& inputs, BackwardFn<T> backward) {
  // TODO(ch03.1): a new node for the result. Only when gradients are enabled and some input
  // requires grad does it require grad, keep the inputs' nodes and the backward rule; otherwise
  // it is a constant and keeps nothing (so no graph stays alive in evaluation).
  throw course::NotImplemented("ch03.1: Tensor::from_op");
}

template <typename T>
const ch02::Tensor<T>& Tensor<T>::grad() const {
  // TODO(ch03.1): std::logic_error when there is no gradient (say why: no backward() yet, or
  // the tensor does not require grad).
  throw course::NotImplemented("ch03.1: Tensor::grad");
}

template <typename T>
void Tensor<T>::set_value(ch02::Tensor<T> value) {
  // TODO(ch03.1): std::invalid_argument if the shape changes.
  throw course::NotImplemented("ch03.1: Tensor::set_value");
}

template <typename T>
void Tensor<T>::backward() const {
  // TODO(ch03.1): only for one element; seed with 1.
  throw course::NotImplemented("ch03.1: Tensor::backward()");
}

template <typename T>
void Tensor<T>::backward(const ch02::Tensor<T>& seed) const {
  // TODO(ch03.1):
  //  1. Check the seed's shape (std::invalid_argument).
  //  2. Order the nodes that require grad topologically: every node after the nodes it uses
  //     (a depth-first search from this node, appending a node once all its inputs are done).
  //  3. Walk that order backwards holding a gradient per node (start: this node -> seed).
  //     A node's gradient is complete when the walk reaches it, because everything that uses
  //     it came later in the order. Call its backward rule; check the rule returned one
  //     gradient per input, each of its input's shape (std::logic_error naming the op
  //     otherwise); add each into that input's gradient (a node used twice gets both).
  //  4. Leaves (no rule) add their gradient into node->grad: accumulation across backward()
  //     calls is what zero_grad() is for. Store a copy (clone): the leaf owns its gradient.
  throw course::NotImplemented("ch03.1: Tensor::backward(seed)");
}

template class Tensor<float>;
template class Tensor<double>;

}  // namespace ch03
