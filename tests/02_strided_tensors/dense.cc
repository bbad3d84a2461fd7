#include "tests/02_strided_tensors/dense.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace dense {

std::string shape_str(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

int64_t count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

void for_each_index(const Shape& shape, const std::function<void(const Shape&)>& visit) {
  const int64_t n = count(shape);
  Shape index(shape.size());
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i;  // decompose the row-major number i into coordinates, right to left
    for (size_t a = shape.size(); a-- > 0;) {
      index[a] = rest % shape[a];
      rest /= shape[a];
    }
    visit(index);
  }
}

int64_t flat(const Shape& shape, const Shape& index) {
  int64_t pos = 0;
  for (size_t a = 0; a < shape.size(); ++a) pos = pos * shape[a] + index[a];
  return pos;
}

double Dense::at(const Shape& index) const { return values[flat(shape, index)]; }

Dense map(const Dense& x, const std::function<double(double)>& f) {
  Dense out{x.shape, x.values};
  for (double& v : out.values) v = f(v);
  return out;
}

Shape broadcast(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t sa = i + a.size() >= n ? a[i + a.size() - n] : 1;
    const int64_t sb = i + b.size() >= n ? b[i + b.size() - n] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      throw std::invalid_argument("dense::broadcast " + shape_str(a) + " " + shape_str(b));
    }
    out[i] = std::max(sa, sb);
    if (sa == 0 || sb == 0) out[i] = 0;
  }
  return out;
}

// The coordinate of `out_index` in an operand of shape `shape` that broadcasts to out_index's shape.
static Shape source_index(const Shape& shape, const Shape& out_index) {
  Shape idx(shape.size());
  const size_t lead = out_index.size() - shape.size();
  for (size_t a = 0; a < shape.size(); ++a) idx[a] = shape[a] == 1 ? 0 : out_index[lead + a];
  return idx;
}

Dense zip(const Dense& a, const Dense& b, const std::function<double(double, double)>& f) {
  Dense out{broadcast(a.shape, b.shape), {}};
  out.values.resize(count(out.shape));
  for_each_index(out.shape, [&](const Shape& idx) {
    out.values[flat(out.shape, idx)] =
        f(a.at(source_index(a.shape, idx)), b.at(source_index(b.shape, idx)));
  });
  return out;
}

Dense permute(const Dense& x, const std::vector<int>& order) {
  Dense out{Shape(order.size()), {}};
  for (size_t i = 0; i < order.size(); ++i) out.shape[i] = x.shape[order[i]];
  out.values.resize(count(out.shape));
  for_each_index(out.shape, [&](const Shape& idx) {
    Shape src(order.size());
    for (size_t i = 0; i < order.size(); ++i) src[order[i]] = idx[i];
    out.values[flat(out.shape, idx)] = x.at(src);
  });
  return out;
}

Dense expand_to(const Dense& x, const Shape& shape) {
  Dense out{shape, std::vector<double>(count(shape))};
  for_each_index(shape, [&](const Shape& idx) {
    out.values[flat(shape, idx)] = x.at(source_index(x.shape, idx));
  });
  return out;
}

Dense reshape(const Dense& x, const Shape& shape) {
  if (count(shape) != count(x.shape)) throw std::invalid_argument("dense::reshape");
  return Dense{shape, x.values};
}

Dense reduce(const Dense& x, const std::vector<int>& axes, bool keepdim, Reduce op) {
  std::vector<bool> reduced(x.shape.size(), false);
  for (int a : axes) reduced[a < 0 ? a + static_cast<int>(x.shape.size()) : a] = true;
  Shape kept = x.shape;
  for (size_t a = 0; a < kept.size(); ++a) {
    if (reduced[a]) kept[a] = 1;
  }
  const double init = op == Reduce::kSum ? 0.0 : -std::numeric_limits<double>::infinity();
  Dense out{kept, std::vector<double>(count(kept), init)};
  for_each_index(x.shape, [&](const Shape& idx) {
    Shape dst = idx;
    for (size_t a = 0; a < dst.size(); ++a) {
      if (reduced[a]) dst[a] = 0;
    }
    double& acc = out.values[flat(kept, dst)];
    acc = op == Reduce::kSum ? acc + x.at(idx) : std::max(acc, x.at(idx));
  });
  if (!keepdim) {
    Shape dropped;
    for (size_t a = 0; a < kept.size(); ++a) {
      if (!reduced[a]) dropped.push_back(x.shape[a]);
    }
    out.shape = dropped;
  }
  return out;
}

Dense sum_to(const Dense& x, const Shape& shape) {
  Dense out{shape, std::vector<double>(count(shape), 0.0)};
  for_each_index(x.shape, [&](const Shape& idx) {
    out.values[flat(shape, source_index(shape, idx))] += x.at(idx);
  });
  return out;
}

Dense matmul(const Dense& a, const Dense& b) {
  if (a.shape.size() != 2 || b.shape.size() != 2 || a.shape[1] != b.shape[0]) {
    throw std::invalid_argument("dense::matmul " + shape_str(a.shape) + " " + shape_str(b.shape));
  }
  const int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
  Dense out{{m, n}, std::vector<double>(m * n, 0.0)};
  // Row i of the result is built up a row of b at a time: every out[i][j] still sums its
  // products in order p = 0, 1, ..., but b is read along its rows instead of down its columns,
  // which for K in the thousands is the difference between cache hits and a miss per product.
  for (int64_t i = 0; i < m; ++i) {
    double* row = out.values.data() + i * n;
    for (int64_t p = 0; p < k; ++p) {
      const double aip = a.values[i * k + p];
      const double* b_row = b.values.data() + p * n;
      for (int64_t j = 0; j < n; ++j) row[j] += aip * b_row[j];
    }
  }
  return out;
}

Dense random(std::mt19937_64& rng, const Shape& shape, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  Dense out{shape, std::vector<double>(count(shape))};
  for (double& v : out.values) v = u(rng);
  return out;
}

}  // namespace dense
