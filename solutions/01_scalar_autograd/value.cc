#include "ch01/value.h"

#include <cmath>
#include <functional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

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
// ch01.1: arithmetic. The result's data is computed now (eagerly); the node remembers how.

Value operator+(const Value& a, const Value& b) {
  return Value::from_op(a.data() + b.data(), Op::kAdd, {a, b});
}

Value operator-(const Value& a, const Value& b) {
  return Value::from_op(a.data() - b.data(), Op::kSub, {a, b});
}

Value operator*(const Value& a, const Value& b) {
  return Value::from_op(a.data() * b.data(), Op::kMul, {a, b});
}

Value operator/(const Value& a, const Value& b) {
  return Value::from_op(a.data() / b.data(), Op::kDiv, {a, b});
}

Value operator-(const Value& a) { return Value::from_op(-a.data(), Op::kNeg, {a}); }

// ---------------------------------------------------------------------------------------
// ch01.2: functions of one value.

Value Value::pow(double exponent) const {
  return from_op(std::pow(data(), exponent), Op::kPow, {*this}, exponent);
}

Value Value::exp() const { return from_op(std::exp(data()), Op::kExp, {*this}); }

Value Value::log() const {
  // NaN or -inf here would poison every gradient downstream; better to stop where it starts.
  if (!(data() > 0)) {
    std::ostringstream message;
    message << "log: the argument must be positive, got " << data();
    throw std::domain_error(message.str());
  }
  return from_op(std::log(data()), Op::kLog, {*this});
}

Value Value::tanh() const { return from_op(std::tanh(data()), Op::kTanh, {*this}); }

Value Value::relu() const { return from_op(data() > 0 ? data() : 0.0, Op::kRelu, {*this}); }

// ---------------------------------------------------------------------------------------
// ch01.3: the local derivative of each op, times the grad that reached this node.

void Value::push_grad_to_operands() const {
  const Node& out = *node_;
  if (out.op == Op::kLeaf) return;
  // += everywhere: a node used twice (x * x, or by two different users) gets one
  // contribution per use, and its gradient is their sum.
  Node& a = *out.operands[0];
  const double g = out.grad;
  switch (out.op) {
    case Op::kLeaf: break;
    case Op::kAdd: a.grad += g; out.operands[1]->grad += g; break;
    case Op::kSub: a.grad += g; out.operands[1]->grad -= g; break;
    case Op::kMul: {
      Node& b = *out.operands[1];
      a.grad += g * b.data;
      b.grad += g * a.data;
      break;
    }
    case Op::kDiv: {
      Node& b = *out.operands[1];
      a.grad += g / b.data;
      b.grad -= g * a.data / (b.data * b.data);
      break;
    }
    case Op::kNeg: a.grad -= g; break;
    case Op::kPow: a.grad += g * out.exponent * std::pow(a.data, out.exponent - 1); break;
    case Op::kExp: a.grad += g * out.data; break;  // d(e^x)/dx is e^x: the output itself
    case Op::kLog: a.grad += g / a.data; break;
    case Op::kTanh: a.grad += g * (1 - out.data * out.data); break;
    case Op::kRelu: a.grad += a.data > 0 ? g : 0.0; break;
  }
}

// ---------------------------------------------------------------------------------------
// ch01.4: depth-first search, each node emitted after all of its operands.

std::vector<Value> Value::topological_order() const {
  std::vector<Value> order;
  std::unordered_set<const Node*> visited;
  // Recursion is fine for this chapter's graphs (a few thousand levels at most); chapter 3's
  // backward (solutions/03_autograd_nn/autograd.cc) keeps an explicit stack for deeper ones.
  std::function<void(const std::shared_ptr<Node>&)> visit =
      [&](const std::shared_ptr<Node>& node) {
        if (!visited.insert(node.get()).second) return;  // reached before by another path
        for (const auto& operand : node->operands) visit(operand);
        order.push_back(Value(node));
      };
  visit(node_);
  return order;
}

// ---------------------------------------------------------------------------------------
// ch01.5: the whole backward pass.

void Value::backward() const {
  const std::vector<Value> order = topological_order();
  // Inner grads left by an earlier backward() would be pushed to the leaves a second time.
  for (const Value& v : order) {
    if (v.op() != Op::kLeaf) v.set_grad(0);
  }
  node_->grad += 1;  // d(this)/d(this)
  // Reverse topological order: a node's grad is complete (every user has pushed into it)
  // before it pushes to its own operands.
  for (auto it = order.rbegin(); it != order.rend(); ++it) it->push_grad_to_operands();
}

void Value::zero_grad() const {
  for (const Value& v : topological_order()) v.set_grad(0);
}

}  // namespace ch01
