// The GPU half of optimizer.h. A GPU runs one thread per output (or per register tile of
// outputs), in blocks; the heuristics decide which output dimensions become the digits of the
// thread index (kLocal), which stay the block index (kGlobal), what each thread computes
// several of (kUpcast), and when a reduction is split across the threads of a block (kGroup).
//
//   matmul 1024x1024x1024:  r_16_16_1024_16_16_4_4   blocks (16, 16), threads (16, 16),
//                           4x4 outputs per thread, the K loop unrolled by 4
//   sum of 65536 floats:    one block of 256 threads, each adding 256 numbers, then shared
//                           memory and a barrier to combine the 256 partials
//
// As on the CPU, each step only splits, moves and retypes dimensions.
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "tinyref/codegen/optimizer.h"

namespace tinyref {

namespace {

constexpr int64_t kBlockThreads = 256;  // a good default on every NVIDIA GPU since Kepler

std::optional<int64_t> stride(const Kernel& k, size_t leaf, size_t d) {
  if (k.sts[leaf].shape()[d] == 1) return 0;
  return k.sts[leaf].real_stride(d);
}

// A buffer the reduction reads with stride 0 along d: computing several outputs of d in one
// thread keeps its value in a register for all of them.
bool reused_along(const Kernel& k, size_t d) {
  for (size_t i = 1; i < k.leaves.size(); ++i) {
    if (k.leaves[i]->op == Op::BUFFER && k.sts[i].shape() == k.full_shape() && stride(k, i, d) == 0) return true;
  }
  return false;
}

// How many buffer loads read dimension d contiguously.
int contiguous_loads(const Kernel& k, size_t d) {
  int n = 0;
  for (size_t i = 1; i < k.leaves.size(); ++i) {
    if (k.leaves[i]->op == Op::BUFFER && k.sts[i].shape()[d] != 1 && stride(k, i, d) == 1) ++n;
  }
  return n;
}

// The largest power of two that divides n and is at most cap.
int64_t pow2_divisor(int64_t n, int64_t cap) {
  int64_t f = 1;
  while (f * 2 <= cap && n % (f * 2) == 0) f *= 2;
  return f;
}

std::vector<size_t> dims_of(const Kernel& k, Axis a) {
  std::vector<size_t> out;
  for (size_t d = 0; d < k.ndim(); ++d) {
    if (k.axes[d] == a) out.push_back(d);
  }
  return out;
}

int64_t extent_of(const Kernel& k, Axis a) {
  int64_t n = 1;
  const Shape full = k.full_shape();
  for (size_t d : dims_of(k, a)) n *= full[d];
  return n;
}

void log(Kernel& k, const std::string& what, size_t d, int64_t amount) {
  k.applied.push_back(what + " " + std::to_string(d) + " " + std::to_string(amount));
}

// A reduction with few outputs: one block per output, its threads each reducing a strided
// share of the (preferably contiguous) reduce dimension, so neighbouring threads read
// neighbouring elements.
bool group_reduce(Kernel& k) {
  const Shape full = k.full_shape();
  std::vector<size_t> reduces = dims_of(k, Axis::kReduce);
  if (reduces.empty()) return false;
  size_t best = reduces.back();
  for (size_t d : reduces) {
    if (contiguous_loads(k, d) > contiguous_loads(k, best)) best = d;
  }
  const int64_t threads = pow2_divisor(full[best], kBlockThreads);
  if (threads < 16) return false;
  k.split(best, threads, Axis::kGroup);
  log(k, "group", best, threads);
  return true;
}

// A matmul-shaped reduction (two output dimensions, each with an input reused along it): a
// square of threads per block, and a tile x tile register tile per thread, strided by the
// thread count so that neighbouring threads read and write neighbouring elements.
bool tile_2d(Kernel& k, int64_t threads_per_side, int64_t tile) {
  std::vector<size_t> globals = dims_of(k, Axis::kGlobal);
  if (globals.size() < 2) return false;
  const size_t rows = globals[globals.size() - 2], cols = globals.back();
  const Shape full = k.full_shape();
  const int64_t span = threads_per_side * tile;
  if (!reused_along(k, rows) || !reused_along(k, cols) || full[rows] % span || full[cols] % span) return false;
  // Splits of rows first: a later split is a less significant digit of the thread index, and the
  // column threads should be the fastest (they read and write contiguously).
  for (size_t d : {rows, cols}) {
    k.split(d, threads_per_side, Axis::kLocal);
    log(k, "local", d, threads_per_side);
  }
  for (size_t d : {rows, cols}) {
    k.split(d, tile, Axis::kUpcast);
    log(k, "upcast", d, tile);
  }
  return true;
}

// Everything else: up to a block of threads over the innermost output dimensions, and for a
// reduction a few outputs per thread along dimensions where an input is reused.
void spread(Kernel& k) {
  std::vector<size_t> globals = dims_of(k, Axis::kGlobal);
  const Shape full = k.full_shape();
  // Budget the threads innermost first (the contiguous output), then split outermost first so
  // the innermost dimension's threads end up the least significant digit.
  std::vector<int64_t> threads(k.ndim(), 1);
  int64_t left = kBlockThreads;
  for (size_t i = globals.size(); i-- > 0;) {
    threads[globals[i]] = pow2_divisor(full[globals[i]], left);
    left /= threads[globals[i]];
  }
  if (k.reduce) {
    int64_t accs = 1;
    for (size_t d : globals) {
      const int64_t rest = full[d] / threads[d];
      if (accs < 16 && rest % 4 == 0 && reused_along(k, d)) {
        k.split(d, 4, Axis::kUpcast);
        log(k, "upcast", d, 4);
        accs *= 4;
      }
    }
  }
  for (size_t d : globals) {
    if (threads[d] == 1) continue;
    k.split(d, threads[d], Axis::kLocal);
    log(k, "local", d, threads[d]);
  }
}

// A lone accumulator per loop iteration waits on each load: unrolling the innermost reduce loop
// lets the loads of several iterations be in flight together.
void unroll_reduce(Kernel& k, const CodegenOptions& options) {
  std::vector<size_t> reduces = dims_of(k, Axis::kReduce);
  if (reduces.empty()) return;
  const size_t d = reduces.back();
  if (k.full_shape()[d] % 4 == 0 && k.upcast_size() * 4 <= options.max_upcast) {
    k.split(d, 4, Axis::kUnroll);
    log(k, "unroll", d, 4);
  }
}

}  // namespace

void optimize_gpu(Kernel& k, const CodegenOptions& options) {
  k.gpu = true;
  if (const char* e = std::getenv("TT_NOOPT"); e != nullptr && *e == '1') return;
  const int64_t outputs = extent_of(k, Axis::kGlobal);
  const int64_t reduced = extent_of(k, Axis::kReduce);
  if (k.reduce && outputs < 4096 && reduced >= 1024 && group_reduce(k)) return;
  if (!(k.reduce && outputs >= (1 << 16) && tile_2d(k, 16, 4))) spread(k);
  if (k.reduce) unroll_reduce(k, options);
}

}  // namespace tinyref
