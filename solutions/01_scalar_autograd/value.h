// Chapter 1: scalar reverse-mode autodiff. Every arithmetic step on a Value records a node of
// a graph; backward() walks that graph from the output back to the inputs and leaves in every
// node d(output)/d(node).
//
//   #include "ch01/value.h"
//   ch01::Value a = 2.0, b = -3.0;
//   ch01::Value c = a * b + a;   // c.data() == -4; c remembers "+" and its two operands
//   c.backward();                // a.grad() == b + 1 == -2 (a is used twice: the parts add up)
//                                // b.grad() == a == 2
//   std::cout << to_dot(c);      // Graphviz text; `dot -Tpng` draws the graph
//
// A Value is a handle, like std::shared_ptr: copies share one node, and each node keeps its
// operands alive. `const` guards the handle, not the numbers in the node, which is why
// set_data and set_grad are const (an optimizer updates parameters through const refs).
//
// The tasks (README.md tells the story, value.cc has a TODO(ch01.k) at each):
//   ch01.1 + - * / and unary -      ch01.2 pow exp log tanh relu
//   ch01.3 push_grad_to_operands    ch01.4 topological_order
//   ch01.5 backward and zero_grad   (ch01.6 and ch01.7 are in nn.h)
#ifndef CH01_VALUE_H_
#define CH01_VALUE_H_

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace ch01 {

// What made a node. kPow's exponent is a constant kept in the node, not an operand.
enum class Op { kLeaf, kAdd, kSub, kMul, kDiv, kNeg, kPow, kExp, kLog, kTanh, kRelu };

// "+", "-", "*", "/", "neg", "pow", "exp", "log", "tanh", "relu"; "" for a leaf.
const char* op_name(Op op);

// One node of the graph. Binary ops have two operands, unary ops one, leaves none.
struct Node {
  double data = 0;
  double grad = 0;
  Op op = Op::kLeaf;
  double exponent = 0;  // kPow only
  std::vector<std::shared_ptr<Node>> operands;
  std::string label;  // shown by to_dot; empty unless set
};

class Value {
 public:
  Value() : Value(0.0) {}
  Value(double data);  // NOLINT: implicit, so that 2.0 * x and x + 1 read naturally
  Value(double data, std::string label);

  double data() const { return node_->data; }
  double grad() const { return node_->grad; }
  void set_data(double data) const { node_->data = data; }
  void set_grad(double grad) const { node_->grad = grad; }
  Op op() const { return node_->op; }
  double exponent() const { return node_->exponent; }
  std::vector<Value> operands() const;
  const std::string& label() const { return node_->label; }
  void set_label(std::string label) const { node_->label = std::move(label); }
  // Identity of the node: two handles to one node give the same pointer.
  const Node* node() const { return node_.get(); }

  // ch01.2. log throws std::domain_error, naming the value, when data() <= 0.
  Value pow(double exponent) const;
  Value exp() const;
  Value log() const;
  Value tanh() const;
  Value relu() const;

  // ch01.3. One step of the chain rule: adds grad() times d(this)/d(operand) to each
  // operand's grad. Does nothing on a leaf.
  void push_grad_to_operands() const;

  // ch01.4. Every node this value depends on, itself included, each exactly once, operands
  // before the nodes that use them (so this value comes last).
  std::vector<Value> topological_order() const;

  // ch01.5. Leaves in every node of the graph grad() = d(this)/d(node): sets the inner nodes'
  // grads to 0, adds 1 to this node's, then calls push_grad_to_operands on each node in
  // reverse topological order. Leaves accumulate: a second backward() adds its gradients to
  // theirs, as in PyTorch.
  void backward() const;

  // ch01.5. Sets grad() to 0 in every node of the graph, leaves included.
  void zero_grad() const;

 private:
  explicit Value(std::shared_ptr<Node> node) : node_(std::move(node)) {}
  // A new node holding `data`, made by `op` from `operands`: what every op returns.
  static Value from_op(double data, Op op, std::vector<Value> operands, double exponent = 0);

  friend Value operator+(const Value& a, const Value& b);
  friend Value operator-(const Value& a, const Value& b);
  friend Value operator*(const Value& a, const Value& b);
  friend Value operator/(const Value& a, const Value& b);
  friend Value operator-(const Value& a);

  std::shared_ptr<Node> node_;
};

// ch01.1. Each records its op and operands; a double on either side becomes a leaf.
Value operator+(const Value& a, const Value& b);
Value operator-(const Value& a, const Value& b);
Value operator*(const Value& a, const Value& b);
Value operator/(const Value& a, const Value& b);
Value operator-(const Value& a);

// "Value(data=-4, grad=1)".
std::ostream& operator<<(std::ostream& out, const Value& value);

// The graph behind `root` as Graphviz DOT: one box per node with its label, op, data and grad,
// an arrow from each operand to its user. `dot -Tpng graph.dot -o graph.png` draws it.
std::string to_dot(const Value& root);

}  // namespace ch01

#endif  // CH01_VALUE_H_
