// Property tests for views: any chain of movement ops on a ShapeTracker reads the same elements
// as doing the chain with real copies (Dense below, plain loops), and canonical chains collapse
// to the number of views stated.
#include "tinyref/shape/shapetracker.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace tinyref {
namespace {

// The reference: a dense row-major array; every movement op copies.
struct Dense {
  Shape shape;
  std::vector<int64_t> data;

  static std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
    std::vector<int64_t> idx(shape.size());
    for (size_t i = shape.size(); i-- > 0;) {
      idx[i] = flat % shape[i];
      flat /= shape[i];
    }
    return idx;
  }
  int64_t flat(const std::vector<int64_t>& idx) const {
    int64_t f = 0;
    for (size_t i = 0; i < shape.size(); ++i) f = f * shape[i] + idx[i];
    return f;
  }
  template <typename Fn>  // fn(out_idx) -> value
  Dense map(const Shape& out_shape, Fn fn) const {
    Dense d{out_shape, std::vector<int64_t>(prod(out_shape))};
    for (int64_t f = 0; f < prod(out_shape); ++f) d.data[f] = fn(unravel(f, out_shape));
    return d;
  }
  Dense reshape(const Shape& s) const { return {s, data}; }
  Dense permute(const std::vector<int>& order) const {
    Shape s;
    for (int o : order) s.push_back(shape[o]);
    return map(s, [&](const std::vector<int64_t>& idx) {
      std::vector<int64_t> src(shape.size());
      for (size_t i = 0; i < order.size(); ++i) src[order[i]] = idx[i];
      return data[flat(src)];
    });
  }
  Dense expand(const Shape& s) const {
    return map(s, [&](std::vector<int64_t> idx) {
      for (size_t i = 0; i < s.size(); ++i) if (shape[i] == 1) idx[i] = 0;
      return data[flat(idx)];
    });
  }
  Dense pad(const Pairs& p) const {
    Shape s = shape;
    for (size_t i = 0; i < s.size(); ++i) s[i] += p[i].first + p[i].second;
    return map(s, [&](std::vector<int64_t> idx) -> int64_t {
      for (size_t i = 0; i < s.size(); ++i) {
        idx[i] -= p[i].first;
        if (idx[i] < 0 || idx[i] >= shape[i]) return 0;
      }
      return data[flat(idx)];
    });
  }
  Dense shrink(const Pairs& p) const {
    Shape s;
    for (auto [lo, hi] : p) s.push_back(hi - lo);
    return map(s, [&](std::vector<int64_t> idx) {
      for (size_t i = 0; i < s.size(); ++i) idx[i] += p[i].first;
      return data[flat(idx)];
    });
  }
  Dense flip(const std::vector<bool>& axes) const {
    return map(shape, [&](std::vector<int64_t> idx) {
      for (size_t i = 0; i < shape.size(); ++i) if (axes[i]) idx[i] = shape[i] - 1 - idx[i];
      return data[flat(idx)];
    });
  }
};

// Reads every element through the tracker, both by folding constants and by evaluating the
// symbolic expression (so the simplifier's rewrites are checked as well).
std::vector<int64_t> read(const ShapeTracker& st, const std::vector<int64_t>& base) {
  std::vector<sym::Expr> vars;
  for (size_t i = 0; i < st.ndim(); ++i) vars.push_back(sym::var(i, "i" + std::to_string(i), 0, st.shape()[i] - 1));
  auto [pos, valid] = st.expr(vars);
  std::vector<int64_t> out(st.size());
  for (int64_t f = 0; f < st.size(); ++f) {
    std::vector<int64_t> idx = Dense::unravel(f, st.shape());
    const bool ok = sym::eval(valid, idx) != 0;
    out[f] = ok ? base.at(sym::eval(pos, idx)) : 0;
    if (f % 11 == 0) {  // constant folding is the slow path; a sample is enough
      const int64_t direct = st.index_of(idx);
      EXPECT_EQ(direct < 0 ? 0 : base.at(direct), out[f]) << st.to_string();
    }
  }
  return out;
}

Shape random_factorization(int64_t n, std::mt19937_64& rng) {
  Shape out;
  while (n > 1) {
    std::vector<int64_t> divisors;
    for (int64_t d = 2; d <= n; ++d) if (n % d == 0) divisors.push_back(d);
    int64_t d = divisors[rng() % divisors.size()];
    out.push_back(d);
    n /= d;
    if (rng() % 4 == 0) out.push_back(1);
  }
  if (out.empty()) out.push_back(1);
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

TEST(ShapeTrackerProperty, RandomChainsMatchCopies) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    for (int trial = 0; trial < 300; ++trial) {
      Shape shape;
      for (int64_t d = r(1, 4); d > 0; --d) shape.push_back(r(1, 5));
      Dense dense{shape, std::vector<int64_t>(prod(shape))};
      std::iota(dense.data.begin(), dense.data.end(), 1);  // 1-based: 0 means "padding"
      const std::vector<int64_t> base = dense.data;
      ShapeTracker st = ShapeTracker::from_shape(shape);
      std::string chain;
      for (int64_t step = r(1, 8); step > 0; --step) {
        const Shape& s = st.shape();
        const size_t nd = s.size();
        switch (r(0, 6)) {
          case 0:
          case 6: {
            Shape ns = random_factorization(st.size(), rng);
            chain += " reshape";
            st = st.reshape(ns);
            dense = dense.reshape(ns);
            break;
          }
          case 1: {
            std::vector<int> order(nd);
            std::iota(order.begin(), order.end(), 0);
            std::shuffle(order.begin(), order.end(), rng);
            chain += " permute";
            st = st.permute(order);
            dense = dense.permute(order);
            break;
          }
          case 2: {
            Shape ns = s;
            for (auto& d : ns) if (d == 1) d = r(1, 3);
            chain += " expand";
            st = st.expand(ns);
            dense = dense.expand(ns);
            break;
          }
          case 3: {
            Pairs p;
            for (size_t i = 0; i < nd; ++i) p.push_back({r(0, 2), r(0, 2)});
            chain += " pad";
            st = st.pad(p);
            dense = dense.pad(p);
            break;
          }
          case 4: {
            Pairs p;
            for (size_t i = 0; i < nd; ++i) {
              int64_t lo = r(0, s[i] - 1);
              p.push_back({lo, r(lo + 1, s[i])});
            }
            chain += " shrink";
            st = st.shrink(p);
            dense = dense.shrink(p);
            break;
          }
          default: {
            std::vector<bool> axes;
            for (size_t i = 0; i < nd; ++i) axes.push_back(r(0, 1) == 1);
            chain += " flip";
            st = st.flip(axes);
            dense = dense.flip(axes);
            break;
          }
        }
        if (st.size() > 2000) break;
      }
      ASSERT_EQ(st.shape(), dense.shape) << chain;
      EXPECT_EQ(read(st, base), dense.data) << "chain:" << chain << "\n" << st.to_string();
    }
  }
}

TEST(ShapeTrackerViews, CanonicalChainsMergeToStatedViewCounts) {
  auto st = ShapeTracker::from_shape({4, 6});
  EXPECT_EQ(st.reshape({2, 2, 6}).reshape({24}).views.size(), 1u);            // split then merge
  EXPECT_EQ(st.permute({1, 0}).reshape({24}).views.size(), 2u);               // transpose + flatten
  EXPECT_EQ(st.permute({1, 0}).reshape({3, 2, 4}).views.size(), 1u);          // split keeps one
  EXPECT_EQ(st.reshape({4, 1, 6}).expand({4, 5, 6}).views.size(), 1u);        // broadcast
  EXPECT_EQ(st.pad({{1, 1}, {0, 0}}).reshape({36}).views.size(), 1u);         // pad outer, flatten
  EXPECT_EQ(st.pad({{0, 0}, {1, 1}}).reshape({32}).views.size(), 2u);         // pad inner, flatten
  EXPECT_EQ(st.shrink({{1, 3}, {0, 6}}).reshape({12}).views.size(), 1u);      // row slice
  EXPECT_EQ(st.flip({true, true}).reshape({24}).views.size(), 1u);            // full reversal
  EXPECT_TRUE(st.reshape({24}).reshape({4, 6}).contiguous());

  // A sliding window (what pooling and conv2d build): repeat 3 times, flatten, and re-cut with
  // rows of 10+1 so that row k starts one element later. Merges to one view of strides (1, 1).
  auto x = ShapeTracker::from_shape({10});
  auto win = x.reshape({1, 10}).expand({3, 10}).reshape({30}).shrink({{0, 3 * 11 - 3}})
                 .pad({{0, 3}}).reshape({3, 11}).shrink({{0, 3}, {0, 8}});
  ASSERT_EQ(win.views.size(), 1u) << win.to_string();
  EXPECT_EQ(win.views[0].strides, (Shape{1, 1}));
  EXPECT_EQ(win.index_of({2, 5}), 7);
}

TEST(ShapeTrackerErrors, BadArgumentsThrowNamingTheOp) {
  auto st = ShapeTracker::from_shape({2, 3});
  EXPECT_THROW(st.reshape({4, 2}), Error);
  EXPECT_THROW(st.permute({0, 0}), Error);
  EXPECT_THROW(st.expand({4, 3}), Error);
  EXPECT_THROW(st.shrink({{0, 3}, {0, 3}}), Error);
  EXPECT_THROW(st.pad({{-1, 0}, {0, 0}}), Error);
  try {
    st.reshape({5});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reshape"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("(2, 3)"), std::string::npos);
  }
}

}  // namespace
}  // namespace tinyref
