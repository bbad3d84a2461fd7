// Scalar reverse-mode autodiff, micrograd in C++: every arithmetic step on a Value records a
// node of a graph; backward() walks that graph from the output back to the inputs and leaves
// in every node d(output)/d(node).
//
//   using tinyref::scalar::Value;
//   Value a = 2.0, b = -3.0;
//   Value c = a * b + a;      // c.data() == -4; the node c remembers "+" and its two operands
//   c.backward();             // a.grad() == b + 1 == -2 (a is used twice: the parts add up)
//                             // b.grad() == a == 2
//   std::cout << to_dot(c);   // Graphviz text; `dot -Tpng` draws the graph
//
// A Value is a handle, like std::shared_ptr: copies share one node, and the graph keeps the
// operands of every node alive. `const` guards the handle, not the numbers in the node, which
// is why set_data and set_grad are const (an optimizer updates parameters through const refs).
//
// This is chapter 1's oracle: the student's ch01::Value has the same interface.
#ifndef TINYREF_SCALAR_VALUE_H_
#define TINYREF_SCALAR_VALUE_H_

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace tinyref::scalar {

// What made a node. kPow's exponent is a constant kept in the node, not an operand.
enum class Op { kLeaf, kAdd, kSub, kMul, kDiv, kNeg, kPow, kExp, kLog, kTanh, kRelu };

// "+", "-", "*", "/", "neg", "pow", "exp", "log", "tanh", "relu"; "" for a leaf.
const char* op_name(Op op);

struct Node {
  double data = 0;
  double grad = 0;
  Op op = Op::kLeaf;
  double exponent = 0;  // kPow only
  std::vector<std::shared_ptr<Node>> operands;
  std::string label;  // shown by to_dot; empty unless set

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Releases a long chain of operands one by one: the default, recursive destruction of a
  // 100,000-step chain would overflow the stack.
  ~Node();
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

  Value pow(double exponent) const;
  Value exp() const;
  Value log() const;  // throws tinyref::Error for data() <= 0
  Value tanh() const;
  Value relu() const;

  // One step of the chain rule: adds grad() times d(this)/d(operand) to each operand's grad.
  // A no-op on a leaf.
  void push_grad_to_operands() const;

  // Every node this value depends on, itself included, each once, operands before users
  // (so this value is last).
  std::vector<Value> topological_order() const;

  // Sets grad() to d(this)/d(node) in every node of the graph: zeroes the inner nodes' grads,
  // adds 1 to this one's and pushes grads back in reverse topological order. Leaves
  // accumulate: a second backward() adds its gradients to theirs, as in PyTorch.
  void backward() const;

  // Sets grad() to 0 in every node of the graph, leaves included.
  void zero_grad() const;

 private:
  explicit Value(std::shared_ptr<Node> node) : node_(std::move(node)) {}
  static Value from_op(double data, Op op, std::vector<Value> operands, double exponent = 0);

  friend Value operator+(const Value& a, const Value& b);
  friend Value operator-(const Value& a, const Value& b);
  friend Value operator*(const Value& a, const Value& b);
  friend Value operator/(const Value& a, const Value& b);
  friend Value operator-(const Value& a);

  std::shared_ptr<Node> node_;
};

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

}  // namespace tinyref::scalar

#endif  // TINYREF_SCALAR_VALUE_H_
