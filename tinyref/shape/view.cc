#include "tinyref/shape/view.h"

#include <algorithm>
#include <sstream>

#include "tinyref/error.h"

namespace tinyref {

using sym::ceil_div;
using sym::floor_div;
using sym::floor_mod;

int64_t prod(const Shape& s) {
  if (std::find(s.begin(), s.end(), 0) != s.end()) return 0;  // empty, however large the rest
  int64_t p = 1;
  for (int64_t x : s) {
    TT_CHECK(!__builtin_mul_overflow(p, x, &p), "shape " << s << " has more elements than an int64 counts (2^63 - 1)");
  }
  return p;
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size(), 0);
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = shape[i] == 1 ? 0 : acc;
    if (__builtin_mul_overflow(acc, shape[i], &acc)) acc = 0;  // only an empty shape gets here (prod
  }                                                            // checked the rest): no stride is used
  return st;
}

std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os << (s.size() == 1 ? ",)" : ")");
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

View View::create(const Shape& shape, std::optional<Shape> strides, int64_t offset,
                  std::optional<Pairs> mask) {
  prod(shape);  // throws where the element count overflows: every shape passes through here
  View v;
  v.shape = shape;
  v.strides = strides ? *strides : contiguous_strides(shape);
  TT_ASSERT(v.strides.size() == shape.size());
  v.offset = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) v.strides[i] = 0;
  }
  if (mask) {
    TT_ASSERT(mask->size() == shape.size());
    bool all_full = true, empty = false;
    for (size_t i = 0; i < shape.size(); ++i) {
      auto& [lo, hi] = (*mask)[i];
      lo = std::clamp<int64_t>(lo, 0, shape[i]);
      hi = std::clamp<int64_t>(hi, 0, shape[i]);
      if (lo >= hi) empty = true;
      if (lo != 0 || hi != shape[i]) all_full = false;
    }
    if (empty) {  // nothing is valid: one canonical form for all such views
      v.strides.assign(shape.size(), 0);
      v.offset = 0;
      v.mask = Pairs(shape.size(), {0, 0});
    } else if (!all_full) {
      v.mask = std::move(mask);
    }
  }
  v.contiguous = v.offset == 0 && !v.mask && v.strides == contiguous_strides(shape);
  return v;
}

View View::permute(const std::vector<int>& order) const {
  Shape sh, st;
  std::optional<Pairs> m;
  if (mask) m.emplace();
  for (int o : order) {
    sh.push_back(shape[o]);
    st.push_back(strides[o]);
    if (mask) m->push_back((*mask)[o]);
  }
  return create(sh, st, offset, m);
}

View View::expand(const Shape& new_shape) const {
  Shape st = strides;
  std::optional<Pairs> m = mask;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != new_shape[i]) {
      TT_ASSERT(shape[i] == 1);
      st[i] = 0;
      if (m) (*m)[i] = (*m)[i].second > (*m)[i].first ? std::pair<int64_t, int64_t>(0, new_shape[i])
                                                       : std::pair<int64_t, int64_t>(0, 0);
    }
  }
  return create(new_shape, st, offset, m);
}

View View::pad(const Pairs& before_after) const {
  Shape sh = shape;
  Pairs m(shape.size());
  int64_t off = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    auto [b, a] = before_after[i];
    auto [lo, hi] = mask ? (*mask)[i] : std::pair<int64_t, int64_t>(0, shape[i]);
    m[i] = {lo + b, hi + b};
    sh[i] = shape[i] + b + a;
    off -= b * strides[i];
  }
  return create(sh, strides, off, m);
}

View View::shrink(const Pairs& lo_hi) const {
  Shape sh = shape;
  int64_t off = offset;
  std::optional<Pairs> m;
  if (mask) m.emplace(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    auto [b, e] = lo_hi[i];
    sh[i] = e - b;
    off += b * strides[i];
    if (mask) {
      auto [lo, hi] = (*mask)[i];
      (*m)[i] = {std::max(lo, b) - b, std::min(hi, e) - b};
    }
  }
  return create(sh, strides, off, m);
}

View View::flip(const std::vector<bool>& axes) const {
  Shape st = strides;
  std::optional<Pairs> m = mask;
  int64_t off = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!axes[i]) continue;
    off += (shape[i] - 1) * strides[i];
    st[i] = -strides[i];
    if (m) (*m)[i] = {shape[i] - (*m)[i].second, shape[i] - (*m)[i].first};
  }
  return create(shape, st, off, m);
}

// Why this is exact: `above` produces a flat position L(idx) = L0 + sum_i s_i*(idx_i - lo_i) in
// `below`'s row-major element space, over the box [lo, hi) where `above` is valid. below's
// coordinate j is floor(L / P_j) mod S_j (P_j: place value, S_j: extent). It is affine in idx
// exactly when adding each s_i never carries across P_j and the quotient never wraps past
// S_j. Both are interval checks on the box. Stride components that are multiples of P_j*S_j
// never change coordinate j, so they are reduced away first: that is what lets a repeated
// (expanded then flattened) buffer read back as a sliding window in one view.
namespace {
// The same element order in as few dimensions as possible: neighbours merge when the outer
// stride is the inner stride times the inner extent and the inner one is unmasked.
View collapse(const View& v) {
  Shape shape, strides;
  Pairs mask;
  for (size_t j = 0; j < v.ndim(); ++j) {
    std::pair<int64_t, int64_t> m = v.mask ? (*v.mask)[j] : std::pair<int64_t, int64_t>(0, v.shape[j]);
    if (v.shape[j] == 1 && m.first == 0 && m.second == 1) continue;
    shape.push_back(v.shape[j]);
    strides.push_back(v.strides[j]);
    mask.push_back(m);
  }
  // Merge from the innermost dimension outwards.
  for (size_t j = shape.size(); j-- > 1;) {
    const bool inner_full = mask[j] == std::pair<int64_t, int64_t>(0, shape[j]);
    if (inner_full && strides[j - 1] == strides[j] * shape[j]) {
      mask[j - 1] = {mask[j - 1].first * shape[j], mask[j - 1].second * shape[j]};
      shape[j - 1] *= shape[j];
      strides[j - 1] = strides[j];
      shape.erase(shape.begin() + j);
      strides.erase(strides.begin() + j);
      mask.erase(mask.begin() + j);
    }
  }
  View out;
  out.shape = shape;
  out.strides = strides;
  out.offset = v.offset;
  if (v.mask) out.mask = mask;
  return out;
}
}  // namespace

std::optional<View> View::compose(const View& below, const View& above) {
  // Collapsing `below` first lets one dimension of `above` walk several of its dimensions; not
  // collapsing keeps masks on separate dimensions so each pulls back onto one dimension of
  // `above`. Either derivation is exact; try both.
  if (std::optional<View> v = compose_impl(below, above)) return v;
  View collapsed = collapse(below);
  if (collapsed.ndim() == below.ndim()) return std::nullopt;
  return compose_impl(collapsed, above);
}

std::optional<View> View::compose_impl(const View& below, const View& above) {
  const size_t na = above.ndim(), nb = below.ndim();
  Shape lo(na), hi(na);
  for (size_t i = 0; i < na; ++i) {
    lo[i] = above.mask ? (*above.mask)[i].first : 0;
    hi[i] = above.mask ? (*above.mask)[i].second : above.shape[i];
    if (lo[i] >= hi[i]) return create(above.shape, std::nullopt, 0, Pairs(na, {0, 0}));
  }
  int64_t l0 = above.offset;
  for (size_t i = 0; i < na; ++i) l0 += lo[i] * above.strides[i];
  if (l0 < 0 || l0 >= below.size()) return std::nullopt;
  Shape place(nb, 1);
  for (size_t j = nb; j-- > 1;) place[j - 1] = place[j] * below.shape[j];

  Shape strides(na, 0);
  int64_t offset = below.offset;
  Pairs mask = lo.empty() ? Pairs{} : Pairs(na);
  for (size_t i = 0; i < na; ++i) mask[i] = {lo[i], hi[i]};
  for (size_t j = 0; j < nb; ++j) {
    const int64_t s_j = below.shape[j], p = place[j], period = p * s_j;
    const bool full = !below.mask || ((*below.mask)[j] == std::pair<int64_t, int64_t>(0, s_j));
    if (full && (below.strides[j] == 0 || s_j == 1)) continue;
    int64_t rmin = floor_mod(l0, p), rmax = rmin, q0 = floor_div(l0, p), qmin = q0, qmax = q0;
    std::vector<int64_t> a(na, 0);
    for (size_t i = 0; i < na; ++i) {
      const int64_t span = hi[i] - 1 - lo[i];
      if (span == 0 || above.strides[i] == 0) continue;
      int64_t s = floor_mod(above.strides[i], period);
      if (2 * s > period) s -= period;  // the representative nearest 0 (keeps flips affine)
      int64_t b = floor_mod(s, p);
      if (2 * b > p) b -= p;
      a[i] = (s - b) / p;
      rmin += std::min<int64_t>(0, b * span);
      rmax += std::max<int64_t>(0, b * span);
      qmin += std::min<int64_t>(0, a[i] * span);
      qmax += std::max<int64_t>(0, a[i] * span);
    }
    if (rmin < 0 || rmax >= p) return std::nullopt;  // a carry into this coordinate
    const int64_t wrap = floor_div(qmin, s_j);
    if (floor_div(qmax, s_j) != wrap) return std::nullopt;  // the coordinate wraps around
    const int64_t c_lo = q0 - wrap * s_j;  // coordinate j at idx = lo
    int64_t c_at_zero = c_lo;
    std::vector<size_t> deps;
    for (size_t i = 0; i < na; ++i) {
      if (a[i] == 0) continue;
      c_at_zero -= a[i] * lo[i];
      strides[i] += a[i] * below.strides[j];
      deps.push_back(i);
    }
    offset += c_at_zero * below.strides[j];
    if (full) continue;
    // Pull below's mask on coordinate j back onto the one dimension of `above` that moves it.
    auto [ml, mh] = (*below.mask)[j];
    const int64_t cmin = c_lo + (qmin - q0), cmax = c_lo + (qmax - q0);
    if (ml <= cmin && cmax < mh) continue;  // valid on the whole box
    if (cmax < ml || cmin >= mh) return create(above.shape, std::nullopt, 0, Pairs(na, {0, 0}));
    if (deps.size() > 1) return std::nullopt;
    const size_t i = deps[0];
    const int64_t k = a[i];
    int64_t first, last;  // the range of idx_i - lo_i keeping c in [ml, mh)
    if (k > 0) {
      first = ceil_div(ml - c_lo, k);
      last = floor_div(mh - 1 - c_lo, k);
    } else {
      first = ceil_div(c_lo - mh + 1, -k);
      last = floor_div(c_lo - ml, -k);
    }
    mask[i].first = std::max(mask[i].first, lo[i] + first);
    mask[i].second = std::min(mask[i].second, lo[i] + last + 1);
  }
  return create(above.shape, strides, offset, mask);
}

std::pair<sym::Expr, sym::Expr> View::expr(const std::vector<sym::Expr>& idx) const {
  TT_ASSERT(idx.size() == ndim());
  sym::Expr pos = sym::num(offset);
  std::vector<sym::Expr> valid;
  for (size_t i = 0; i < ndim(); ++i) {
    if (strides[i] != 0) pos = pos + idx[i] * strides[i];
    if (mask) {
      valid.push_back(sym::ge(idx[i], (*mask)[i].first));
      valid.push_back(sym::lt(idx[i], (*mask)[i].second));
    }
  }
  return {pos, sym::land(valid)};
}

std::ostream& operator<<(std::ostream& os, const View& v) {
  os << "View(shape=" << v.shape << ", strides=" << v.strides << ", offset=" << v.offset;
  if (v.mask) {
    os << ", mask=(";
    for (auto [lo, hi] : *v.mask) os << "(" << lo << "," << hi << ")";
    os << ")";
  }
  return os << ")";
}

}  // namespace tinyref
