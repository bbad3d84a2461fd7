#include "ch04/autograd.h"

#include <cmath>
#include <stdexcept>

namespace ch04 {

namespace {

// Shorthands: every rule below is lazy ops on lazy nodes.
LazyRef full_like(const LazyRef& x, double v) { return LazyBuffer::constant(v, x->dtype(), x->shape()); }
LazyRef neg(const LazyRef& a) { return LazyBuffer::alu(Op::NEG, {a}); }
LazyRef add(const LazyRef& a, const LazyRef& b) { return LazyBuffer::alu(Op::ADD, {a, b}); }
LazyRef sub(const LazyRef& a, const LazyRef& b) { return LazyBuffer::alu(Op::SUB, {a, b}); }
LazyRef mul(const LazyRef& a, const LazyRef& b) { return LazyBuffer::alu(Op::MUL, {a, b}); }
LazyRef div(const LazyRef& a, const LazyRef& b) { return LazyBuffer::alu(Op::DIV, {a, b}); }
LazyRef scale(const LazyRef& a, double k) { return mul(a, full_like(a, k)); }
// 1 where a == b, else 0: ne(ne(a, b), 1), as tinyref writes equality.
LazyRef equal(const LazyRef& a, const LazyRef& b) {
  LazyRef differ = LazyBuffer::alu(Op::CMPNE, {a, b});
  return LazyBuffer::alu(Op::CMPNE, {differ, full_like(differ, 1)});
}

// ch04.6: d out / d input for the elementwise ops, times g.
std::vector<LazyRef> elementwise_rule(const GradNode& n, const LazyRef& g) {
  const std::vector<LazyRef>& in = n.inputs;
  const LazyRef& out = n.output;
  switch (n.op) {
    case Op::NEG: return {neg(g)};
    case Op::EXP2: return {mul(g, scale(out, std::log(2.0)))};                 // 2^x ln 2
    case Op::LOG2: return {div(g, scale(in[0], std::log(2.0)))};               // 1 / (x ln 2)
    case Op::SIN: return {mul(g, LazyBuffer::alu(Op::SIN, {sub(full_like(in[0], M_PI / 2), in[0])}))};  // cos x
    case Op::SQRT: return {div(g, scale(out, 2.0))};                           // 1 / (2 sqrt x)
    case Op::RECIP: return {neg(mul(g, mul(out, out)))};                       // -1 / x^2
    case Op::ADD: return {g, g};
    case Op::SUB: return {g, neg(g)};
    case Op::MUL: return {mul(g, in[1]), mul(g, in[0])};
    case Op::DIV: return {div(g, in[1]), neg(div(mul(g, in[0]), mul(in[1], in[1])))};  // -x / y^2
    case Op::MAX: {
      // The larger input takes the gradient; on a tie each takes half (max(x, x) passes it all).
      LazyRef x_wins = LazyBuffer::alu(Op::CMPLT, {in[1], in[0]});
      LazyRef share = add(x_wins, scale(equal(in[0], in[1]), 0.5));
      LazyRef gx = mul(g, share);
      return {gx, sub(g, gx)};
    }
    case Op::WHERE: {
      LazyRef zero = full_like(g, 0);
      return {nullptr, LazyBuffer::alu(Op::WHERE, {in[0], g, zero}), LazyBuffer::alu(Op::WHERE, {in[0], zero, g})};
    }
    default: throw std::logic_error(std::string("elementwise_rule: ") + op_name(n.op));
  }
}

// ch04.7: reductions send the gradient back to the elements that made the result; a movement
// op's gradient is the inverse movement.
std::vector<LazyRef> reduce_or_movement_rule(const GradNode& n, const LazyRef& g) {
  const LazyRef& x = n.inputs[0];
  const Shape& in_shape = x->shape();
  switch (n.op) {
    case Op::SUM: return {g->expand(in_shape)};  // every element counted once
    case Op::RMAX: {
      // Split evenly among the positions that reach the max.
      LazyRef hit = equal(x, n.output->expand(in_shape));
      std::vector<int> axes(n.arg.ints.begin(), n.arg.ints.end());
      LazyRef count = hit->reduce(Op::SUM, axes);
      return {mul(hit, div(g, count)->expand(in_shape))};
    }
    case Op::RESHAPE: return {g->reshape(in_shape)};
    case Op::PERMUTE: {
      std::vector<int> inverse(n.arg.ints.size());
      for (size_t i = 0; i < inverse.size(); ++i) inverse[n.arg.ints[i]] = static_cast<int>(i);
      return {g->permute(inverse)};
    }
    case Op::EXPAND: {  // each input element was read by every position along the grown axes
      std::vector<int> grown;
      for (size_t i = 0; i < in_shape.size(); ++i) {
        if (in_shape[i] != g->shape()[i]) grown.push_back(static_cast<int>(i));
      }
      return {g->reduce(Op::SUM, grown)};
    }
    case Op::PAD: {  // the padding had no input behind it: cut it off
      Pairs keep;
      for (size_t i = 0; i < in_shape.size(); ++i) keep.push_back({n.arg.pairs[i].first, n.arg.pairs[i].first + in_shape[i]});
      return {g->shrink(keep)};
    }
    case Op::SHRINK: {  // the cut-off elements got no gradient: zeros around it
      Pairs zeros;
      for (size_t i = 0; i < in_shape.size(); ++i) zeros.push_back({n.arg.pairs[i].first, in_shape[i] - n.arg.pairs[i].second});
      return {g->pad(zeros)};
    }
    case Op::FLIP: return {g->flip(std::vector<bool>(n.arg.ints.begin(), n.arg.ints.end()))};
    case Op::CONTIGUOUS: return {g};
    default: throw std::logic_error(std::string("reduce_or_movement_rule: ") + op_name(n.op));
  }
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
