// The graph table: the programs whose kernels chapter 5's tests count, one row each. Every
// row states how many kernels it needs; the tests check that number against tinyref's
// scheduler on the same primitive graph (dual.h) at test time, and your count against both.
//
//   for (const GraphCase& g : graph_table()) {
//     std::mt19937_64 rng(seed);
//     std::vector<Dual> outs = g.build(rng);     // lazy: nothing has run
//     ... count, schedule, realize, compare ...
//   }
//
// `refuses`: lowering this graph refuses a reduce at least once (a second reduce in a kernel, or
// a reduce read through a view above it), so realize_points alone finds fewer points than
// there are kernels. Shapes are odd on purpose (rows that are not a multiple of anything).
#ifndef TESTS_05_SCHEDULING_FUSION_GRAPHS_H_
#define TESTS_05_SCHEDULING_FUSION_GRAPHS_H_

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "tests/05_scheduling_fusion/dual.h"

namespace graphs {

using dual::Dual;

struct GraphCase {
  std::string name;
  int kernels;
  bool refuses;
  std::function<std::vector<Dual>(std::mt19937_64&)> build;
};

inline Dual rn(const dual::Shape& s, std::mt19937_64& rng) { return Dual::randn(s, rng); }

struct MlpSizes {
  int64_t batch = 8, in = 48, hidden = 24, classes = 10;  // small: the slow oracle runs it too
};

// One SGD step of a 2-layer MLP: forward, backward, update; the updated parameters and the loss
// are the outputs. Its kernels do not depend on the sizes (MNIST's 784-128-10 at batch 64 has
// the same 17).
inline std::vector<Dual> mlp_step(std::mt19937_64& rng, MlpSizes n = {}) {
  Dual x = rn({n.batch, n.in}, rng), w1 = rn({n.in, n.hidden}, rng), b1 = rn({n.hidden}, rng);
  Dual w2 = rn({n.hidden, n.classes}, rng), b2 = rn({n.classes}, rng);
  const Dual y = Dual::labels(n.batch, n.classes, rng);
  for (Dual* p : {&w1, &b1, &w2, &b2}) p->requires_grad();
  Dual loss = ((x.matmul(w1) + b1).relu().matmul(w2) + b2).cross_entropy(y);
  loss.backward();
  std::vector<Dual> outs;
  for (Dual* p : {&w1, &b1, &w2, &b2}) outs.push_back(p->detach() - p->grad() * 0.1);
  outs.push_back(loss);
  return outs;
}

inline std::vector<GraphCase> graph_table() {
  using V = std::vector<Dual>;
  using R = std::mt19937_64;
  return {
      {"(a+b)*c", 1, false, [](R& r) { return V{(rn({13, 7}, r) + rn({13, 7}, r)) * rn({13, 7}, r)}; }},
      {"elementwise chain relu(exp(a*b+1)-a)", 1, false,
       [](R& r) {
         Dual a = rn({9, 33}, r), b = rn({9, 33}, r);
         return V{((a * b + 1.0).exp() - a).relu()};
       }},
      {"sum(a*b)", 1, false, [](R& r) { return V{(rn({31, 9}, r) * rn({31, 9}, r)).sum()}; }},
      {"column sum", 1, false, [](R& r) { return V{rn({37, 5}, r).sum({0})}; }},
      {"relu(x@w+b)", 1, false, [](R& r) { return V{(rn({8, 17}, r).matmul(rn({17, 5}, r)) + rn({5}, r)).relu()}; }},
      {"softmax", 3, false, [](R& r) { return V{rn({6, 11}, r).softmax(-1)}; }},
      {"log_softmax", 3, false, [](R& r) { return V{rn({6, 11}, r).log_softmax(-1)}; }},
      {"layer norm", 3, false, [](R& r) { return V{rn({5, 12}, r).layernorm(rn({12}, r), rn({12}, r))}; }},
      {"x - mean(x): a broadcast reduce is realized, not recomputed", 2, false,
       [](R& r) {
         Dual x = rn({6, 10}, r);
         return V{x - x.mean({1}, true)};
       }},
      {"variance", 2, false, [](R& r) { return V{rn({7, 9}, r).var({1})}; }},
      {"mse loss", 1, false,
       [](R& r) {
         Dual d = rn({10, 3}, r) - rn({10, 3}, r);
         return V{(d * d).mean({0, 1})};
       }},
      {"sum then max: one reduce per kernel", 2, true, [](R& r) { return V{rn({4, 5, 6}, r).sum({2}).max({1})}; }},
      {"two reduces of one input", 2, false,
       [](R& r) {
         Dual h = (rn({8, 8}, r) * 2.0).exp();
         return V{h.sum(), h.max()};
       }},
      {"two outputs share an exp (recomputed)", 2, false,
       [](R& r) {
         Dual h = (rn({8, 8}, r) * 2.0).exp();
         return V{h * 2.0, h * 3.0};
       }},
      {"reduce read by two consumers", 2, false,
       [](R& r) {
         Dual s = rn({16, 16}, r).sum({1}, true);
         return V{s * 2.0 + s.exp()};
       }},
      {"reduce read by two outputs", 3, false,
       [](R& r) {
         Dual s = rn({16, 16}, r).sum({1}, true);
         return V{s * 2.0, s * 3.0};
       }},
      {"reduce read through a permute above it", 2, true,
       [](R& r) { return V{(rn({4, 6, 8}, r).sum({2}) + 1.0).permute({1, 0}) * 2.0}; }},
      {"reduce reshaped and transposed", 2, true,
       [](R& r) { return V{(rn({16, 16}, r).sum({1}, true) + 1.0).reshape({2, 8}).transpose() * 2.0}; }},
      {"movement ops are free", 1, false,
       [](R& r) {
         Dual a = rn({6, 10}, r);
         return V{a.transpose().reshape({5, 12}).flip({1}).pad({{1, 1}, {0, 2}}) * 3.0};
       }},
      {"pad of exp: exp realized first", 2, false, [](R& r) { return V{rn({3, 5}, r).exp().pad({{1, 1}, {2, 1}}) * 2.0}; }},
      {"pad of a product: fused", 1, false,
       [](R& r) { return V{(rn({3, 5}, r) * 2.0).pad({{1, 1}, {2, 1}}) * 2.0}; }},
      {"pad of a product of an exp", 2, false,
       [](R& r) { return V{(rn({3, 5}, r).exp() * 2.0).pad({{0, 2}, {1, 0}}) + 1.0}; }},
      {"shrink of exp: fused", 1, false, [](R& r) { return V{rn({6, 7}, r).exp().shrink({{1, 5}, {2, 6}}) * 2.0}; }},
      {"cat of a, 2a, sin a", 1, false,
       [](R& r) {
         Dual a = rn({3, 4}, r);
         return V{a.pad({{0, 6}, {0, 0}}) + (a * 2.0).pad({{3, 3}, {0, 0}}) + a.sin().pad({{6, 0}, {0, 0}})};
       }},
      {"cat of a and exp a", 2, false,
       [](R& r) {
         Dual a = rn({3, 4}, r);
         return V{a.pad({{0, 3}, {0, 0}}) + a.exp().pad({{3, 0}, {0, 0}})};
       }},
      {"broadcast product is realized", 2, false,
       [](R& r) {
         Dual p = rn({5, 7}, r) * rn({5, 7}, r);
         return V{p.reshape({1, 5, 7}).expand({3, 5, 7}) + rn({3, 5, 7}, r)};
       }},
      {"contiguous in the middle", 2, false, [](R& r) { return V{(rn({5, 5}, r) * 2.0).contiguous() * rn({5, 5}, r)}; }},
      {"where(a < b, a, b)", 1, false,
       [](R& r) {
         Dual a = rn({7, 7}, r), b = rn({7, 7}, r);
         return V{a.lt(b).where(a, b)};
       }},
      {"tanh of sigmoid", 1, false, [](R& r) { return V{rn({7, 9}, r).sigmoid().tanh()}; }},
      {"matmul read transposed", 2, false,
       [](R& r) { return V{rn({6, 9}, r).matmul(rn({9, 4}, r)).transpose() + rn({4, 6}, r)}; }},
      {"conv2d + relu", 1, false,
       [](R& r) { return V{rn({2, 3, 9, 9}, r).conv2d(rn({4, 3, 3, 3}, r), 1).relu()}; }},
      {"max pool", 1, false, [](R& r) { return V{rn({2, 3, 8, 10}, r).max_pool2d(2)}; }},
      {"conv2d forward and backward", 7, false,
       [](R& r) {
         Dual x = rn({2, 3, 7, 7}, r), w = rn({4, 3, 3, 3}, r);
         x.requires_grad();
         w.requires_grad();
         Dual loss = x.conv2d(w, 1).relu().sum();
         loss.backward();
         return V{loss, x.grad(), w.grad()};
       }},
      {"MLP forward", 2, false,
       [](R& r) {
         Dual x = rn({8, 48}, r);
         return V{(x.matmul(rn({48, 24}, r)) + rn({24}, r)).relu().matmul(rn({24, 10}, r)) + rn({10}, r)};
       }},
      {"MLP training step", 17, true, [](R& r) { return mlp_step(r); }},
      {"a realized input is a load", 1, false,
       [](R& r) {
         Dual a = rn({5, 6}, r), b = rn({5, 6}, r);
         Dual p = (a * b).realize();
         return V{p + b};
       }},
      {"an expression of constants read broadcast", 1, false,
       [](R& r) { return V{rn({4, 5}, r) * (Dual::full({}, 2) * 3.0 + 1.0).reshape({1, 1}).expand({4, 5})}; }},
      {"a constant output", 1, false, [](R&) { return V{Dual::full({3, 4}, 2.5)}; }},
      {"an empty tensor", 1, false, [](R& r) { return V{rn({0, 4}, r) + 1.0}; }},
  };
}

}  // namespace graphs

#endif  // TESTS_05_SCHEDULING_FUSION_GRAPHS_H_
