#include "ch01/value.h"

#include <cmath>
#include <functional>     // for ch01.4, if you write a recursive lambda
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>  // for ch01.4

#include "chapters/course.h"  // defines: course::NotImplemented

namespace ch01 {

// ---------------------------------------------------------------------------------------
// Given: construction, printing, to_dot.

const char* op_name(Op op) {
  switch (op) {
    case Op::kLeaf: return "";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kNeg: return "neg";
    case Op::kPow: return "pow";
    case Op::kExp: return "exp";
    case Op::kLog: return "log";
    case Op::kTanh: return "tanh";
    case Op::kRelu: return "relu";
  }
  return "?";
}

Value::Value(double data) : node_(std::make_shared<Node>()) { node_->data = data; }

Value::Value(double data, std::string label) : Value(data) { node_->label = std::move(label); }

Value Value::from_op(double data, Op op, std::vector<Value> operands, double exponent) {
  auto node = std::make_shared<Node>();
  node->data = data;
  node->op = op;
  node->exponent = exponent;
  for (Value& operand : operands) node->operands.push_back(std::move(operand.node_));
  return Value(std::move(node));
}

std::vector<Value> Value::operands() const {
  std::vector<Value> out;
  for (const auto& operand : node_->operands) out.push_back(Value(operand));
  return out;
}

std::ostream& operator<<(std::ostream& out, const Value& value) {
  return out << "Value(data=" << value.data() << ", grad=" << value.grad() << ")";
}

namespace {

std::string escape_for_dot(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string to_dot(const Value& root) {
  // Walks the graph with your topological_order (ch01.4): each node gets one box.
  const std::vector<Value> order = root.topological_order();
  std::unordered_map<const Node*, size_t> index;
  for (size_t i = 0; i < order.size(); ++i) index[order[i].node()] = i;
  std::ostringstream dot;
  dot.precision(6);
  dot << "digraph value {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n";
  for (size_t i = 0; i < order.size(); ++i) {
    const Value& v = order[i];
    std::string title = v.label();
    if (v.op() != Op::kLeaf) {
      std::string op = op_name(v.op());
      if (v.op() == Op::kPow) {
        std::ostringstream exponent;
        exponent << v.exponent();
        op += " " + exponent.str();
      }
      title += title.empty() ? op : " = " + op;
    }
    dot << "  n" << i << " [label=\"" << escape_for_dot(title) << (title.empty() ? "" : "\\n")
        << "data " << v.data() << "\\ngrad " << v.grad() << "\"];\n";
  }
  for (size_t i = 0; i < order.size(); ++i) {
    for (const Value& operand : order[i].operands()) {
      const auto found = index.find(operand.node());
      if (found != index.end()) dot << "  n" << found->second << " -> n" << i << ";\n";
    }
  }
  dot << "}\n";
  return dot.str();
}

// ---------------------------------------------------------------------------------------
// ch01.1: arithmetic. Compute the result's data now, and record how it was made with
// Value::from_op(data, op, {operands}) so that backward can retrace it later.

Value operator+(const Value& a, const Value& b) {
  // TODO(ch01.1): a node holding a.data() + b.data(), made by Op::kAdd from a and b.
  // Hint: one line, `return Value::from_op(..., Op::kAdd, {a, b});`. A double on either side
  // (x + 1, 2.0 * x) already arrives here as a leaf Value: the constructor from double is
  // implicit.
  throw course::NotImplemented("ch01.1: operator+");
}

Value operator-(const Value& a, const Value& b) {
  // TODO(ch01.1): as operator+, with Op::kSub. Keep it its own op (not a + (-b)): the tests
  // check op() and it keeps the graph small.
  throw course::NotImplemented("ch01.1: operator- (binary)");
}

Value operator*(const Value& a, const Value& b) {
  // TODO(ch01.1): as operator+, with Op::kMul.
  throw course::NotImplemented("ch01.1: operator*");
}

Value operator/(const Value& a, const Value& b) {
  // TODO(ch01.1): as operator+, with Op::kDiv (its own op, not a * b.pow(-1)).
  throw course::NotImplemented("ch01.1: operator/");
}

Value operator-(const Value& a) {
  // TODO(ch01.1): Op::kNeg, one operand.
  throw course::NotImplemented("ch01.1: operator- (unary)");
}

// ---------------------------------------------------------------------------------------
// ch01.2: functions of one value. Same pattern: compute with <cmath>, record the op.

Value Value::pow(double exponent) const {
  // TODO(ch01.2): std::pow(data(), exponent), Op::kPow, operand *this; keep the exponent in
  // the node (from_op's last argument): backward needs it.
  throw course::NotImplemented("ch01.2: Value::pow");
}

Value Value::exp() const {
  // TODO(ch01.2): std::exp, Op::kExp.
  throw course::NotImplemented("ch01.2: Value::exp");
}

Value Value::log() const {
  // TODO(ch01.2): std::log, Op::kLog. First, if data() <= 0, throw std::domain_error with a
  // message naming the op and the value ("log: the argument must be positive, got -2.5"):
  // a NaN here would silently poison every gradient downstream.
  throw course::NotImplemented("ch01.2: Value::log");
}

Value Value::tanh() const {
  // TODO(ch01.2): std::tanh (not a formula of exps: those overflow for large inputs),
  // Op::kTanh.
  throw course::NotImplemented("ch01.2: Value::tanh");
}

Value Value::relu() const {
  // TODO(ch01.2): data() if it is > 0, else 0.0; Op::kRelu.
  throw course::NotImplemented("ch01.2: Value::relu");
}

// ---------------------------------------------------------------------------------------
// ch01.3: the local derivative of each op, times the grad that reached this node.

void Value::push_grad_to_operands() const {
  // TODO(ch01.3): with out = *node_ and g = out.grad, add to each operand's grad
  //   g * d(out)/d(operand)
  // A switch over out.op, one case per op. For out = a * b: a.grad += g * b.data and
  // b.grad += g * a.data. Work out the others on paper first (the README's table helps);
  // for exp and tanh the derivative is easiest written with out.data.
  // Hint: always +=, never =. In x * x both operands are the same node, and it must receive
  // both contributions; the same holds for a node used by several other nodes.
  // A leaf has no operands: return without doing anything.
  throw course::NotImplemented("ch01.3: Value::push_grad_to_operands");
}

// ---------------------------------------------------------------------------------------
// ch01.4: depth-first search, each node emitted after all of its operands.

std::vector<Value> Value::topological_order() const {
  // TODO(ch01.4): visit(v): if v was visited, return; mark it; visit each operand; then
  // append v. Start with visit(*this).
  // Hint: keep the visited nodes in a std::unordered_set<const Node*> (Value::node() gives
  // the pointer). Without it a node shared by many paths is listed once per path: twice in a
  // diamond, 2^n times in a ladder of n. A recursive lambda needs std::function (or a small
  // helper function taking the set and the output vector by reference).
  throw course::NotImplemented("ch01.4: Value::topological_order");
}

// ---------------------------------------------------------------------------------------
// ch01.5: the whole backward pass.

void Value::backward() const {
  // TODO(ch01.5):
  //   1. order = topological_order()
  //   2. set grad 0 on every node of `order` that is not a leaf (op() != Op::kLeaf): grads
  //      left there by an earlier backward() would otherwise be pushed again
  //   3. this node's grad += 1 (d(this)/d(this))
  //   4. walk `order` from the back and call push_grad_to_operands() on each node
  // Hint: why from the back? A node may push only once its own grad is complete, after every
  // node that uses it has pushed into it. Reverse topological order guarantees that.
  throw course::NotImplemented("ch01.5: Value::backward");
}

void Value::zero_grad() const {
  // TODO(ch01.5): set grad 0 on every node of topological_order(), leaves included.
  throw course::NotImplemented("ch01.5: Value::zero_grad");
}

}  // namespace ch01
