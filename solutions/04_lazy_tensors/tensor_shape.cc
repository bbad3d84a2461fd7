// Movement (views: no copy) and reductions on Tensors (given). Each checks its arguments with a
// message a user can act on, then records one primitive op.
#include <algorithm>
#include <functional>
#include <numeric>

#include "ch04/tensor.h"
#include "tensor_internal.h"  // private to the chapter: not under ch04/

namespace ch04 {

namespace {

OpArg ints_arg(std::vector<int64_t> ints) {
  OpArg a;
  a.ints = std::move(ints);
  return a;
}

OpArg pairs_arg(Pairs pairs) {
  OpArg a;
  a.pairs = std::move(pairs);
  return a;
}

// One op on x, recorded unless it changed nothing (a view of the same shape, a reduce of
// size-1 axes).
Tensor as_op(const Tensor& x, Op op, LazyRef out, const OpArg& arg) {
  if (out == x.lazy()) return x;
  return TensorOps::record(std::move(out), op, arg, {x});
}

// SUM or RMAX over `axes` (normalized), recorded; the reduced axes are then squeezed out
// (erased from the back, so that the positions of the others hold) unless keepdim.
Tensor reduce(const Tensor& x, Op op, std::vector<int> axes, bool keepdim) {
  const Tensor r = as_op(x, op, x.lazy()->reduce(op, axes), ints_arg({axes.begin(), axes.end()}));
  if (keepdim) return r;
  std::sort(axes.begin(), axes.end(), std::greater<>());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Shape squeezed = r.shape();
  for (int a : axes) squeezed.erase(squeezed.begin() + a);
  return r.reshape(squeezed);
}

}  // namespace

// ---------------------------------------------------------------------------- movement

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape s = new_shape;
  auto unknown = std::find(s.begin(), s.end(), -1);
  if (unknown != s.end()) {
    if (std::count(s.begin(), s.end(), -1) > 1) throw ShapeError("reshape: more than one -1 in " + shape_str(new_shape));
    *unknown = 1;
    const int64_t known = prod(s);
    if (known <= 0 || numel() % known != 0) {
      throw ShapeError("reshape: cannot reshape " + shape_str(shape()) + " to " + shape_str(new_shape));
    }
    *unknown = numel() / known;
  }
  return as_op(*this, Op::RESHAPE, lazy()->reshape(s), ints_arg(s));
}

Tensor Tensor::permute(const std::vector<int>& order) const {
  if (static_cast<int64_t>(order.size()) != ndim()) {
    throw ShapeError("permute: " + std::to_string(order.size()) + " axes given for shape " + shape_str(shape()));
  }
  std::vector<int> o;
  for (int a : order) {
    const int axis = TensorOps::axis(*this, a, "permute");
    if (std::find(o.begin(), o.end(), axis) != o.end()) {
      throw ShapeError("permute: axis " + std::to_string(a) + " repeated in the order for shape " + shape_str(shape()));
    }
    o.push_back(axis);
  }
  return as_op(*this, Op::PERMUTE, lazy()->permute(o), ints_arg({o.begin(), o.end()}));
}

Tensor Tensor::transpose(int a, int b) const {
  const int first = TensorOps::axis(*this, a, "transpose"), second = TensorOps::axis(*this, b, "transpose");
  std::vector<int> order;  // every axis in place but the two, which trade places
  for (int d = 0; d < ndim(); ++d) order.push_back(d == first ? second : d == second ? first : d);
  return permute(order);
}

Tensor Tensor::expand(const Shape& new_shape) const {
  if (new_shape.size() < shape().size()) {
    throw ShapeError("expand: cannot expand " + shape_str(shape()) + " to " + shape_str(new_shape) + " (fewer axes)");
  }
  Shape ones_left(new_shape.size() - shape().size(), 1);  // numpy: new axes on the left
  ones_left.insert(ones_left.end(), shape().begin(), shape().end());
  Shape target = new_shape;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) target[i] = ones_left[i];
  }
  Tensor x = reshape(ones_left);
  return as_op(x, Op::EXPAND, x.lazy()->expand(target), ints_arg(target));
}

Tensor Tensor::pad(const Pairs& before_after, double value) const {
  Tensor padded = as_op(*this, Op::PAD, lazy()->pad(before_after), pairs_arg(before_after));
  if (value == 0) return padded;
  // Padding reads 0: put `value` there by selecting with a padded mask of ones.
  Tensor inside = Tensor::ones(shape(), dtype()).pad(before_after);
  return inside.where(padded, Tensor::full({}, value, dtype()));
}

Tensor Tensor::shrink(const Pairs& lo_hi) const {
  return as_op(*this, Op::SHRINK, lazy()->shrink(lo_hi), pairs_arg(lo_hi));
}

Tensor Tensor::flip(const std::vector<int>& axes) const {
  std::vector<bool> flags(ndim(), false);
  for (int a : axes) flags[TensorOps::axis(*this, a, "flip")] = true;
  return as_op(*this, Op::FLIP, lazy()->flip(flags), ints_arg({flags.begin(), flags.end()}));
}

Tensor Tensor::flatten(int start) const {
  if (ndim() == 0) return reshape({1});
  const int s = TensorOps::axis(*this, start, "flatten");
  Shape out(shape().begin(), shape().begin() + s);
  out.push_back(prod(Shape(shape().begin() + s, shape().end())));
  return reshape(out);
}

Tensor Tensor::unsqueeze(int axis) const {
  const int n = static_cast<int>(ndim());
  if (axis < -n - 1 || axis > n) {
    throw ShapeError("unsqueeze: axis " + std::to_string(axis) + " is out of range for shape " + shape_str(shape()));
  }
  Shape s = shape();
  s.insert(s.begin() + (axis < 0 ? axis + n + 1 : axis), 1);
  return reshape(s);
}

Tensor Tensor::squeeze(int axis) const {
  const int a = TensorOps::axis(*this, axis, "squeeze");
  if (shape()[a] != 1) {
    throw ShapeError("squeeze: axis " + std::to_string(axis) + " has size " + std::to_string(shape()[a]) + " in " +
                     shape_str(shape()));
  }
  Shape s = shape();
  s.erase(s.begin() + a);
  return reshape(s);
}

Tensor Tensor::contiguous() const {
  return as_op(*this, Op::CONTIGUOUS, lazy()->contiguous(), {});
}

// ---------------------------------------------------------------------------- reductions

Tensor Tensor::sum(const std::vector<int>& axes, bool keepdim) const {
  return reduce(*this, Op::SUM, TensorOps::axes(*this, axes, "sum"), keepdim);
}

Tensor Tensor::max(const std::vector<int>& axes, bool keepdim) const {
  const std::vector<int> ax = TensorOps::axes(*this, axes, "max");
  for (int a : ax) {
    if (shape()[a] == 0) throw ShapeError("max: axis " + std::to_string(a) + " is empty in shape " + shape_str(shape()));
  }
  return reduce(*this, Op::RMAX, ax, keepdim);
}

Tensor Tensor::mean(const std::vector<int>& axes, bool keepdim) const {
  int64_t count = 1;
  for (int a : TensorOps::axes(*this, axes, "mean")) count *= shape()[a];
  return sum(axes, keepdim) / static_cast<double>(count);  // no elements: 0/0 = NaN, as PyTorch
}

Tensor Tensor::var(const std::vector<int>& axes, bool keepdim, int correction) const {
  int64_t count = 1;
  for (int a : TensorOps::axes(*this, axes, "var")) count *= shape()[a];
  const Tensor deviation = *this - mean(axes, true);
  // As PyTorch: divided by max(0, count - correction), so one value with correction 1 is NaN.
  return deviation.square().sum(axes, keepdim) / static_cast<double>(std::max<int64_t>(count - correction, 0));
}

}  // namespace ch04
