#include "ch06/optimize.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ch06 {

using ch05::NodeKind;

namespace {

bool is_load(const LoopKernel& k, size_t leaf) { return k.leaves[leaf]->kind == NodeKind::kLoad; }

// How many positions of a loop of `extent` to compute side by side for the vectorizer: all of
// them when they fit in two vectors (no tail: rows of 5, 10 or 12 whole); else the largest power
// of two up to `width` that divides the extent; else `width`, with a tail.
int64_t vector_amount(int64_t extent, int64_t width) {
  if (extent <= 2 * width) return extent;
  for (int64_t a = width; a >= 2; a /= 2) {
    if (extent % a == 0) return a;
  }
  return width;
}

// The register tile's second side along a loop of `extent`: the largest divisor of the extent
// up to `most` (no tail), else `most` (with a tail); 0 when not even 2 fit.
int64_t tile_amount(int64_t extent, int64_t most) {
  most = std::min(most, extent);
  for (int64_t a = most; a >= 2; --a) {
    if (extent % a == 0) return a;
  }
  return most >= 2 ? most : 0;
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
  if (options.tile) register_tile(k, options.accumulators);
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
  for (size_t l = 0; l < k.loops.size(); ++l) {
    if (k.loops[l].kind != LoopKind::kGlobal || k.stride(0, l) != 1) continue;
    // In a reduction the loads run hot, the store once per output: an output loop shorter than a
    // vector (a weight gradient's 5 columns), or whose inputs lie far apart (BatchNorm's channels,
    // 400 floats apart), makes a poor vector. split_accumulators vectorizes those instead.
    if (k.reduce() && k.loops[l].extent < width) return;
    for (size_t leaf = 1; k.reduce() && leaf < k.leaves.size(); ++leaf) {
      const auto s = k.stride(leaf, l);
      if (is_load(k, leaf) && (!s || std::abs(*s) > 1)) return;
    }
    const int64_t amount = vector_amount(k.loops[l].extent, width);
    if (amount < 2 || unrolled(k) * amount > kMaxUnrolled) return;
    note(k, "upcast", k.loops[l].var, amount);
    k.split(l, amount, LoopKind::kUpcast);
    return;
  }
}

void split_accumulators(LoopKernel& k, int count) {
  if (!k.reduce() || unrolled(k) > 1) return;  // an upcast gives several accumulators already
  for (size_t l = k.loops.size(); l-- > 0;) {
    if (k.loops[l].kind != LoopKind::kReduce) continue;
    const int64_t amount = vector_amount(k.loops[l].extent, count);
    if (amount < 2 || unrolled(k) * amount > kMaxUnrolled) return;
    note(k, "partials", k.loops[l].var, amount);
    k.split(l, amount, LoopKind::kUnroll);
    return;
  }
}

void register_tile(LoopKernel& k, int accumulators) {
  if (!k.reduce()) return;
  std::vector<size_t> unrolled_loops;  // the vector: upcast outputs or partial sums
  for (size_t l = 0; l < k.loops.size(); ++l) {
    if (!is_loop(k.loops[l].kind)) unrolled_loops.push_back(l);
  }
  if (unrolled_loops.empty()) return;
  // The inputs the vector moves through: each is loaded once per position.
  std::vector<size_t> moving;
  for (size_t leaf = 0; leaf < k.leaves.size(); ++leaf) {
    if (!is_load(k, leaf)) continue;
    for (size_t u : unrolled_loops) {
      if (k.stride(leaf, u).value_or(1) != 0) {
        moving.push_back(leaf);
        break;
      }
    }
  }
  // The output loop along which most of them are reused: there, one load serves every row of
  // the tile. Ties go to a loop the tile divides (a tail in the hottest loop costs more than it
  // saves), then to the later loop.
  const int64_t most = accumulators / unrolled(k);
  size_t best = k.loops.size();
  int best_score = 0;
  bool best_exact = false;
  for (size_t l = 0; l < k.loops.size(); ++l) {
    if (k.loops[l].kind != LoopKind::kGlobal) continue;
    const int64_t amount = tile_amount(k.loops[l].extent, most);
    if (amount < 2) continue;
    int score = 0;
    for (size_t leaf : moving) score += k.stride(leaf, l) == 0 ? 1 : 0;
    const bool exact = k.loops[l].extent % amount == 0;
    if (score > 0 && (score > best_score || (score == best_score && exact >= best_exact))) {
      best = l;
      best_score = score;
      best_exact = exact;
    }
  }
  if (best == k.loops.size()) return;
  const int64_t amount = tile_amount(k.loops[best].extent, most);
  note(k, "tile", k.loops[best].var, amount);
  k.split(best, amount, LoopKind::kUpcast);
}

}  // namespace ch06
