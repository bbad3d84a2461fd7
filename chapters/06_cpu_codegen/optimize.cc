#include "ch06/optimize.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "chapters/course.h"

namespace ch06 {

using ch05::NodeKind;

namespace {

[[maybe_unused]] bool is_load(const LoopKernel& k, size_t leaf) { return k.leaves[leaf]->kind == NodeKind::kLoad; }

// How many positions of a loop of `extent` to compute side by side for the vectorizer: all of
// them when they fit in two vectors (no tail: rows of 5, 10 or 12 whole); else the largest power
// of two up to `width` that divides the extent; else `width`, with a tail.
[[maybe_unused]] int64_t vector_amount(int64_t extent, int64_t width) {
  if (extent <= 2 * width) return extent;
  for (int64_t a = width; a >= 2; a /= 2) {
    if (extent % a == 0) return a;
  }
  return width;
}

// The register tile's second side along a loop of `extent`: the largest divisor of the extent
// up to `most` (no tail), else `most` (with a tail); 0 when not even 2 fit.
[[maybe_unused]] int64_t tile_amount(int64_t extent, int64_t most) {
  most = std::min(most, extent);
  for (int64_t a = most; a >= 2; --a) {
    if (extent % a == 0) return a;
  }
  return most >= 2 ? most : 0;
}

[[maybe_unused]] void note(LoopKernel& k, const std::string& what, const std::string& var, int64_t amount) {
  k.applied.push_back(what + " " + var + " " + std::to_string(amount));
}

constexpr int64_t kMaxUnrolled = 64;  // values computed side by side per iteration, at most

[[maybe_unused]] int64_t unrolled(const LoopKernel& k) { return k.extent_of(LoopKind::kUpcast) * k.extent_of(LoopKind::kUnroll); }

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

// TODO(ch06.7): see optimize.h. Leave k.parallel 0 when threads <= 1, when the first loop is no
// output loop, or when the kernel does less than about 2^15 iterations in all (all loops'
// extents multiplied). Else count the leading output loops it takes for their iterations to
// reach 4 per thread (or all the leading output loops there are), and note "parallel <n>" in
// k.applied.
void parallelize(LoopKernel& k, int threads) {
  throw course::NotImplemented("ch06.7: parallelize");
}

// TODO(ch06.8): see optimize.h. For each kind (kGlobal, then kReduce): score each loop of that
// kind by the LOADs whose stride along it (k.stride) is 1 or -1, plus the STORE's for output
// loops; move the best (ties: the later loop) to the innermost place of its kind (k.move), and
// note "reorder <var> innermost" when it moved.
void reorder_loops(LoopKernel& k) {
  throw course::NotImplemented("ch06.8: reorder_loops");
}

// TODO(ch06.9): see optimize.h. Find the output loop with store stride 1; in a reduce kernel
// give up if it is shorter than `width` or some LOAD has a stride other than 0, 1, -1 (or none)
// along it. Split it by vector_amount(extent, width) as kUpcast (not if that would make more
// than kMaxUnrolled positions), noting "upcast <var> <amount>" first: split may remove the loop.
void upcast_output(LoopKernel& k, int width) {
  throw course::NotImplemented("ch06.9: upcast_output");
}

// TODO(ch06.10): see optimize.h. Only a reduce kernel with nothing unrolled yet (unrolled(k)
// is 1). The innermost reduce loop, split by vector_amount(extent, count) as kUnroll; note
// "partials <var> <amount>".
void split_accumulators(LoopKernel& k, int count) {
  throw course::NotImplemented("ch06.10: split_accumulators");
}

// TODO(ch06.11): see optimize.h. Only a reduce kernel with an unrolled loop (the vector).
//  1. The LOADs that move along some unrolled loop (stride not 0): loaded once per position.
//  2. Each output loop's score: how many of those have stride 0 along it (one load serves
//     every row of the tile there). Its amount: tile_amount(extent, accumulators / unrolled(k)).
//  3. The best score > 0 wins; ties go to a loop the amount divides (no tail), then to the
//     later loop. Split it by its amount as kUpcast; note "tile <var> <amount>".
void register_tile(LoopKernel& k, int accumulators) {
  throw course::NotImplemented("ch06.11: register_tile");
}

}  // namespace ch06
