// Dual tensors: every op applied twice, to a ch04::Tensor (the lazy graph your scheduler cuts)
// and to a tinyref::Tensor (the graph tinyref's scheduler cuts), op for op. Kernel counts are
// only comparable between two schedulers that see the same primitive graph, so the composite
// ops (exp, matmul, softmax, layer norm, cross-entropy, conv2d...) are written here, once, from
// primitives, instead of trusting two front ends to decompose them alike. Autograd runs in each
// framework on its own graph (their backward rules use the same primitives).
//
//   std::mt19937_64 rng(seed);
//   Dual x = Dual::randn({8, 16}, rng), w = Dual::randn({16, 4}, rng);
//   Dual y = (x.matmul(w) + 1.0).relu();
//   tinyref::count_kernels({y.ref})         // what the reference scheduler makes of it
//   ch05::count_kernels({y.ours.lazy()})    // what yours does
//   y.ours.to_vector(), y.values_ref()      // the values, in double
//
// tinyref runs on its INTERP device (it executes its kernel IR directly: no compiler).
// Header-only: it is compiled into each test with the ch04 that test links.
#ifndef TESTS_05_SCHEDULING_FUSION_DUAL_H_
#define TESTS_05_SCHEDULING_FUSION_DUAL_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "ch04/tensor.h"
#include "tinyref/tensor.h"

namespace dual {

using Shape = std::vector<int64_t>;
using Pairs = std::vector<std::pair<int64_t, int64_t>>;

inline constexpr const char* kRefDevice = "INTERP";

struct Dual;
Dual operator+(const Dual& a, const Dual& b);
Dual operator-(const Dual& a, const Dual& b);
Dual operator*(const Dual& a, const Dual& b);
Dual operator/(const Dual& a, const Dual& b);
Dual operator+(const Dual& a, double b);
Dual operator-(const Dual& a, double b);
Dual operator*(const Dual& a, double b);
Dual operator/(const Dual& a, double b);

struct Dual {
  ch04::Tensor ours;
  tinyref::Tensor ref;

  // --- creation: the same float32 values in both
  static Dual from(const std::vector<float>& values, const Shape& shape) {
    return {ch04::Tensor::from_vector(std::vector<double>(values.begin(), values.end()), shape),
            tinyref::Tensor::from_vector(values, shape, kRefDevice)};
  }
  static Dual randn(const Shape& shape, std::mt19937_64& rng, double scale = 1) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::normal_distribution<float> normal(0, static_cast<float>(scale));
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return from(v, shape);
  }
  // Whole numbers in [0, classes): class labels, as floats.
  static Dual labels(int64_t n, int64_t classes, std::mt19937_64& rng) {
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng() % classes);
    return from(v, {n});
  }
  static Dual arange(int64_t n) {
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
    return from(v, {n});
  }
  static Dual full(const Shape& shape, double value) {
    return {ch04::Tensor::full(shape, value), tinyref::Tensor::full(shape, value, tinyref::DType::kFloat32, kRefDevice)};
  }

  template <typename F>
  Dual apply(F f) const { return {f(ours), f(ref)}; }
  template <typename F>
  Dual apply(const Dual& o, F f) const { return {f(ours, o.ours), f(ref, o.ref)}; }

  // --- primitives (one lazy op each, plus numpy broadcasting: reshape and expand)
  Dual neg() const { return apply([](const auto& t) { return t.neg(); }); }
  Dual exp2() const { return apply([](const auto& t) { return t.exp2(); }); }
  Dual log2() const { return apply([](const auto& t) { return t.log2(); }); }
  Dual sin() const { return apply([](const auto& t) { return t.sin(); }); }
  Dual sqrt() const { return apply([](const auto& t) { return t.sqrt(); }); }
  Dual reciprocal() const { return apply([](const auto& t) { return t.reciprocal(); }); }
  Dual maximum(const Dual& o) const { return apply(o, [](const auto& a, const auto& b) { return a.maximum(b); }); }
  // 1 where this < o, else 0 (tinyref's comparison gives bool: cast back to float32)
  Dual lt(const Dual& o) const { return {ours.lt(o.ours), ref.lt(o.ref).cast(tinyref::DType::kFloat32)}; }
  Dual ne(const Dual& o) const { return {ours.ne(o.ours), ref.ne(o.ref).cast(tinyref::DType::kFloat32)}; }
  Dual where(const Dual& a, const Dual& b) const { return {ours.where(a.ours, b.ours), ref.where(a.ref, b.ref)}; }

  Dual sum(const std::vector<int>& axes = {}, bool keepdim = false) const {
    return apply([&](const auto& t) { return t.sum(axes, keepdim); });
  }
  Dual max(const std::vector<int>& axes = {}, bool keepdim = false) const {
    return apply([&](const auto& t) { return t.max(axes, keepdim); });
  }
  Dual reshape(const Shape& s) const { return apply([&](const auto& t) { return t.reshape(s); }); }
  Dual permute(const std::vector<int>& order) const { return apply([&](const auto& t) { return t.permute(order); }); }
  Dual expand(const Shape& s) const { return apply([&](const auto& t) { return t.expand(s); }); }
  Dual pad(const Pairs& p) const { return apply([&](const auto& t) { return t.pad(p); }); }
  Dual shrink(const Pairs& p) const { return apply([&](const auto& t) { return t.shrink(p); }); }
  Dual flip(const std::vector<int>& axes) const { return apply([&](const auto& t) { return t.flip(axes); }); }
  Dual contiguous() const { return apply([](const auto& t) { return t.contiguous(); }); }
  Dual detach() const { return apply([](const auto& t) { return t.detach(); }); }

  // --- composed here from the primitives above, identically for both
  Dual exp() const { return (*this * (1 / std::log(2.0))).exp2(); }
  Dual log() const { return log2() * std::log(2.0); }
  Dual relu() const { return maximum(full({}, 0)); }
  Dual sigmoid() const { return ((neg().exp()) + 1.0).reciprocal(); }
  Dual tanh() const { return (*this * 2.0).sigmoid() * 2.0 - 1.0; }
  Dual transpose() const {
    std::vector<int> order;
    for (int i = 0; i < ndim(); ++i) order.push_back(i);
    std::swap(order[ndim() - 1], order[ndim() - 2]);
    return permute(order);
  }
  Dual mean(const std::vector<int>& axes, bool keepdim = false) const {
    int64_t n = 1;
    for (int a : axes) n *= shape()[a < 0 ? a + ndim() : a];
    return sum(axes, keepdim) / static_cast<double>(n);
  }
  Dual var(const std::vector<int>& axes, bool keepdim = false) const {
    const Dual d = *this - mean(axes, true);
    return (d * d).mean(axes, keepdim);
  }
  // (n, k) @ (k, m): broadcast-multiply to (n, m, k) and sum the last axis.
  Dual matmul(const Dual& w) const {
    const int64_t n = shape()[0], k = shape()[1], m = w.shape()[1];
    return (reshape({n, 1, k}) * w.transpose().reshape({1, m, k})).sum({-1});
  }
  // The max only shifts the exponents to keep them finite: detached, no gradient through it.
  Dual softmax(int axis) const {
    const Dual e = (*this - max({axis}, true).detach()).exp();
    return e / e.sum({axis}, true);
  }
  Dual log_softmax(int axis) const {
    const Dual shifted = *this - max({axis}, true).detach();
    return shifted - shifted.exp().sum({axis}, true).log();
  }
  Dual layernorm(const Dual& gain, const Dual& bias) const {
    const Dual centered = *this - mean({-1}, true);
    return centered * ((centered * centered).mean({-1}, true) + 1e-5).sqrt().reciprocal() * gain + bias;
  }
  // Mean over the batch of -log_softmax(logits)[n, label[n]], labels as float class indices.
  Dual cross_entropy(const Dual& labels) const {
    const int64_t n = shape()[0], c = shape()[1];
    const Dual one_hot = full({}, 1) - labels.reshape({n, 1}).ne(arange(c).reshape({1, c}));
    return (log_softmax(1) * one_hot).sum({1}).mean({0}).neg();
  }
  // Sliding windows over the last two axes: (..., h, w) -> (..., oh, ow, k, k), stride s, k <= s
  // or any k with stride 1, the way tinygrad's _pool builds them from views only.
  Dual pool(int64_t k, int64_t s) const;
  // NCHW input, (cout, cin, k, k) weight, stride 1, padding p: pool, broadcast multiply, sum.
  Dual conv2d(const Dual& w, int64_t padding) const;
  Dual max_pool2d(int64_t k) const { return pool(k, k).max({-1, -2}); }

  // --- autograd and values
  Dual& requires_grad() {
    ours.requires_grad_();
    ref.requires_grad_();
    return *this;
  }
  void backward() {
    ours.backward();
    ref.backward();
  }
  Dual grad() const { return {ours.grad(), ref.grad()}; }
  Dual& realize() {
    ours.realize();
    ref.realize();
    return *this;
  }
  std::vector<double> values_ref() const {
    std::vector<float> v = ref.to_vector<float>();
    return {v.begin(), v.end()};
  }
  const Shape& shape() const { return ref.shape(); }
  int ndim() const { return static_cast<int>(shape().size()); }
};

inline Dual operator+(const Dual& a, const Dual& b) { return a.apply(b, [](const auto& x, const auto& y) { return x + y; }); }
inline Dual operator-(const Dual& a, const Dual& b) { return a.apply(b, [](const auto& x, const auto& y) { return x - y; }); }
inline Dual operator*(const Dual& a, const Dual& b) { return a.apply(b, [](const auto& x, const auto& y) { return x * y; }); }
inline Dual operator/(const Dual& a, const Dual& b) { return a.apply(b, [](const auto& x, const auto& y) { return x / y; }); }
inline Dual operator+(const Dual& a, double b) { return a + Dual::full({}, b); }
inline Dual operator-(const Dual& a, double b) { return a - Dual::full({}, b); }
inline Dual operator*(const Dual& a, double b) { return a * Dual::full({}, b); }
inline Dual operator/(const Dual& a, double b) { return a / Dual::full({}, b); }

// `head` followed by `tail`.
inline Shape joined(Shape head, const Shape& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}
// Shrinks only the last len(last) axes, to the given ranges.
inline Dual keep_last(const Dual& t, const Pairs& last) {
  Pairs ranges;
  for (size_t i = 0; i + last.size() < t.shape().size(); ++i) ranges.push_back({0, t.shape()[i]});
  ranges.insert(ranges.end(), last.begin(), last.end());
  return t.shrink(ranges);
}

// Windows along the last axis: its extent h becomes (o, k), o = (h - k) / s + 1 windows of k.
// Non-overlapping (k <= s): cut the axis into rows of s and keep k of each. Overlapping (stride
// 1): repeat the axis k + 1 times, flatten, and read it back in rows of h + 1, so that row j
// starts j elements into x; the first o of row j are the j-th element of every window.
inline Dual window_last(const Dual& x, int64_t k, int64_t s) {
  const Shape lead(x.shape().begin(), x.shape().end() - 1);
  const int64_t h = x.shape().back(), o = (h - k) / s + 1;
  if (k <= s) {
    const Dual rows = keep_last(x, {{0, o * s}}).reshape(joined(lead, {o, s}));
    return keep_last(rows, {{0, o}, {0, k}});
  }
  const Dual flat = x.reshape(joined(lead, {1, h})).expand(joined(lead, {k + 1, h})).reshape(joined(lead, {(k + 1) * h}));
  const Dual skewed = keep_last(flat, {{0, k * (h + 1)}}).reshape(joined(lead, {k, h + 1}));
  std::vector<int> swap_last;
  for (int i = 0; i < static_cast<int>(lead.size()); ++i) swap_last.push_back(i);
  swap_last.push_back(static_cast<int>(lead.size()) + 1);
  swap_last.push_back(static_cast<int>(lead.size()));
  return keep_last(skewed, {{0, k}, {0, o}}).permute(swap_last);  // (k, o) -> (o, k)
}

inline Dual Dual::pool(int64_t k, int64_t s) const {
  // (..., h, w): windows along w -> (..., h, ow, kw); move h last -> (..., ow, kw, h); windows
  // along h -> (..., ow, kw, oh, kh); reorder to (..., oh, ow, kh, kw).
  const int lead = ndim() - 2;
  std::vector<int> h_last;
  for (int i = 0; i < lead; ++i) h_last.push_back(i);
  h_last.insert(h_last.end(), {lead + 1, lead + 2, lead});
  const Dual by_w = window_last(*this, k, s).permute(h_last);
  const Dual by_h = window_last(by_w, k, s);
  std::vector<int> order;
  for (int i = 0; i < lead; ++i) order.push_back(i);
  order.insert(order.end(), {lead + 2, lead, lead + 3, lead + 1});
  return by_h.permute(order);
}

inline Dual Dual::conv2d(const Dual& w, int64_t padding) const {
  const int64_t n = shape()[0], cin = shape()[1], cout = w.shape()[0], k = w.shape()[2];
  const Dual padded = padding ? pad({{0, 0}, {0, 0}, {padding, padding}, {padding, padding}}) : *this;
  const Dual windows = padded.pool(k, 1);  // (n, cin, oh, ow, k, k)
  const int64_t oh = windows.shape()[2], ow = windows.shape()[3];
  const Dual x = windows.reshape({n, 1, cin, oh, ow, k, k}).expand({n, cout, cin, oh, ow, k, k});
  return (x * w.reshape({1, cout, cin, 1, 1, k, k})).sum({2, 5, 6}).reshape({n, cout, oh, ow});
}

}  // namespace dual

#endif  // TESTS_05_SCHEDULING_FUSION_DUAL_H_
