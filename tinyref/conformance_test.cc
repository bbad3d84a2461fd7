// The conformance table: one row per op in ops.def (how to build it from the front end, which
// shapes and dtypes to sweep, the tolerance), run on every backend against plain loops written
// here. A new op in ops.def without a row fails OpsTable.EveryOpHasARow.
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/registry.h"
#include "tinyref/error.h"
#include "tinyref/ops.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

using Values = std::vector<double>;

// Row-major index helpers for the references.
std::vector<int64_t> unravel(int64_t f, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (size_t i = s.size(); i-- > 0;) {
    idx[i] = f % s[i];
    f /= s[i];
  }
  return idx;
}
int64_t ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t f = 0;
  for (size_t i = 0; i < s.size(); ++i) f = f * s[i] + idx[i];
  return f;
}

struct Input {
  Shape shape;
  Values values;
};

struct Row {
  Op op = Op::ADD;
  std::vector<DType> dtypes;
  std::vector<Shape> shapes;  // the first is also run on CPU; all run on INTERP
  int inputs = 1;
  double lo = -2, hi = 2;     // input range
  // Builds the op on tensors made from `in` (shape of input 0 is the swept shape).
  std::function<Tensor(const std::vector<Tensor>& in)> build;
  // The expected result, from the (rounded) input values with plain loops.
  std::function<Values(const std::vector<Input>& in, DType dt)> ref;
  double rtol = 1e-6, atol = 1e-6;
  // Shape of input i given the swept shape (default: the same shape).
  std::function<Shape(const Shape&, int)> input_shape = [](const Shape& s, int) { return s; };
};

Row make_row(Op op, std::vector<DType> dtypes, std::vector<Shape> shapes, int inputs = 1) {
  Row r;
  r.op = op;
  r.dtypes = std::move(dtypes);
  r.shapes = std::move(shapes);
  r.inputs = inputs;
  return r;
}

Values map1(const Input& a, const std::function<double(double)>& f) {
  Values out(a.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = f(a.values[i]);
  return out;
}
Values map2(const Input& a, const Input& b, const std::function<double(double, double)>& f) {
  Values out(a.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = f(a.values[i], b.values[i]);
  return out;
}

// Reduce over the last axis, keepdim off.
Values reduce_last(const Input& a, bool is_max) {
  const int64_t n = a.shape.back(), rows = static_cast<int64_t>(a.values.size()) / n;
  Values out(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double acc = is_max ? -INFINITY : 0;
    for (int64_t j = 0; j < n; ++j) acc = is_max ? std::max(acc, a.values[r * n + j]) : acc + a.values[r * n + j];
    out[r] = acc;
  }
  return out;
}

// out[idx] = in[src(idx)] (or 0 where src returns -1), over out_shape.
Values gather(const Input& a, const Shape& out_shape, const std::function<int64_t(std::vector<int64_t>)>& src) {
  Values out(prod(out_shape));
  for (int64_t f = 0; f < prod(out_shape); ++f) {
    const int64_t s = src(unravel(f, out_shape));
    out[f] = s < 0 ? 0 : a.values[s];
  }
  return out;
}

double c_trunc_div(double a, double b) { return b == 0 ? 0 : std::trunc(a / b); }

std::vector<Row> table() {
  const std::vector<DType> f32 = {DType::kFloat32}, floats = {DType::kFloat32, DType::kFloat64};
  const std::vector<DType> nums = {DType::kFloat32, DType::kInt32}, ints = {DType::kInt32};
  // 8-multiples take the SIMD paths, odd extents the scalar ones, 2^16+ the parallel ones.
  const std::vector<Shape> ew = {{4, 16}, {3, 5, 7}, {1 << 16}};
  const std::vector<Shape> red = {{8, 32}, {5, 7}, {1 << 16}, {3, 4, 5}};
  const std::vector<Shape> mv = {{4, 6}, {2, 3, 5}};
  const double pi = M_PI;
  auto pos = [](Row r) { r.lo = 0.25; r.hi = 4; return r; };
  std::vector<Row> rows;
  auto add = [&](Row r) { rows.push_back(std::move(r)); };
  auto unary = [&](Op op, std::vector<DType> dts, std::function<Tensor(Tensor)> b, std::function<double(double)> f,
                   double rtol = 1e-6) {
    Row r = make_row(op, dts, ew);
    r.build = [b](auto in) { return b(in[0]); };
    r.ref = [f](auto in, DType) { return map1(in[0], f); };
    r.rtol = rtol;
    return r;
  };
  auto binary = [&](Op op, std::vector<DType> dts, std::function<Tensor(Tensor, Tensor)> b,
                    std::function<double(double, double)> f) {
    Row r = make_row(op, dts, ew, 2);
    r.build = [b](auto in) { return b(in[0], in[1]); };
    r.ref = [f](auto in, DType) { return map2(in[0], in[1], f); };
    return r;
  };
  // Transcendentals: float32 libm is accurate to a few ulp (~2e-7 relative); 1e-5 leaves room
  // for the compiler's vectorized and contracted variants.
  add(unary(Op::NEG, nums, [](Tensor x) { return -x; }, [](double a) { return -a; }));
  add(unary(Op::EXP2, floats, [](Tensor x) { return x.exp2(); }, [](double a) { return std::exp2(a); }, 1e-5));
  add(pos(unary(Op::LOG2, floats, [](Tensor x) { return x.log2(); }, [](double a) { return std::log2(a); }, 1e-5)));
  add(unary(Op::SIN, floats, [](Tensor x) { return x.sin(); }, [](double a) { return std::sin(a); }, 1e-5));
  add(pos(unary(Op::SQRT, floats, [](Tensor x) { return x.sqrt(); }, [](double a) { return std::sqrt(a); }, 1e-5)));
  add(pos(unary(Op::RECIP, floats, [](Tensor x) { return x.reciprocal(); }, [](double a) { return 1 / a; })));
  {
    Row r = make_row(Op::CAST, {DType::kFloat32, DType::kInt32, DType::kUInt8, DType::kBool, DType::kFloat64}, ew);
    r.lo = -3;
    r.hi = 300;
    // Cast to each other dtype and back to float64, which holds every value exactly.
    r.build = [](auto in) { return in[0].cast(DType::kInt32).cast(DType::kFloat64) + in[0].cast(DType::kFloat32).cast(DType::kFloat64); };
    r.ref = [](auto in, DType) {
      return map1(in[0], [](double a) { return std::trunc(a) + static_cast<double>(static_cast<float>(a)); });
    };
    add(r);
  }
  add(binary(Op::ADD, {DType::kFloat32, DType::kInt32, DType::kFloat64}, [](Tensor a, Tensor b) { return a + b; },
             [](double a, double b) { return a + b; }));
  add(binary(Op::SUB, nums, [](Tensor a, Tensor b) { return a - b; }, [](double a, double b) { return a - b; }));
  add(binary(Op::MUL, nums, [](Tensor a, Tensor b) { return a * b; }, [](double a, double b) { return a * b; }));
  {
    Row r = binary(Op::DIV, floats, [](Tensor a, Tensor b) { return a / (b.abs() + 0.5); },
                   [](double a, double b) { return a / (std::abs(b) + 0.5); });
    r.rtol = 2e-6;  // two roundings (the +0.5 and the division)
    add(r);
  }
  add(binary(Op::MAX, nums, [](Tensor a, Tensor b) { return a.maximum(b); }, [](double a, double b) { return std::max(a, b); }));
  add(binary(Op::CMPLT, nums, [](Tensor a, Tensor b) { return a.lt(b).cast(DType::kFloat32); },
             [](double a, double b) { return a < b ? 1.0 : 0.0; }));
  add(binary(Op::CMPNE, nums, [](Tensor a, Tensor b) { return a.ne(b).cast(DType::kFloat32); },
             [](double a, double b) { return a != b ? 1.0 : 0.0; }));
  {
    Row r = binary(Op::MOD, ints, [](Tensor a, Tensor b) { return a.mod(b.abs() + 1); },
                   [](double a, double b) { return std::fmod(a, std::abs(b) + 1); });
    r.lo = -50;
    r.hi = 50;
    add(r);
    Row q = binary(Op::IDIV, ints, [](Tensor a, Tensor b) { return a.idiv(b.abs() + 1); },
                   [](double a, double b) { return c_trunc_div(a, std::abs(b) + 1); });
    q.lo = -50;
    q.hi = 50;
    add(q);
  }
  add(binary(Op::AND, {DType::kInt32}, [](Tensor a, Tensor b) {
        return a.gt(Tensor::scalar(0, a.dtype(), a.device())).logical_and(b.gt(Tensor::scalar(0, b.dtype(), b.device())))
            .cast(DType::kFloat32);
      }, [](double a, double b) { return (a > 0 && b > 0) ? 1.0 : 0.0; }));
  {
    Row r = make_row(Op::WHERE, nums, ew, 3);
    r.build = [](auto in) { return in[0].gt(in[1]).where(in[1], in[2]); };
    r.ref = [](auto in, DType) {
      Values out(in[0].values.size());
      for (size_t i = 0; i < out.size(); ++i) out[i] = in[0].values[i] > in[1].values[i] ? in[1].values[i] : in[2].values[i];
      return out;
    };
    add(r);
    Row m = make_row(Op::MULACC, floats, ew, 3);
    m.build = [](auto in) { return in[0].fma(in[1], in[2]); };
    m.ref = [](auto in, DType) {
      Values out(in[0].values.size());
      for (size_t i = 0; i < out.size(); ++i) out[i] = in[0].values[i] * in[1].values[i] + in[2].values[i];
      return out;
    };
    m.rtol = 2e-6;  // with or without a fused multiply-add: one or two roundings
    add(m);
  }
  {
    // Float32 sums in another order than the reference: ~u*sqrt(n) relative error per partial
    // sum for random signs; atol 1e-6*n covers n up to 2^16 with a wide margin.
    Row s = make_row(Op::SUM, {DType::kFloat32, DType::kInt32, DType::kFloat64}, red);
    s.build = [](auto in) { return in[0].sum({-1}); };
    s.ref = [](auto in, DType) { return reduce_last(in[0], false); };
    s.rtol = 1e-5;
    s.atol = 1e-6 * (1 << 16);
    add(s);
    Row m = make_row(Op::RMAX, nums, red);
    m.build = [](auto in) { return in[0].max({-1}); };
    m.ref = [](auto in, DType) { return reduce_last(in[0], true); };
    add(m);
  }
  {
    Row r = make_row(Op::RESHAPE, nums, mv);
    r.build = [](auto in) { return in[0].reshape({-1}).reshape({in[0].numel(), 1}) * 1; };
    r.ref = [](auto in, DType) { return in[0].values; };
    add(r);
    Row p = make_row(Op::PERMUTE, nums, mv);
    p.build = [](auto in) { return in[0].transpose(0, -1) * 1; };
    p.ref = [](auto in, DType) {
      Shape s = in[0].shape;
      std::swap(s.front(), s.back());
      return gather(in[0], s, [&](std::vector<int64_t> i) { std::swap(i.front(), i.back()); return ravel(i, in[0].shape); });
    };
    add(p);
    Row e = make_row(Op::EXPAND, nums, mv);
    e.build = [](auto in) { return in[0].unsqueeze(1).expand({-1, 3, -1}) * 1; };
    e.input_shape = [](const Shape& s, int) { return Shape{s[0], s[1]}; };
    e.ref = [](auto in, DType) {
      Shape s = {in[0].shape[0], 3, in[0].shape[1]};
      return gather(in[0], s, [&](std::vector<int64_t> i) { return i[0] * in[0].shape[1] + i[2]; });
    };
    e.shapes = {{4, 6}, {8, 16}};
    add(e);
    Row d = make_row(Op::PAD, nums, mv);
    d.build = [](auto in) {
      Pairs p(in[0].ndim(), {1, 2});
      return in[0].pad(p) * 1;
    };
    d.ref = [](auto in, DType) {
      Shape s = in[0].shape;
      for (auto& x : s) x += 3;
      return gather(in[0], s, [&](std::vector<int64_t> i) -> int64_t {
        for (size_t k = 0; k < i.size(); ++k) {
          if (--i[k] < 0 || i[k] >= in[0].shape[k]) return -1;
        }
        return ravel(i, in[0].shape);
      });
    };
    add(d);
    Row k = make_row(Op::SHRINK, nums, mv);
    k.build = [](auto in) {
      Pairs p;
      for (int64_t x : in[0].shape()) p.push_back({1, x - 1});
      return in[0].shrink(p) * 1;
    };
    k.ref = [](auto in, DType) {
      Shape s = in[0].shape;
      for (auto& x : s) x -= 2;
      return gather(in[0], s, [&](std::vector<int64_t> i) { for (auto& x : i) ++x; return ravel(i, in[0].shape); });
    };
    add(k);
    Row f = make_row(Op::FLIP, nums, mv);
    f.build = [](auto in) { return in[0].flip({0, -1}) * 1; };
    f.ref = [](auto in, DType) {
      const Shape& s = in[0].shape;
      return gather(in[0], s, [&](std::vector<int64_t> i) {
        i.front() = s.front() - 1 - i.front();
        i.back() = s.back() - 1 - i.back();
        return ravel(i, s);
      });
    };
    add(f);
  }
  {
    Row b = make_row(Op::BUFFER, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kUInt8, DType::kBool}, mv);
    b.lo = 0;
    b.hi = 2;
    b.build = [](auto in) { return in[0]; };  // from_vector then to_vector, no kernel
    b.ref = [](auto in, DType) { return in[0].values; };
    add(b);
    Row c = make_row(Op::CONST, floats, mv);
    c.build = [](auto in) { return Tensor::full(in[0].shape(), 2.5, in[0].dtype(), in[0].device()) + in[0] * 0; };
    c.ref = [](auto in, DType) { return map1(in[0], [](double) { return 2.5; }); };
    add(c);
    Row p = make_row(Op::COPY, floats, mv);
    p.build = [](auto in) { return (in[0].to(in[0].device() == "CPU" ? "INTERP" : "CPU") * 2.0).to(in[0].device()); };
    p.ref = [](auto in, DType) { return map1(in[0], [](double a) { return 2 * a; }); };
    add(p);
    Row g = make_row(Op::CONTIGUOUS, nums, mv);
    g.build = [](auto in) { return in[0].transpose(0, -1).contiguous().transpose(0, -1); };
    g.ref = [](auto in, DType) { return in[0].values; };
    add(g);
    Row s = make_row(Op::STORE, nums, ew);  // every kernel ends in one; the plainest is a copy
    s.build = [](auto in) { return in[0].flip({0}).contiguous().flip({0}); };
    s.ref = [](auto in, DType) { return in[0].values; };
    add(s);
  }
  (void)pi;
  return rows;
}

TEST(OpsTable, EveryOpHasARow) {
  std::set<Op> covered;
  for (const Row& r : table()) covered.insert(r.op);
  for (Op op : all_ops()) EXPECT_TRUE(covered.count(op)) << op_name(op) << " has no row in the conformance table";
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, EveryRowMatchesPlainLoops) {
  // CUDA's column runs on the CUDA emulator (CUDA_EMU) where there is no GPU (CI), and says so.
  const std::string dev = GetParam() == "CUDA" ? cuda_or_emulator() : GetParam();
  if (dev == "CUDA_EMU") testing_util::running_emulated(dev, "no GPU here: the CUDA column runs on the CUDA emulator (CUDA_EMU)");
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const Row& row : table()) {
      for (DType dt : row.dtypes) {
        for (size_t si = 0; si < row.shapes.size(); ++si) {
          // INTERP and CUDA sweep every shape; CPU (each new shape is a compiler run) the first two.
          // CUDA_EMU compiles as the CPU does, but sweeps all: the 2^16 shapes are the group reduces.
          if (dev == "CPU" && si >= 2) continue;
          const Shape& shape = row.shapes[si];
          std::vector<Input> ins;
          std::vector<Tensor> ts;
          for (int i = 0; i < row.inputs; ++i) {
            Input in{row.input_shape(shape, i), {}};
            std::uniform_real_distribution<double> u(row.lo, row.hi);
            in.values.resize(prod(in.shape));
            for (double& v : in.values) {
              v = u(rng);
              if (!is_float(dt)) v = std::floor(v);
              if (dt == DType::kBool) v = v > 0.5 ? 1 : 0;
              if (dt == DType::kUInt8) v = std::fmod(std::abs(v), 256);
              if (dt == DType::kFloat32) v = static_cast<float>(v);
            }
            std::vector<double> vals = in.values;
            ts.push_back(Tensor::from_vector(vals, in.shape, dev).cast(dt));
            ins.push_back(std::move(in));
          }
          std::ostringstream what;
          what << op_name(row.op) << " " << dtype_name(dt) << " " << shape << " on " << dev;
          Tensor out;
          std::vector<double> got;
          try {
            out = row.build(ts);
            got = out.to_doubles();
          } catch (const std::exception& e) {
            ADD_FAILURE() << what.str() << ": " << e.what();
            continue;
          }
          Values want = row.ref(ins, dt);
          if (out.dtype() == DType::kFloat32) {
            for (double& w : want) w = static_cast<float>(w);
          }
          EXPECT_TRUE(testing_util::all_close(want, got, row.rtol, row.atol, what.str()));
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Conformance, ::testing::Values("INTERP", "CPU", "CUDA"));

}  // namespace
}  // namespace tinyref
