#include "tests/04_lazy_tensors/moves.h"

#include <algorithm>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace moves {

namespace {

int64_t uniform(std::mt19937_64& rng, int64_t lo, int64_t hi) {  // [lo, hi]
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

std::string pairs_text(const Pairs& p) {
  std::ostringstream os;
  for (size_t i = 0; i < p.size(); ++i) os << (i ? ", " : "") << "(" << p[i].first << ", " << p[i].second << ")";
  return os.str();
}

std::string list_text(const Shape& s) {
  std::ostringstream os;
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os.str();
}

}  // namespace

std::string describe(const Move& m) {
  switch (m.kind) {
    case Kind::kReshape: return "reshape(" + list_text(m.shape) + ")";
    case Kind::kExpand: return "expand(" + list_text(m.shape) + ")";
    case Kind::kPermute: return "permute(" + list_text(Shape(m.order.begin(), m.order.end())) + ")";
    case Kind::kPad: return "pad(" + pairs_text(m.pairs) + ")";
    case Kind::kShrink: return "shrink(" + pairs_text(m.pairs) + ")";
    case Kind::kFlip: {
      const std::vector<int> axes = flipped_axes(m);
      return "flip(axes " + list_text(Shape(axes.begin(), axes.end())) + ")";
    }
  }
  return "?";
}

std::string describe(const std::vector<Move>& program) {
  std::string s;
  for (const Move& m : program) s += (s.empty() ? "" : " ") + describe(m);
  return s.empty() ? "(no moves)" : s;
}

Shape random_reshape(std::mt19937_64& rng, const Shape& shape) {
  Shape s = shape;
  switch (uniform(rng, 0, 4)) {
    case 0: {  // split an axis into two factors
      std::vector<size_t> splittable;
      for (size_t i = 0; i < s.size(); ++i) {
        for (int64_t f = 2; f < s[i]; ++f) {
          if (s[i] % f == 0) {
            splittable.push_back(i);
            break;
          }
        }
      }
      if (splittable.empty()) break;
      const size_t i = splittable[uniform(rng, 0, splittable.size() - 1)];
      std::vector<int64_t> factors;
      for (int64_t f = 2; f < s[i]; ++f) {
        if (s[i] % f == 0) factors.push_back(f);
      }
      const int64_t f = factors[uniform(rng, 0, factors.size() - 1)];
      s[i] /= f;
      s.insert(s.begin() + i, f);
      break;
    }
    case 1:  // merge two neighbours
      if (s.size() >= 2) {
        const size_t i = uniform(rng, 0, s.size() - 2);
        s[i] *= s[i + 1];
        s.erase(s.begin() + i + 1);
      }
      break;
    case 2:  // add an axis of size 1
      s.insert(s.begin() + uniform(rng, 0, s.size()), 1);
      break;
    case 3: {  // remove the axes of size 1 (all but one, if that is all there is)
      Shape t;
      for (int64_t d : s) {
        if (d != 1) t.push_back(d);
      }
      s = t.empty() ? Shape{1} : t;
      break;
    }
    default:  // flatten
      s = {dense::count(s)};
  }
  return s;
}

Move random_move(std::mt19937_64& rng, const Shape& shape, int64_t max_numel) {
  const size_t n = shape.size();
  const int64_t numel = dense::count(shape);
  while (true) {
    Move m;
    m.kind = static_cast<Kind>(uniform(rng, 0, 5));
    switch (m.kind) {
      case Kind::kReshape:
        m.shape = random_reshape(rng, shape);
        return m;
      case Kind::kPermute:
        m.order.resize(n);
        std::iota(m.order.begin(), m.order.end(), 0);
        std::shuffle(m.order.begin(), m.order.end(), rng);
        return m;
      case Kind::kExpand: {
        m.shape = shape;
        int64_t grown = numel;
        for (size_t i = 0; i < n; ++i) {
          if (shape[i] == 1) {
            m.shape[i] = uniform(rng, 1, 4);
            grown *= m.shape[i];
          }
        }
        if (m.shape == shape || grown > max_numel) continue;
        return m;
      }
      case Kind::kPad: {
        int64_t grown = 1;
        for (size_t i = 0; i < n; ++i) {
          m.pairs.push_back({uniform(rng, 0, 2), uniform(rng, 0, 2)});
          grown *= shape[i] + m.pairs[i].first + m.pairs[i].second;
        }
        if (n == 0 || grown > max_numel) continue;
        return m;
      }
      case Kind::kShrink:
        if (n == 0 || numel == 0) continue;
        for (size_t i = 0; i < n; ++i) {
          const int64_t lo = uniform(rng, 0, shape[i] - 1);
          m.pairs.push_back({lo, uniform(rng, lo + 1, shape[i])});
        }
        return m;
      case Kind::kFlip:
        if (n == 0) continue;
        for (size_t i = 0; i < n; ++i) m.flip.push_back(uniform(rng, 0, 1) == 1);
        return m;
    }
  }
}

Shape shape_after(const Move& m, const Shape& shape) {
  Shape s = shape;
  switch (m.kind) {
    case Kind::kReshape:
    case Kind::kExpand: return m.shape;
    case Kind::kPermute:
      for (size_t i = 0; i < m.order.size(); ++i) s[i] = shape[m.order[i]];
      return s;
    case Kind::kPad:
      for (size_t i = 0; i < s.size(); ++i) s[i] += m.pairs[i].first + m.pairs[i].second;
      return s;
    case Kind::kShrink:
      for (size_t i = 0; i < s.size(); ++i) s[i] = m.pairs[i].second - m.pairs[i].first;
      return s;
    case Kind::kFlip: return s;
  }
  return s;
}

std::vector<Move> random_program(std::mt19937_64& rng, Shape shape, int count, int64_t max_numel) {
  std::vector<Move> program;
  for (int i = 0; i < count; ++i) {
    program.push_back(random_move(rng, shape, max_numel));
    shape = shape_after(program.back(), shape);
  }
  return program;
}

Dense positions(const Shape& shape) {
  Dense d{shape, std::vector<double>(dense::count(shape))};
  std::iota(d.values.begin(), d.values.end(), 1.0);
  return d;
}

Dense pad(const Dense& x, const Pairs& before_after) {
  Shape shape = x.shape;
  for (size_t i = 0; i < shape.size(); ++i) shape[i] += before_after[i].first + before_after[i].second;
  Dense out{shape, std::vector<double>(dense::count(shape), 0.0)};
  dense::for_each_index(x.shape, [&](const Shape& idx) {
    Shape to = idx;
    for (size_t i = 0; i < to.size(); ++i) to[i] += before_after[i].first;
    out.values[dense::flat(shape, to)] = x.at(idx);
  });
  return out;
}

Dense shrink(const Dense& x, const Pairs& lo_hi) {
  Shape shape = x.shape;
  for (size_t i = 0; i < shape.size(); ++i) shape[i] = lo_hi[i].second - lo_hi[i].first;
  Dense out{shape, std::vector<double>(dense::count(shape))};
  dense::for_each_index(shape, [&](const Shape& idx) {
    Shape from = idx;
    for (size_t i = 0; i < from.size(); ++i) from[i] += lo_hi[i].first;
    out.values[dense::flat(shape, idx)] = x.at(from);
  });
  return out;
}

Dense flip(const Dense& x, const std::vector<bool>& axes) {
  Dense out{x.shape, std::vector<double>(x.values.size())};
  dense::for_each_index(x.shape, [&](const Shape& idx) {
    Shape from = idx;
    for (size_t i = 0; i < from.size(); ++i) {
      if (axes[i]) from[i] = x.shape[i] - 1 - idx[i];
    }
    out.values[dense::flat(x.shape, idx)] = x.at(from);
  });
  return out;
}

Dense apply(const Move& m, const Dense& x) {
  switch (m.kind) {
    case Kind::kReshape: return dense::reshape(x, m.shape);
    case Kind::kPermute: return dense::permute(x, m.order);
    case Kind::kExpand: return dense::expand_to(x, m.shape);
    case Kind::kPad: return pad(x, m.pairs);
    case Kind::kShrink: return shrink(x, m.pairs);
    case Kind::kFlip: return flip(x, m.flip);
  }
  throw std::logic_error("moves::apply");
}

Dense apply(const std::vector<Move>& program, Dense x) {
  for (const Move& m : program) x = apply(m, x);
  return x;
}

std::vector<int> flipped_axes(const Move& m) {
  std::vector<int> axes;
  for (size_t i = 0; i < m.flip.size(); ++i) {
    if (m.flip[i]) axes.push_back(static_cast<int>(i));
  }
  return axes;
}

}  // namespace moves
