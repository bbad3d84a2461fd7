// Tensor movement ops (all zero-copy views) and reductions.
#include <algorithm>
#include <numeric>

#include "tinyref/tensor.h"
#include "tinyref/tensor_internal.h"

namespace tinyref {

namespace {
LazyArg ints_arg(const std::vector<int64_t>& v) {
  LazyArg a;
  a.ints = v;
  return a;
}
LazyArg pairs_arg(const Pairs& p) {
  LazyArg a;
  a.pairs = p;
  return a;
}
}  // namespace

// ---------------------------------------------------------------- movement

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape s = new_shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      TT_CHECK(infer < 0, "reshape: more than one -1 in " << shape_str(new_shape));
      infer = static_cast<int>(i);
    } else {
      TT_CHECK(s[i] >= 0, "reshape: bad dimension " << s[i] << " in " << shape_str(new_shape));
      TT_CHECK(!__builtin_mul_overflow(known, s[i], &known),
               "reshape: " << shape_str(new_shape) << " has more elements than an int64 counts");
    }
  }
  if (infer >= 0) {
    TT_CHECK(known > 0 && numel() % known == 0,
             "reshape: cannot reshape " << shape_str(shape()) << " to " << shape_str(new_shape));
    s[infer] = numel() / known;
  }
  TT_CHECK(prod(s) == numel(), "reshape: cannot reshape " << shape_str(shape()) << " (" << numel()
                                                          << " elements) to " << shape_str(new_shape));
  return TensorOps::movement(*this, Op::RESHAPE, ints_arg(s));
}

Tensor Tensor::permute(const std::vector<int>& order) const {
  TT_CHECK(static_cast<int64_t>(order.size()) == ndim(),
           "permute: " << order.size() << " axes given for shape " << shape_str(shape()));
  std::vector<int64_t> o;
  std::vector<bool> used(ndim(), false);
  for (int a : order) {
    const int ax = TensorOps::axis(*this, a, "permute");
    TT_CHECK(!used[ax], "permute: axis " << a << " repeated for shape " << shape_str(shape()));
    used[ax] = true;
    o.push_back(ax);
  }
  return TensorOps::movement(*this, Op::PERMUTE, ints_arg(o));
}

Tensor Tensor::transpose(int a, int b) const {
  std::vector<int> order(ndim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[TensorOps::axis(*this, a, "transpose")], order[TensorOps::axis(*this, b, "transpose")]);
  return permute(order);
}

Tensor Tensor::expand(const Shape& new_shape) const {
  TT_CHECK(new_shape.size() >= shape().size(),
           "expand: cannot expand " << shape_str(shape()) << " to " << shape_str(new_shape));
  Shape padded(new_shape.size() - shape().size(), 1);
  padded.insert(padded.end(), shape().begin(), shape().end());
  Shape target = new_shape;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) target[i] = padded[i];
    TT_CHECK(padded[i] == target[i] || padded[i] == 1,
             "expand: cannot expand " << shape_str(shape()) << " to " << shape_str(new_shape));
  }
  return TensorOps::movement(reshape(padded), Op::EXPAND, ints_arg(target));
}

Tensor Tensor::pad(const Pairs& before_after, double value) const {
  TT_CHECK(static_cast<int64_t>(before_after.size()) == ndim(),
           "pad: " << before_after.size() << " (before, after) pairs for shape " << shape_str(shape()));
  for (auto [b, a] : before_after) TT_CHECK(b >= 0 && a >= 0, "pad: negative padding for shape " << shape_str(shape()));
  Tensor out = TensorOps::movement(*this, Op::PAD, pairs_arg(before_after));
  if (value == 0) return out;
  // Padded positions read 0; select the fill value there with a padded all-true mask.
  Tensor inside = TensorOps::movement(Tensor::full(shape(), 1, DType::kBool, device()), Op::PAD, pairs_arg(before_after));
  return inside.where(out, Tensor::full({}, value, dtype(), device()));
}

Tensor Tensor::shrink(const Pairs& lo_hi) const {
  TT_CHECK(static_cast<int64_t>(lo_hi.size()) == ndim(),
           "shrink: " << lo_hi.size() << " ranges for shape " << shape_str(shape()));
  for (size_t i = 0; i < lo_hi.size(); ++i) {
    TT_CHECK(0 <= lo_hi[i].first && lo_hi[i].first <= lo_hi[i].second && lo_hi[i].second <= shape()[i],
             "shrink: range [" << lo_hi[i].first << ", " << lo_hi[i].second << ") is out of bounds for axis "
                               << i << " of shape " << shape_str(shape()));
  }
  return TensorOps::movement(*this, Op::SHRINK, pairs_arg(lo_hi));
}

Tensor Tensor::flip(const std::vector<int>& axes) const {
  std::vector<int64_t> flags(ndim(), 0);
  for (int a : axes) flags[TensorOps::axis(*this, a, "flip")] = 1;
  return TensorOps::movement(*this, Op::FLIP, ints_arg(flags));
}

Tensor Tensor::flatten(int start, int end) const {
  if (ndim() == 0) return reshape({1});
  const int s = TensorOps::axis(*this, start, "flatten"), e = TensorOps::axis(*this, end, "flatten");
  TT_CHECK(s <= e, "flatten: start axis " << start << " after end axis " << end);
  Shape out(shape().begin(), shape().begin() + s);
  out.push_back(std::accumulate(shape().begin() + s, shape().begin() + e + 1, int64_t{1}, std::multiplies<>()));
  out.insert(out.end(), shape().begin() + e + 1, shape().end());
  return reshape(out);
}

Tensor Tensor::unsqueeze(int axis) const {
  const int nd = static_cast<int>(ndim());
  TT_CHECK(axis >= -nd - 1 && axis <= nd, "unsqueeze: axis " << axis << " is out of range for shape " << shape_str(shape()));
  if (axis < 0) axis += nd + 1;
  Shape s = shape();
  s.insert(s.begin() + axis, 1);
  return reshape(s);
}

Tensor Tensor::squeeze(int axis) const {
  const int ax = TensorOps::axis(*this, axis, "squeeze");
  TT_CHECK(shape()[ax] == 1, "squeeze: axis " << axis << " has size " << shape()[ax] << " in " << shape_str(shape()));
  Shape s = shape();
  s.erase(s.begin() + ax);
  return reshape(s);
}

Tensor Tensor::slice(const std::vector<Slice>& slices) const {
  TT_CHECK(static_cast<int64_t>(slices.size()) <= ndim(),
           "slice: " << slices.size() << " slices for shape " << shape_str(shape()));
  Tensor x = *this;
  for (size_t ax = 0; ax < slices.size(); ++ax) {
    const int64_t n = shape()[ax];
    const Slice& sl = slices[ax];
    TT_CHECK(sl.step != 0, "slice: step 0 on axis " << ax);
    auto norm = [&](int64_t i) { return i < 0 ? i + n : i; };
    const std::string text = (sl.start ? std::to_string(*sl.start) : "") + ":" + (sl.stop ? std::to_string(*sl.stop) : "") +
                             ":" + std::to_string(sl.step);
    int64_t start, stop, step = sl.step;
    if (step > 0) {
      start = sl.start ? norm(*sl.start) : 0;
      stop = sl.stop ? norm(*sl.stop) : n;
    } else {
      // Walk the flipped axis forwards: original index i is n-1-i there.
      start = sl.start ? norm(*sl.start) : n - 1;
      stop = sl.stop ? norm(*sl.stop) : -1;
      TT_CHECK(-1 <= start && start < n && -1 <= stop && stop < n,
               "slice: [" << text << "] is out of range for axis " << ax << " of shape " << shape_str(shape()));
      x = x.flip({static_cast<int>(ax)});
      start = n - 1 - start;
      stop = n - 1 - stop;
      step = -step;
    }
    TT_CHECK(0 <= start && start <= n && 0 <= stop && stop <= n,
             "slice: [" << text << "] is out of range for axis " << ax << " of shape " << shape_str(shape()));
    stop = std::max(stop, start);
    Pairs r;
    for (int64_t i = 0; i < x.ndim(); ++i) r.push_back({0, x.shape()[i]});
    r[ax] = {start, stop};
    x = x.shrink(r);
    if (step > 1) {
      // Rows of `step`: keep the first column of each.
      const int64_t len = stop - start, rows = (len + step - 1) / step;
      Pairs p(x.ndim(), {0, 0});
      p[ax] = {0, rows * step - len};
      x = x.pad(p);
      Shape sh = x.shape();
      sh[ax] = rows;
      sh.insert(sh.begin() + ax + 1, step);
      x = x.reshape(sh);
      Pairs keep;
      for (int64_t i = 0; i < x.ndim(); ++i) keep.push_back({0, x.shape()[i]});
      keep[ax + 1] = {0, 1};
      x = x.shrink(keep).squeeze(static_cast<int>(ax) + 1);
    }
  }
  return x;
}

Tensor Tensor::operator[](int64_t index) const {
  TT_CHECK(ndim() > 0, "index: cannot index a 0-d tensor");
  const int64_t n = shape()[0];
  TT_CHECK(index >= -n && index < n, "index: " << index << " is out of range for axis 0 of shape " << shape_str(shape()));
  if (index < 0) index += n;
  return slice({{index, index + 1, 1}}).squeeze(0);
}

Tensor Tensor::repeat(const std::vector<int64_t>& repeats) const {
  TT_CHECK(static_cast<int64_t>(repeats.size()) == ndim(),
           "repeat: " << repeats.size() << " counts for shape " << shape_str(shape()));
  Shape up, big, out;
  for (int64_t i = 0; i < ndim(); ++i) {
    up.insert(up.end(), {1, shape()[i]});
    big.insert(big.end(), {repeats[i], shape()[i]});
    out.push_back(repeats[i] * shape()[i]);
  }
  return reshape(up).expand(big).reshape(out);
}

Tensor Tensor::cat(const std::vector<Tensor>& ts, int axis) {
  TT_CHECK(!ts.empty(), "cat: no tensors");
  const int ax = TensorOps::axis(ts[0], axis, "cat");
  int64_t total = 0;
  DType dt = ts[0].dtype();
  for (const Tensor& t : ts) {
    bool ok = t.ndim() == ts[0].ndim();
    for (int64_t i = 0; ok && i < t.ndim(); ++i) ok = i == ax || t.shape()[i] == ts[0].shape()[i];
    TT_CHECK(ok, "cat: shapes " << shape_str(ts[0].shape()) << " and " << shape_str(t.shape())
                                << " differ outside axis " << axis);
    total += t.shape()[ax];
    dt = promote(dt, t.dtype());
  }
  // Each piece padded into place; the sum of disjoint padded views is one kernel.
  Tensor out;
  int64_t offset = 0;
  for (const Tensor& t : ts) {
    Pairs p(t.ndim(), {0, 0});
    p[ax] = {offset, total - offset - t.shape()[ax]};
    offset += t.shape()[ax];
    Tensor piece = t.cast(dt == DType::kBool ? DType::kInt32 : dt).pad(p);
    out = out.defined() ? out + piece : piece;
  }
  return dt == DType::kBool ? out.cast(DType::kBool) : out;
}

Tensor Tensor::stack(const std::vector<Tensor>& ts, int axis) {
  TT_CHECK(!ts.empty(), "stack: no tensors");
  std::vector<Tensor> up;
  for (const Tensor& t : ts) {
    TT_CHECK(t.shape() == ts[0].shape(), "stack: shapes " << shape_str(ts[0].shape()) << " and " << shape_str(t.shape()) << " differ");
    up.push_back(t.unsqueeze(axis));
  }
  return cat(up, axis);
}

Tensor Tensor::contiguous() const {
  LazyRef c = lazy()->contiguous();
  return c == lazy() ? *this : TensorOps::record(c, Op::CONTIGUOUS, {}, {*this});
}

Tensor Tensor::to(const std::string& device) const {
  const std::string d = TensorOps::resolve_device(device);
  if (d == this->device()) return *this;
  return TensorOps::record(lazy()->copy_to(d), Op::COPY, {}, {*this});
}

// ---------------------------------------------------------------- reductions

namespace {
Tensor drop_axes(const Tensor& r, const std::vector<int>& axes, bool keepdim) {
  if (keepdim) return r;
  Shape s;
  for (int64_t i = 0; i < r.ndim(); ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) s.push_back(r.shape()[i]);
  }
  return r.reshape(s);
}
}  // namespace

Tensor Tensor::sum(const std::vector<int>& axes, bool keepdim) const {
  std::vector<int> ax = TensorOps::axes(*this, axes, "sum");
  Tensor x = is_float(dtype()) ? *this : cast(DType::kInt32);
  return drop_axes(TensorOps::reduce(x, Op::SUM, ax), ax, keepdim);
}

Tensor Tensor::max(const std::vector<int>& axes, bool keepdim) const {
  std::vector<int> ax = TensorOps::axes(*this, axes, "max");
  for (int a : ax) TT_CHECK(shape()[a] > 0, "max: axis " << a << " is empty in shape " << shape_str(shape()));
  return drop_axes(TensorOps::reduce(*this, Op::RMAX, ax), ax, keepdim);
}

Tensor Tensor::min(const std::vector<int>& axes, bool keepdim) const {
  if (!is_float(dtype())) return cast(DType::kInt32).min(axes, keepdim).cast(dtype());
  return neg().max(axes, keepdim).neg();
}

Tensor Tensor::mean(const std::vector<int>& axes, bool keepdim) const {
  std::vector<int> ax = TensorOps::axes(*this, axes, "mean");
  int64_t n = 1;
  for (int a : ax) n *= shape()[a];
  Tensor s = (is_float(dtype()) ? *this : cast(DType::kFloat32)).sum(axes, keepdim);
  return s / static_cast<double>(n);  // no elements: 0/0 = NaN, as PyTorch
}

Tensor Tensor::var(const std::vector<int>& axes, bool keepdim, int correction) const {
  std::vector<int> ax = TensorOps::axes(*this, axes, "var");
  int64_t n = 1;
  for (int a : ax) n *= shape()[a];
  Tensor d = *this - mean(axes, true);
  // PyTorch divides by max(0, n - correction): one value with correction 1 is 0/0 = NaN.
  return d.square().sum(axes, keepdim) / static_cast<double>(std::max<int64_t>(n - correction, 0));
}

Tensor Tensor::std(const std::vector<int>& axes, bool keepdim, int correction) const {
  return var(axes, keepdim, correction).sqrt();
}

Tensor Tensor::argmax(int axis, bool keepdim) const {
  const int ax = TensorOps::axis(*this, axis, "argmax");
  const int64_t n = shape()[ax];
  TT_CHECK(n > 0, "argmax: axis " << axis << " is empty in shape " << shape_str(shape()));
  // The first maximum: among positions equal to the max, the one with the largest n-1-i. A NaN
  // is the maximum, as in PyTorch (the max is then NaN, which equals nothing).
  Tensor hit = eq(max({ax}, true));
  if (is_float(dtype())) hit = ne(*this).where(Tensor::full({}, 1, DType::kBool, device()), hit);
  Shape s(ndim(), 1);
  s[ax] = n;
  Tensor rev = Tensor::arange(static_cast<double>(n - 1), -1, -1, DType::kInt32, device()).reshape(s);
  Tensor best = hit.where(rev, Tensor::full({}, -1, DType::kInt32, device())).max({ax}, keepdim);
  return (Tensor::full({}, static_cast<double>(n - 1), DType::kInt32, device()) - best).cast(DType::kInt32);
}

Tensor Tensor::argmin(int axis, bool keepdim) const {
  return (is_float(dtype()) ? neg() : cast(DType::kInt32).neg()).argmax(axis, keepdim);
}

Tensor Tensor::logsumexp(int axis, bool keepdim) const {
  const int ax = TensorOps::axis(*this, axis, "logsumexp");
  Tensor m = max({ax}, true).detach();
  Tensor r = (*this - m).exp().sum({ax}, true).log() + m;
  return keepdim ? r : r.squeeze(ax);
}

Tensor Tensor::softmax(int axis) const {
  const int ax = TensorOps::axis(*this, axis, "softmax");
  // Shifting by the (detached) max changes nothing mathematically and keeps exp finite.
  Tensor e = (*this - max({ax}, true).detach()).exp();
  return e / e.sum({ax}, true);
}

Tensor Tensor::log_softmax(int axis) const {
  const int ax = TensorOps::axis(*this, axis, "log_softmax");
  Tensor m = *this - max({ax}, true).detach();
  return m - m.exp().sum({ax}, true).log();
}

}  // namespace tinyref
