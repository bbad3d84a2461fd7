#include "ch04/autograd.h"

#include <cmath>
#include <stdexcept>

#include "chapters/course.h"

namespace ch04 {

namespace {

// Shorthands: every rule below is lazy ops on lazy nodes.
[[maybe_unused]] LazyRef full_like(const LazyRef& x, double v) { return LazyBuffer::constant(v, x->dtype(), x->shape()); }
[[maybe_unused]] LazyRef neg(const LazyRef& a) { return LazyBuffer::alu(Op::NEG, {a}); }
[[maybe_unused]] LazyRef add(const LazyRef& a, const LazyRef& b) { return LazyBuffer::alu(Op::ADD, {a, b}); }
[[maybe_unused]] LazyRef sub(const LazyRef& a, const LazyRef& b) { return LazyBuffer::alu(Op::SUB, {a, b}); }
[[maybe_unused]] LazyRef mul(const LazyRef& a, const LazyRef& b) { return LazyBuffer::alu(Op::MUL, {a, b}); }
[[maybe_unused]] LazyRef div(const LazyRef& a, const LazyRef& b) { return LazyBuffer::alu(Op::DIV, {a, b}); }
[[maybe_unused]] LazyRef scale(const LazyRef& a, double k) { return mul(a, full_like(a, k)); }
// 1 where a == b, else 0: ne(ne(a, b), 1), as tinyref writes equality.
[[maybe_unused]] LazyRef equal(const LazyRef& a, const LazyRef& b) {
  LazyRef differ = LazyBuffer::alu(Op::CMPNE, {a, b});
  return LazyBuffer::alu(Op::CMPNE, {differ, full_like(differ, 1)});
}

// TODO(ch04.6): the rules of the elementwise ops: for each input, grad times d out / d input,
// written with the shorthands above (lazy ops: nothing is computed here). NEG EXP2 LOG2 SIN
// SQRT RECIP ADD SUB MUL DIV MAX WHERE; see autograd.h for what each case returns.
std::vector<LazyRef> elementwise_rule(const GradNode& n, const LazyRef& g) {
  throw course::NotImplemented(std::string("ch04.6: the backward rule of ") + op_name(n.op));
}

// TODO(ch04.7): SUM, RMAX (ties split evenly), RESHAPE, PERMUTE, EXPAND, PAD, SHRINK, FLIP and
// CONTIGUOUS. n.arg is the forward op's argument; n.inputs[0]->shape() the shape to return to.
std::vector<LazyRef> reduce_or_movement_rule(const GradNode& n, const LazyRef& g) {
  throw course::NotImplemented(std::string("ch04.7: the backward rule of ") + op_name(n.op));
}

}  // namespace

bool has_backward_rule(Op op) {
  return op != Op::CMPLT && op != Op::CMPNE && op != Op::LOAD && op != Op::CONST;
}

std::vector<LazyRef> backward_rule(const GradNode& node, const LazyRef& grad) {
  if (!has_backward_rule(node.op)) return std::vector<LazyRef>(node.inputs.size(), nullptr);
  if (is_elementwise(node.op)) return elementwise_rule(node, grad);
  return reduce_or_movement_rule(node, grad);
}

}  // namespace ch04
