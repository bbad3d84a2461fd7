#include "tinyref/scalar/value.h"

#include <cmath>
#include <ostream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "tinyref/error.h"

namespace tinyref::scalar {

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

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending = std::move(operands);
  while (!pending.empty()) {
    std::shared_ptr<Node> last = std::move(pending.back());
    pending.pop_back();
    // Sole owner: take its operands before it dies, so its destructor has nothing to recurse
    // into. Single-threaded, so use_count is exact.
    if (last.use_count() == 1) {
      for (auto& operand : last->operands) pending.push_back(std::move(operand));
      last->operands.clear();
    }
  }
}

Value::Value(double data) : node_(std::make_shared<Node>()) { node_->data = data; }

Value::Value(double data, std::string label) : Value(data) { node_->label = std::move(label); }

Value Value::from_op(double data, Op op, std::vector<Value> operands, double exponent) {
  auto node = std::make_shared<Node>();
  node->data = data;
  node->op = op;
  node->exponent = exponent;
  node->operands.reserve(operands.size());
  for (Value& operand : operands) node->operands.push_back(std::move(operand.node_));
  return Value(std::move(node));
}

std::vector<Value> Value::operands() const {
  std::vector<Value> out;
  out.reserve(node_->operands.size());
  for (const auto& operand : node_->operands) out.push_back(Value(operand));
  return out;
}

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

Value Value::pow(double exponent) const {
  return from_op(std::pow(data(), exponent), Op::kPow, {*this}, exponent);
}

Value Value::exp() const { return from_op(std::exp(data()), Op::kExp, {*this}); }

Value Value::log() const {
  // micrograd would return NaN (or -inf) here and let it poison every gradient downstream;
  // stopping at the op that went wrong is kinder.
  TT_CHECK(data() > 0, "log: the argument must be positive, got " << data());
  return from_op(std::log(data()), Op::kLog, {*this});
}

Value Value::tanh() const { return from_op(std::tanh(data()), Op::kTanh, {*this}); }

Value Value::relu() const { return from_op(data() > 0 ? data() : 0.0, Op::kRelu, {*this}); }

void Value::push_grad_to_operands() const {
  const Node& out = *node_;
  if (out.op == Op::kLeaf) return;
  // += everywhere: an operand used by several nodes (or twice by this one, as in x * x)
  // receives one contribution per use, and its gradient is their sum.
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
    case Op::kExp: a.grad += g * out.data; break;
    case Op::kLog: a.grad += g / a.data; break;
    case Op::kTanh: a.grad += g * (1 - out.data * out.data); break;
    case Op::kRelu: a.grad += a.data > 0 ? g : 0.0; break;
  }
}

std::vector<Value> Value::topological_order() const {
  // Depth-first, post-order, with an explicit stack: recursion would overflow on long chains.
  // Each stack entry is a node and the index of the next operand to look at.
  std::vector<Value> order;
  std::unordered_set<const Node*> seen = {node_.get()};
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack = {{node_, 0}};
  while (!stack.empty()) {
    auto& [node, next_operand] = stack.back();
    if (next_operand < node->operands.size()) {
      const std::shared_ptr<Node>& operand = node->operands[next_operand++];
      if (seen.insert(operand.get()).second) stack.push_back({operand, 0});
      continue;
    }
    order.push_back(Value(std::move(node)));  // all its operands are already in `order`
    stack.pop_back();
  }
  return order;
}

void Value::backward() const {
  const std::vector<Value> order = topological_order();
  // Inner grads from an earlier backward() would be pushed to the leaves a second time.
  for (const Value& v : order) {
    if (v.op() != Op::kLeaf) v.node_->grad = 0;
  }
  node_->grad += 1;
  for (auto it = order.rbegin(); it != order.rend(); ++it) it->push_grad_to_operands();
}

void Value::zero_grad() const {
  for (const Value& v : topological_order()) v.node_->grad = 0;
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
      dot << "  n" << index.at(operand.node()) << " -> n" << i << ";\n";
    }
  }
  dot << "}\n";
  return dot.str();
}

}  // namespace tinyref::scalar
