#include "tinyref/codegen/optimizer.h"

#include "tinyref/codegen/packing.h"

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

#include "tinyref/env.h"

namespace tinyref {

namespace {

bool pre_reduce(const Kernel& k, size_t i) {
  return i > 0 && k.reduce && k.sts[i].shape() == k.full_shape();
}

int64_t buffer_bytes(const Kernel& k, size_t leaf) {
  const BufferArg& b = k.leaf_buffer(leaf);
  return b.size * static_cast<int64_t>(itemsize(b.dtype));
}

int64_t panel_bytes(const Kernel& k, const PackedPanel& panel) {
  return panel.size * static_cast<int64_t>(itemsize(k.leaf_buffer(panel.leaf).dtype));
}

// How many loads read dimension d with stride `want` (and how many read it at all).
std::pair<int, int> loads_with_stride(const Kernel& k, size_t d, int64_t want) {
  int hits = 0, total = 0;
  for (size_t i = 1; i < k.leaves.size(); ++i) {
    if (k.leaves[i]->op != Op::BUFFER || k.sts[i].shape()[d] == 1) continue;
    ++total;
    if (k.stride(i, d) == want) ++hits;
  }
  return {hits, total};
}

// The register tile of a reduction: one or two output dimensions along which an input is
// reused, and how many outputs of each to compute per iteration. The tile with the fewest loads
// per accumulator wins (each input is loaded once per tile position along the dimensions where
// it moves), among tiles whose accumulators, the operands of their smaller side and one more fit
// in all but two of the vector registers: 14 of AVX2's 16 (at 16, GCC spills: a 4x3 tile ran
// 2.6x slower than 4x2), 30 of AVX-512's 32.
// Ties go to more accumulators, then to loads that lie closer together (neighbouring vectors of
// a row rather than of 5 images), then to fewer loads of the input that moves along the lanes
// (its vectors, often a packed panel in L2, against values broadcast from a row in L1), then to
// the earlier dimension: a matmul gets 4 rows x 2 column vectors (6 loads for 8 accumulators), a
// 5x5 conv on 20-wide rows 5 row vectors x 2 channels (7 loads for 10), MNIST's conv2 with
// channel lanes 2 channel vectors x 4 pixels.
std::vector<std::pair<size_t, int64_t>> best_register_tile(const Kernel& k, const CodegenOptions& options) {
  const int64_t registers = options.vector_registers - 2;
  const Shape full = k.full_shape();
  std::vector<std::pair<size_t, int64_t>> options_1d;  // (dimension, amount)
  for (size_t d = 0; d < k.ndim(); ++d) {
    if (k.axes[d] != Axis::kGlobal || !k.reused_along(d)) continue;
    for (int64_t amount : {8, 6, 5, 4, 3, 2}) {
      // The first loop keeps at least two iterations: it is the one the threads share.
      if (full[d] % amount == 0 && (full[d] / amount >= 2 || d != 0)) options_1d.push_back({d, amount});
    }
  }
  // Loads per iteration for one input: one per tile position along the dimensions it moves in.
  auto loads = [&](const std::vector<std::pair<size_t, int64_t>>& tile, size_t leaf) {
    int64_t n = 1;
    for (const auto& [d, amount] : tile) n *= k.stride(leaf, d).value_or(1) == 0 ? 1 : amount;
    return n;
  };
  // How far apart one input's loads of a tile lie: the largest stride along which they move.
  auto reach = [&](const std::vector<std::pair<size_t, int64_t>>& tile, size_t leaf) {
    int64_t r = 0;
    for (const auto& [d, amount] : tile) r = std::max(r, std::abs(k.stride(leaf, d).value_or(1 << 30)));
    return r;
  };
  std::vector<std::pair<size_t, int64_t>> best;
  double best_cost = 1e9;
  int64_t best_accs = 1, best_vectors = 0, best_reach = 0;
  const int vector_dim = k.first_of(Axis::kVector);
  auto consider = [&](std::vector<std::pair<size_t, int64_t>> tile) {
    int64_t accs = 1, total = 0, side = 1 << 30, far = 0, vectors = 0;
    for (const auto& [d, amount] : tile) accs *= amount;
    for (size_t i = 1; i < k.leaves.size(); ++i) {
      if (k.leaves[i]->op != Op::BUFFER || !pre_reduce(k, i)) continue;
      const int64_t n = loads(tile, i);
      total += n;
      side = std::min(side, n);
      if (n > 1) far += reach(tile, i);
      if (vector_dim >= 0 && k.stride(i, static_cast<size_t>(vector_dim)) != 0) vectors += n;
    }
    if (accs + side + 1 > registers || k.upcast_size() * accs > options.max_upcast || total == 0) return;
    const double cost = static_cast<double>(total) / static_cast<double>(accs);
    const bool tie = std::abs(cost - best_cost) < 1e-9;
    if (cost < best_cost - 1e-9 || (tie && accs > best_accs) || (tie && accs == best_accs && far < best_reach) ||
        (tie && accs == best_accs && far == best_reach && vectors < best_vectors)) {
      best = std::move(tile);
      best_cost = cost;
      best_accs = accs;
      best_vectors = vectors;
      best_reach = far;
    }
  };
  for (size_t i = 0; i < options_1d.size(); ++i) {
    consider({options_1d[i]});
    for (size_t j = i + 1; j < options_1d.size(); ++j) {
      if (options_1d[j].first != options_1d[i].first) consider({options_1d[i], options_1d[j]});
    }
  }
  return best;
}

// A conv weight gradient reduces batch x height x width into a few weights, and every register
// tile of weights reads the whole of both inputs (64 MB for MNIST's second conv), so the inputs
// stream from memory once per tile. Moving the batch loop outside the output loops, in chunks
// small enough to stay in L2, reads them about once: each chunk adds its share into the output,
// which stays in cache. The batch loop goes inside the outermost output loop, which the threads
// share, so that the threads need not meet after every chunk. It needs the stored value to be
// the reduce itself (nothing applied after it) and a reduce dimension along which every input
// moves (the batch: disjoint data per chunk), and pays where the inputs are several times what L2
// holds: MNIST's conv3 and conv4 weight gradients (13 and 15 MB of inputs) stream on an AVX-512
// Xeon's 2 MiB L2 as on a Zen 3's 512 KiB. Returns that Opt (the dimension and the number of
// chunks), or nothing where it does not apply.
std::optional<Opt> stream_opt(const Kernel& k, const CodegenOptions& options) {
  const int64_t chunk_bytes = options.l2_bytes / 2, max_output_bytes = options.l2_bytes;
  const int64_t min_input_bytes = 4 * options.l2_bytes;
  if (!k.reduce || k.ast->src[0].get() != k.reduce || k.axes[0] != Axis::kGlobal) return std::nullopt;
  const int64_t out_bytes = prod(k.out_shape()) * static_cast<int64_t>(itemsize(k.bufs[0].dtype));
  int64_t in_bytes = 0;
  for (size_t i = 1; i < k.leaves.size(); ++i) {
    if (k.leaves[i]->op == Op::BUFFER) in_bytes += buffer_bytes(k, i);
  }
  bool reused = false;
  for (size_t d : k.dims(Axis::kGlobal)) reused = reused || k.reused_along(d);
  const int d = k.first_of(Axis::kReduce);
  if (!reused || d < 0 || out_bytes > max_output_bytes || in_bytes < min_input_bytes) return std::nullopt;
  for (size_t i = 1; i < k.leaves.size(); ++i) {
    if (k.leaves[i]->op == Op::BUFFER && k.stride(i, d).value_or(1) == 0) return std::nullopt;
  }
  const int64_t n = k.full_shape()[d];
  int64_t chunks = n;
  for (int64_t c = 1; c <= n; ++c) {
    if (n % c == 0 && in_bytes / c <= chunk_bytes) {
      chunks = c;
      break;
    }
  }
  if (chunks < 4) return std::nullopt;
  return Opt{OptKind::kStream, d, chunks};
}

bool stream_reduce(Kernel& k, const CodegenOptions& options) {
  const std::optional<Opt> stream = stream_opt(k, options);
  if (stream) k.apply(*stream);
  return stream.has_value();
}

// Where channel lanes' packed input is copied (channel_lanes): at the top of each iteration of
// the outermost loop (a conv's weights: small, and the same for every image), or of the loop
// over a streamed reduce's chunks (a weight gradient's output gradient, one batch chunk at a
// time). leaf -1: no channel lanes.
struct ChannelPanel {
  int leaf = -1;
  bool per_chunk = false;
};

// Lanes over channels, the layout oneDNN calls nChw16c: a reduction whose outputs have no
// contiguous run as wide as the widest vector computes 16 output channels per vector instead (a
// conv's 20-float rows would take 4 lanes of AVX-512's 16; a 5x5 conv's weight gradient has 5-float
// kernel rows, and its reduce 20-float image rows). The input that moves along the channels is
// packed into a panel with the channels innermost (pack_channel_panel: one aligned vector a load);
// the input that does not (stride 0) is broadcast, each of its values to all 16; the output's 16
// lanes are stored one by one, once per reduce (per chunk, streamed). The panel must stay in L2:
// the whole moving input where it takes at most half of L2 and is the same for every iteration of
// the outermost loop (a conv's weights: MNIST's conv4 has 147 KB, which a quarter of Zen 3's 512 KB
// refused, leaving it 2 lanes along its 6-wide rows at 2.4x the time), else its share of one chunk
// of a streamed reduce, whose chunks fit in half of L2 (MNIST's conv2 weight gradient: 4 images'
// output gradient for 16 channels, 100 KB). Whether the reduce streams is asked here, before the
// lanes and the register tile, which change neither its reduce dimensions nor what its inputs move
// along (where a lone accumulator's unroll splits the batch after all, the lanes gather their
// input: slower, still right). Returns the leaf to pack and where, leaf -1 where the kernel has no
// such dimension: one that takes the widest vector, with an input reused along it and exactly one
// other input moving along it.
ChannelPanel channel_lanes(Kernel& k, const CodegenOptions& options, int64_t widest) {
  if (!k.reduce) return {};
  const Shape full = k.full_shape();
  const std::optional<Opt> stream = stream_opt(k, options);
  for (size_t d = 0; d < k.ndim(); ++d) {
    if (k.axes[d] != Axis::kGlobal || full[d] % widest != 0 || !k.reused_along(d)) continue;
    ChannelPanel panel;
    int moving = 0;
    for (size_t i = 1; i < k.leaves.size(); ++i) {
      if (k.leaves[i]->op != Op::BUFFER || !pre_reduce(k, i) || k.stride(i, d) == 0) continue;
      ++moving;
      const int64_t bytes = buffer_bytes(k, i);
      if (bytes <= options.l2_bytes / 2 && k.stride(i, 0) == 0) {
        panel = {static_cast<int>(i), false};
      } else if (stream) {
        panel = {static_cast<int>(i), true};
      }
    }
    const Opt vector{OptKind::kVector, static_cast<int>(d), widest};
    if (moving == 1 && panel.leaf >= 0 && k.can_apply(vector)) {
      k.apply(vector);
      return panel;
    }
  }
  return {};
}

// The lanes of a contiguous dimension: the innermost output dimension written contiguously,
// else (for a full reduction) the innermost reduce dimension read contiguously, as wide as its
// extent allows. Narrower vectors still beat scalars for extents like 20 (a 5x5 conv on 24x24
// images) and 10 (a padded 3x3 conv on 10x10 ones).
std::optional<Opt> contiguous_lanes(const Kernel& k, int64_t widest) {
  const Shape full = k.full_shape();
  for (int64_t lanes = widest; lanes >= 2; lanes /= 2) {
    for (size_t d = k.ndim(); d-- > 0;) {
      if (k.axes[d] == Axis::kGlobal && full[d] % lanes == 0 && k.stride(0, d) == 1) {
        return Opt{OptKind::kVector, static_cast<int>(d), lanes};
      }
    }
  }
  for (int64_t lanes = widest; lanes >= 2; lanes /= 2) {
    for (size_t d = k.ndim(); d-- > 0;) {
      auto [hits, total] = loads_with_stride(k, d, 1);
      if (k.axes[d] == Axis::kReduce && full[d] % lanes == 0 && total > 0 && 2 * hits >= total) {
        return Opt{OptKind::kVector, static_cast<int>(d), lanes};
      }
    }
  }
  return std::nullopt;
}

// SIMD lanes: a contiguous dimension's, unless they are narrower than the widest vector and the
//    reduction has channels to fill it with (channel_lanes). Returns the panel channel lanes need.
ChannelPanel simd_lanes(Kernel& k, const CodegenOptions& options) {
  const std::optional<DType> dt = k.lane_dtype();
  if (!dt || options.vector_bytes == 0) return {};
  const int64_t widest = options.vector_bytes / static_cast<int64_t>(itemsize(*dt));
  const std::optional<Opt> contiguous = contiguous_lanes(k, widest);
  if (!contiguous || contiguous->amount < widest) {
    if (const ChannelPanel panel = channel_lanes(k, options, widest); panel.leaf >= 0) return panel;
  }
  if (contiguous) k.apply(*contiguous);
  return {};
}

// Register tiling for reductions: more outputs per iteration along dimensions where an
//    input is reused (matmul: 4 rows of A against 2 vectors of B = 8 accumulators). Returns the
//    number of accumulators.
int64_t register_tile(Kernel& k, const CodegenOptions& options) {
  int64_t accs = 1;
  for (const auto& [d, amount] : best_register_tile(k, options)) {
    k.apply({OptKind::kUpcast, static_cast<int>(d), amount});
    accs *= amount;
  }
  return accs;
}

// Cache blocking of the output loops (matmul-shaped kernels: two output loops, each with a
// reused input): walk the innermost output loop in blocks of 4 tiles, blocks outermost, so the
// panel of the input reused along the other loop (K x 4 tiles) stays in L2 while that loop
// sweeps past it.
void block_for_cache(Kernel& k, int64_t accs) {
  const std::vector<size_t> globals = k.dims(Axis::kGlobal);
  if (globals.size() == 2 && accs >= 4 && k.reused_along(globals[0]) && k.reused_along(globals[1]) &&
      k.full_shape()[globals[1]] % 4 == 0 && k.full_shape()[globals[1]] >= 16) {
    k.apply({OptKind::kBlock, static_cast<int>(globals[1]), 4});
  }
}

// Packed panels (packing.h): in a kernel blocked for the cache, the input that a block keeps in
// L2 (B: the one reused along the loop right inside the blocks, which sweeps the row tiles past
// it) is copied once per block into a contiguous panel in the order the register tile reads
// it, unless reading it in place already walks that order. Only where the panel fits in L2.
void pack_block_panel(Kernel& k, const CodegenOptions& options) {
  bool blocked = false;
  for (const Opt& o : k.applied) blocked = blocked || o.kind == OptKind::kBlock;
  if (!blocked) return;
  for (size_t i = 1; i < k.leaves.size(); ++i) {
    const Opt pack{OptKind::kPack, 0, static_cast<int64_t>(i)};
    if (!k.can_apply(pack)) continue;
    const bool reused = k.ndim() > 1 && k.axes[1] == Axis::kGlobal && k.stride(i, 1) == 0;
    const PackedPanel panel = plan_panel(k, static_cast<int>(i), 0);
    if (reused && !already_packed(k, panel) && panel_bytes(k, panel) <= options.l2_bytes) return k.apply(pack);
  }
}

// The panel of channel lanes (channel_lanes): a conv's weights packed once per iteration of the
// outermost loop, or a weight gradient's output gradient once per chunk of its streamed reduce
// (a few hundred KB from L2 at most: small beside the reduce that reads them a vector at a time).
// Where the reduce did not stream after all, nothing is packed: the lanes gather their input.
void pack_channel_panel(Kernel& k, const ChannelPanel& channel, const CodegenOptions& options) {
  const int at = channel.per_chunk ? k.first_of(Axis::kOuterReduce) : 0;
  const Opt pack{OptKind::kPack, at, channel.leaf};
  if (at < 0 || !k.can_apply(pack)) return;
  if (panel_bytes(k, plan_panel(k, channel.leaf, static_cast<size_t>(at))) <= options.l2_bytes / 2) k.apply(pack);
}

// A lone accumulator is a dependency chain: unroll the innermost reduce loop to overlap loads.
void unroll_lone_accumulator(Kernel& k, int64_t accs, const CodegenOptions& options) {
  const int last_reduce = k.last_of(Axis::kReduce);
  if (accs == 1 && last_reduce >= 0 && k.full_shape()[last_reduce] % 4 == 0 && k.upcast_size() * 4 <= options.max_upcast) {
    k.apply({OptKind::kUnroll, last_reduce, 4});
  }
}

// Threads: the outermost output loop in parallel, or (for a reduction with too few outputs
//    to share) its outermost reduce loop split into parallel partial results. A streamed
//    reduction cannot split its reduce (one group or stream per kernel): it shares its outermost
//    loop among as many threads as that has iterations (2 vectors of channels, say, on 4 cores).
void parallelize(Kernel& k, const CodegenOptions& options, bool streamed) {
  const Shape now = k.full_shape();
  const int first_reduce = k.first_of(Axis::kReduce);
  if (k.first_of(Axis::kGlobal) == 0 && (now[0] >= options.threads || (streamed && now[0] >= 2))) {
    k.apply({OptKind::kParallel});
  } else if (!streamed && k.reduce && k.extent(Axis::kGlobal) < options.threads && first_reduce >= 0) {
    for (int64_t parts : {32, 16, 8, 4, 2}) {
      const int64_t n = now[first_reduce];
      // Not after lanes of outputs (a group's partials are scalars): such a kernel has outputs
      // enough for fewer threads than a many-core machine has, and keeps its lanes.
      const Opt group{OptKind::kGroup, first_reduce, parts};
      if (n % parts != 0 || n / parts < 16 || !k.can_apply(group)) continue;
      k.apply(group);  // (parts) in parallel, each reducing n / parts
      k.apply({OptKind::kParallel});
      return;
    }
  }
}

}  // namespace

void optimize(Kernel& k, const CodegenOptions& options) {
  if (options.gpu) return optimize_gpu(k, options);
  if (env_flag("TT_NOOPT", false)) return;
  // One named step each, in this order: each later step sees the dimensions the earlier split.
  const bool enough_work_for_threads = prod(k.full_shape()) >= (1 << 15);
  const ChannelPanel channel_panel = simd_lanes(k, options);
  if (k.reduce) {
    const int64_t accs = register_tile(k, options);
    block_for_cache(k, accs);
    unroll_lone_accumulator(k, accs, options);
  }
  // Last: a panel names dimensions. Channel lanes (only ever on a reduce) that pack their whole
  // input are never streamed; those that pack a chunk at a time are.
  const bool streamed = (channel_panel.leaf < 0 || channel_panel.per_chunk) && stream_reduce(k, options);
  if (channel_panel.leaf >= 0) {
    pack_channel_panel(k, channel_panel, options);
  } else if (k.reduce && !streamed) {
    pack_block_panel(k, options);
  }
  if (options.threads > 1 && enough_work_for_threads) parallelize(k, options, streamed);
}

}  // namespace tinyref
