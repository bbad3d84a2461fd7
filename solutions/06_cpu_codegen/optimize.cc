#include "ch06/optimize.h"

#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace ch06 {

using ch05::NodeKind;

namespace {

bool is_load(const LoopKernel& k, size_t leaf) { return k.leaves[leaf]->kind == NodeKind::kLoad; }

// How much to split a loop of `extent` by when `want` is the goal: the whole loop when it is no
// longer; else the largest of want, want/2, ... that divides it (no tail); else want, with a tail.
int64_t split_amount(int64_t extent, int64_t want, bool halving) {
  if (extent <= want) return extent;
  for (int64_t a = want; a >= 2; a = halving ? a / 2 : a - 1) {
    if (extent % a == 0) return a;
  }
  return want;
}

void note(LoopKernel& k, const std::string& what, const std::string& var, int64_t amount) {
  k.applied.push_back(what + " " + var + " " + std::to_string(amount));
}

constexpr int64_t kMaxUnrolled = 64;  // values computed side by side per iteration, at most

int64_t unrolled(const LoopKernel& k) { return k.extent_of(LoopKind::kUpcast) * k.extent_of(LoopKind::kUnroll); }

}  // namespace

OptimizeOptions OptimizeOptions::none() {
  OptimizeOptions o;
  o.reorder = o.upcast = o.registers = o.tile = o.parallel = false;
  return o;
}

std::string OptimizeOptions::str() const {
  std::string s;
  for (auto [on, name] : {std::pair{reorder, "reorder"}, {upcast, "upcast"}, {registers, "registers"}, {tile, "tile"},
                          {parallel, "parallel"}}) {
    if (on) s += (s.empty() ? "" : " ") + std::string(name);
  }
  return s.empty() ? "none" : s;
}

void optimize(LoopKernel& k, const OptimizeOptions& options) {
  if (const char* e = std::getenv("CH06_NOOPT"); e != nullptr && std::strcmp(e, "1") == 0) return;
  if (options.reorder) reorder_loops(k);
  if (options.upcast) upcast_output(k, options.width);
  if (options.registers) split_accumulators(k, options.partials);
  if (options.tile) register_tile(k, options.rows);
  if (options.parallel) parallelize(k, options.threads > 0 ? options.threads : omp_get_max_threads());
}

void parallelize(LoopKernel& k, int threads) {
  constexpr int64_t kMinWork = 1 << 15;  // below this, starting the threads costs more than it saves
  if (threads <= 1 || k.loops.empty() || k.loops[0].kind != LoopKind::kGlobal) return;
  int64_t work = 1;
  for (const Loop& l : k.loops) work *= l.extent;
  if (work < kMinWork) return;
  // Enough iterations that every thread gets several: uneven shares then even out.
  int n = 0;
  int64_t iterations = 1;
  while (n < static_cast<int>(k.loops.size()) && k.loops[n].kind == LoopKind::kGlobal && iterations < 4 * threads) {
    iterations *= k.loops[n].extent;
    ++n;
  }
  k.parallel = n;
  k.applied.push_back("parallel " + std::to_string(n));
}

void reorder_loops(LoopKernel& k) {
  for (LoopKind kind : {LoopKind::kGlobal, LoopKind::kReduce}) {
    std::vector<size_t> of_kind;
    for (size_t l = 0; l < k.loops.size(); ++l) {
      if (k.loops[l].kind == kind) of_kind.push_back(l);
    }
    if (of_kind.size() < 2) continue;
    size_t best = of_kind.back();
    int best_score = -1;
    for (size_t l : of_kind) {
      int score = 0;
      for (size_t leaf = 0; leaf < k.leaves.size(); ++leaf) {
        const bool counts = is_load(k, leaf) || (leaf == 0 && kind == LoopKind::kGlobal);
        const auto s = k.stride(leaf, l);
        if (counts && s && (*s == 1 || *s == -1)) ++score;
      }
      if (score >= best_score) {  // ties go to the later loop: the innermost stays unless beaten
        best = l;
        best_score = score;
      }
    }
    if (best != of_kind.back()) {
      k.applied.push_back("reorder " + k.loops[best].var + " innermost");
      k.move(best, of_kind.back());
    }
  }
}

void upcast_output(LoopKernel& k, int width) {
  if (width < 2) return;
  for (size_t l = 0; l < k.loops.size(); ++l) {
    if (k.loops[l].kind != LoopKind::kGlobal || k.stride(0, l) != 1) continue;
    const int64_t amount = split_amount(k.loops[l].extent, width, true);
    if (amount < 2 || unrolled(k) * amount > kMaxUnrolled) return;
    note(k, "upcast", k.loops[l].var, amount);
    k.split(l, amount, LoopKind::kUpcast);
    return;
  }
}

void split_accumulators(LoopKernel& k, int count) {
  if (!k.reduce() || count < 2 || unrolled(k) >= count) return;
  for (size_t l = k.loops.size(); l-- > 0;) {
    if (k.loops[l].kind != LoopKind::kReduce) continue;
    const int64_t amount = split_amount(k.loops[l].extent, count, true);
    if (amount < 2 || unrolled(k) * amount > kMaxUnrolled) return;
    note(k, "partials", k.loops[l].var, amount);
    k.split(l, amount, LoopKind::kUnroll);
    return;
  }
}

void register_tile(LoopKernel& k, int rows) {
  if (!k.reduce() || rows < 2) return;
  std::vector<size_t> upcasts;
  for (size_t l = 0; l < k.loops.size(); ++l) {
    if (k.loops[l].kind == LoopKind::kUpcast) upcasts.push_back(l);
  }
  if (upcasts.empty()) return;
  // The inputs the upcast loop moves through: each is loaded once per upcast position.
  std::vector<size_t> moving;
  for (size_t leaf = 0; leaf < k.leaves.size(); ++leaf) {
    if (!is_load(k, leaf)) continue;
    for (size_t u : upcasts) {
      if (k.stride(leaf, u).value_or(1) != 0) {
        moving.push_back(leaf);
        break;
      }
    }
  }
  // The output loop along which most of them are reused: there, one load serves every row.
  size_t best = k.loops.size();
  int best_score = 0;
  for (size_t l = 0; l < k.loops.size(); ++l) {
    if (k.loops[l].kind != LoopKind::kGlobal || k.loops[l].extent < 2) continue;
    int score = 0;
    for (size_t leaf : moving) score += k.stride(leaf, l) == 0 ? 1 : 0;
    if (score > 0 && score >= best_score) {
      best = l;
      best_score = score;
    }
  }
  if (best == k.loops.size()) return;
  const int64_t amount = split_amount(k.loops[best].extent, rows, false);
  if (amount < 2 || unrolled(k) * amount > kMaxUnrolled) return;
  note(k, "tile", k.loops[best].var, amount);
  k.split(best, amount, LoopKind::kUpcast);
}

}  // namespace ch06
