// random_graph (graph.h): a random lazy graph, built step by step through FuzzGraph's calls.
#include <algorithm>
#include <random>

#include "tinyref/error.h"
#include "tinyref/fuzz/graph.h"

namespace tinyref::fuzz {

namespace {

// Builds a random graph step by step; a step whose arguments do not check out is skipped.
class Generator {
 public:
  Generator(uint64_t seed, const RandomGraphOptions& o) : rng_(seed), o_(o) {}

  FuzzGraph run() {
    const int inputs = 1 + pick(3);
    for (int i = 0; i < inputs; ++i) new_input(random_shape(), random_dtype());
    const int steps = o_.min_steps + pick(o_.max_steps - o_.min_steps + 1);
    for (int added = 0, tries = 0; added < steps && tries < 20 * steps; ++tries) {
      const size_t before = g_.size();
      try {
        step();
      } catch (const Error&) {
        continue;  // arguments that did not fit: try another step
      }
      if (g_.size() > before) ++added;
    }
    // The last node, and now and then one or two more: outputs that share inputs and work.
    g_.outputs = {static_cast<int>(g_.size()) - 1};
    for (int extra = pick(3); extra > 0; --extra) {
      const int o = pick(static_cast<int>(g_.size()));
      if (std::find(g_.outputs.begin(), g_.outputs.end(), o) == g_.outputs.end()) g_.outputs.push_back(o);
    }
    return g_.without_dead_nodes();
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  const FuzzNode& node(int i) const { return g_.nodes[i]; }

  Shape random_shape() {
    static const int64_t extents[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 32};
    for (;;) {
      Shape s(1 + pick(4));
      for (int64_t& d : s) d = extents[pick(static_cast<int>(std::size(extents)))];
      if (prod(s) <= o_.max_elements) return s;
    }
  }
  DType random_dtype() {
    const int r = pick(20);
    return r < 13 ? DType::kFloat32 : r < 15 ? DType::kFloat64 : r < 18 ? DType::kInt32 : r < 19 ? DType::kBool : DType::kUInt8;
  }
  int new_input(const Shape& s, DType dt) { return g_.input(s, dt, rng_() % 1000000); }

  // A node of n's shape and dtype: an existing one, or a new input, a constant, a cast, or a
  // reduce of n broadcast back (a reduce feeding an elementwise op through an expand).
  int operand_like(int x, bool exact) {
    const FuzzNode n = node(x);  // a copy: adding nodes below may move the graph's nodes
    std::vector<int> same;
    for (size_t i = 0; i < g_.size(); ++i) {
      if (node(i).shape == n.shape && node(i).dtype == n.dtype && (node(i).exact || !exact)) same.push_back(static_cast<int>(i));
    }
    const int r = pick(10);
    if (r < 4 && !same.empty()) return same[pick(static_cast<int>(same.size()))];
    if (r < 6) return new_input(n.shape, n.dtype);
    if (r < 8) {
      const double v = n.dtype == DType::kBool ? pick(2) : is_float(n.dtype) ? (pick(33) - 16) / 4.0 : pick(9) - 4;
      return g_.constant(v, n.dtype, n.shape);
    }
    if (n.shape.empty() || n.dtype == DType::kBool || n.dtype == DType::kUInt8) return new_input(n.shape, n.dtype);
    std::vector<int64_t> axes = {pick(static_cast<int>(n.shape.size()))};
    const int reduced = g_.reduce(chance(0.5) ? Op::SUM : Op::RMAX, x, axes);
    return g_.move(reduced, Op::EXPAND, n.shape);
  }

  void step() {
    const int x = pick(static_cast<int>(g_.size()));
    const int r = pick(100);
    if (r < 5) {
      new_input(random_shape(), random_dtype());
    } else if (r < 40) {
      movement(x);
    } else if (r < 52) {
      reduce(x);
    } else if (r < 55) {
      g_.contiguous(x);
    } else {
      elementwise(x);
    }
  }

  void movement(int x) {
    const Shape s = node(x).shape;
    const size_t nd = s.size();
    switch (pick(6)) {
      case 0: {  // a reshape: a fresh factoring of the same element count (often a second view)
        std::vector<int64_t> factors;
        int64_t n = prod(s);
        for (int64_t f = 2; f <= n && n > 1; ++f) {
          while (n % f == 0) {
            factors.push_back(f);
            n /= f;
          }
        }
        std::shuffle(factors.begin(), factors.end(), rng_);
        Shape out;
        for (int64_t f : factors) {
          if (out.empty() || (out.size() < 4 && chance(0.5))) out.push_back(f);
          else out.back() *= f;
        }
        if (chance(0.3)) out.insert(out.begin() + pick(static_cast<int>(out.size()) + 1), 1);
        if (prod(s) == 0) out = {0, 1};
        g_.move(x, Op::RESHAPE, out);
        return;
      }
      case 1: {
        std::vector<int64_t> order(nd);
        for (size_t i = 0; i < nd; ++i) order[i] = static_cast<int64_t>(i);
        std::shuffle(order.begin(), order.end(), rng_);
        g_.move(x, Op::PERMUTE, order);
        return;
      }
      case 2: {  // grow the size-1 dimensions (making one first where there is none)
        int y = x;
        Shape t = s;
        if (std::find(s.begin(), s.end(), 1) == s.end()) {
          t.insert(t.begin() + pick(static_cast<int>(nd) + 1), 1);
          y = g_.move(x, Op::RESHAPE, t);
        }
        for (int64_t& d : t) d = d == 1 ? 1 + pick(4) : d;
        if (prod(t) <= o_.max_elements) g_.move(y, Op::EXPAND, t);
        return;
      }
      case 3: {
        Pairs p(nd);
        for (auto& [b, a] : p) b = pick(3), a = pick(3);
        g_.move(x, Op::PAD, {}, p);
        return;
      }
      case 4: {  // now and then down to nothing: a zero-size view
        Pairs p(nd);
        for (size_t i = 0; i < nd; ++i) {
          const int64_t lo = pick(static_cast<int>(s[i]) + 1);
          const int64_t hi = chance(0.03) ? lo : lo + pick(static_cast<int>(s[i] - lo) + 1);
          p[i] = {lo, std::max(hi, std::min(lo + 1, s[i]))};
        }
        g_.move(x, Op::SHRINK, {}, p);
        return;
      }
      default: {
        std::vector<int64_t> flags(nd);
        for (int64_t& f : flags) f = pick(2);
        g_.move(x, Op::FLIP, flags);
        return;
      }
    }
  }

  void reduce(int x) {
    const size_t nd = node(x).shape.size();
    if (nd == 0) return;
    std::vector<int64_t> axes;
    for (size_t i = 0; i < nd; ++i) {
      if (chance(0.4)) axes.push_back(static_cast<int64_t>(i));
    }
    if (axes.empty()) axes.push_back(pick(static_cast<int>(nd)));
    g_.reduce(chance(0.6) ? Op::SUM : Op::RMAX, x, axes);
  }

  void elementwise(int x) {
    const DType dt = node(x).dtype;
    static const Op floats[] = {Op::NEG, Op::EXP2, Op::LOG2, Op::SIN, Op::SQRT, Op::RECIP, Op::CAST, Op::ADD,
                                Op::SUB, Op::MUL,  Op::DIV,  Op::MAX, Op::CMPLT, Op::CMPNE, Op::MULACC, Op::WHERE};
    static const Op ints[] = {Op::NEG, Op::CAST, Op::ADD, Op::SUB, Op::MUL, Op::MAX, Op::CMPLT, Op::CMPNE,
                              Op::MOD, Op::IDIV, Op::MULACC, Op::WHERE};
    static const Op bools[] = {Op::CAST, Op::AND, Op::CMPNE, Op::WHERE};
    Op op = Op::CAST;
    if (is_float(dt)) op = floats[pick(static_cast<int>(std::size(floats)))];
    if (dt == DType::kInt32) op = ints[pick(static_cast<int>(std::size(ints)))];
    if (dt == DType::kBool) op = bools[pick(static_cast<int>(std::size(bools)))];
    const bool exact = node(x).exact;
    // exp2 and sin of large values would turn a backend's rounding into a large difference.
    if ((op == Op::EXP2 && node(x).bound > 8) || (op == Op::SIN && node(x).bound > 64)) return;
    switch (op_arity(op)) {
      case 1: {
        const DType to = op == Op::CAST ? random_dtype() : dt;
        g_.alu(op, {x}, to);
        return;
      }
      case 2: g_.alu(op, {x, operand_like(x, exact)}); return;
      default:
        if (op == Op::MULACC) {
          g_.alu(op, {x, operand_like(x, exact), operand_like(x, exact)});
        } else if (dt == DType::kBool) {  // x is the condition
          const int v = new_input(node(x).shape, random_dtype());
          g_.alu(op, {x, v, operand_like(v, false)});
        } else {
          const int cond = g_.alu(Op::CMPLT, {operand_like(x, true), operand_like(x, true)});
          g_.alu(op, {cond, x, operand_like(x, false)});
        }
    }
  }

  std::mt19937_64 rng_;
  RandomGraphOptions o_;
  FuzzGraph g_;
};

}  // namespace

FuzzGraph random_graph(uint64_t seed, const RandomGraphOptions& options) { return Generator(seed, options).run(); }

}  // namespace tinyref::fuzz
