#include "tinyref/autograd/autograd.h"

#include <cmath>
#include <numeric>

#include "tinyref/error.h"

namespace tinyref {

namespace {

LazyRef full_like(const LazyRef& x, double v) { return LazyBuffer::constant(v, x->dtype(), x->device(), x->shape()); }
LazyRef alu(Op op, std::vector<LazyRef> s) { return LazyBuffer::alu(op, s); }
LazyRef mul(const LazyRef& a, const LazyRef& b) { return alu(Op::MUL, {a, b}); }
LazyRef neg(const LazyRef& a) { return alu(Op::NEG, {a}); }
LazyRef scale(const LazyRef& a, double k) { return mul(a, full_like(a, k)); }

}  // namespace

bool has_backward_rule(Op op) { return !op_has(op, kNoGradient); }

std::vector<LazyRef> backward_rule(const GradNode& n, const LazyRef& g) {
  const std::vector<LazyRef>& in = n.inputs;
  const LazyRef& out = n.output;
  switch (n.op) {
    // d/dx of each unary op, as a multiple of the incoming gradient.
    case Op::NEG: return {neg(g)};
    case Op::EXP2: return {mul(g, scale(out, std::log(2.0)))};
    case Op::LOG2: return {alu(Op::DIV, {g, scale(in[0], std::log(2.0))})};
    case Op::SIN: return {mul(g, alu(Op::SIN, {alu(Op::SUB, {full_like(in[0], M_PI / 2), in[0]})}))};
    case Op::SQRT: return {alu(Op::DIV, {g, scale(out, 2.0)})};
    case Op::RECIP: return {neg(mul(g, mul(out, out)))};
    case Op::CAST: return {is_float(in[0]->dtype()) ? g->cast(in[0]->dtype()) : nullptr};
    case Op::ADD: return {g, g};
    case Op::SUB: return {g, neg(g)};
    case Op::MUL: return {mul(g, in[1]), mul(g, in[0])};
    case Op::DIV: {
      LazyRef gy = neg(alu(Op::DIV, {mul(g, in[0]), mul(in[1], in[1])}));
      return {alu(Op::DIV, {g, in[1]}), gy};
    }
    case Op::MAX: {
      // Ties split the gradient evenly, so max(x, x) passes it all through.
      LazyRef x_wins = alu(Op::CMPLT, {in[1], in[0]})->cast(g->dtype());
      LazyRef tie = alu(Op::CMPNE, {alu(Op::CMPNE, {in[0], in[1]}), full_like(x_wins, 1)->cast(DType::kBool)});
      LazyRef share = alu(Op::ADD, {x_wins, scale(tie->cast(g->dtype()), 0.5)});
      LazyRef gx = mul(g, share);
      return {gx, alu(Op::SUB, {g, gx})};
    }
    case Op::WHERE: {
      LazyRef zero = full_like(g, 0);
      return {nullptr, alu(Op::WHERE, {in[0], g, zero}), alu(Op::WHERE, {in[0], zero, g})};
    }
    case Op::MULACC: return {mul(g, in[1]), mul(g, in[0]), g};
    case Op::SUM: return {g->expand(in[0]->shape())};
    case Op::RMAX: {
      // Split evenly among the positions that reach the max.
      LazyRef hit = alu(Op::CMPNE, {alu(Op::CMPNE, {in[0], out->expand(in[0]->shape())}),
                                    LazyBuffer::constant(1, DType::kBool, g->device(), in[0]->shape())});
      LazyRef mask = hit->cast(g->dtype());
      std::vector<int> axes(n.arg.ints.begin(), n.arg.ints.end());
      LazyRef count = mask->reduce(Op::SUM, axes);
      return {mul(mask, alu(Op::DIV, {g, count})->expand(in[0]->shape()))};
    }
    case Op::RESHAPE: return {g->reshape(in[0]->shape())};
    case Op::PERMUTE: {
      std::vector<int> inv(n.arg.ints.size());
      for (size_t i = 0; i < inv.size(); ++i) inv[n.arg.ints[i]] = static_cast<int>(i);
      return {g->permute(inv)};
    }
    case Op::EXPAND: {
      std::vector<int> axes;
      for (size_t i = 0; i < in[0]->shape().size(); ++i) {
        if (in[0]->shape()[i] != g->shape()[i]) axes.push_back(static_cast<int>(i));
      }
      return {g->reduce(Op::SUM, axes)};
    }
    case Op::PAD: {
      Pairs lo_hi;
      for (size_t i = 0; i < n.arg.pairs.size(); ++i) {
        lo_hi.push_back({n.arg.pairs[i].first, n.arg.pairs[i].first + in[0]->shape()[i]});
      }
      return {g->shrink(lo_hi)};
    }
    case Op::SHRINK: {
      Pairs pad;
      for (size_t i = 0; i < n.arg.pairs.size(); ++i) {
        pad.push_back({n.arg.pairs[i].first, in[0]->shape()[i] - n.arg.pairs[i].second});
      }
      return {g->pad(pad)};
    }
    case Op::FLIP: {
      std::vector<bool> axes(n.arg.ints.begin(), n.arg.ints.end());
      return {g->flip(axes)};
    }
    case Op::CONTIGUOUS: return {g};
    case Op::COPY: return {g->copy_to(in[0]->device())};
    default:
      TT_ASSERT(!has_backward_rule(n.op));
      return std::vector<LazyRef>(in.size(), nullptr);
  }
}

}  // namespace tinyref
