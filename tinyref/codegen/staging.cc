#include "tinyref/codegen/staging.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <tuple>

#include "tinyref/error.h"

namespace tinyref {

namespace {

bool varies_inside_a_tile(const Kernel& k, size_t d, int outer) {
  switch (k.axes[d]) {
    case Axis::kLocal: case Axis::kUpcast: case Axis::kUnroll: case Axis::kVector: case Axis::kTensorCore: return true;
    case Axis::kReduce: return static_cast<int>(d) != outer;
    default: return false;
  }
}

// The passes shared memory needs to serve one warp's access: each lane reads or writes `bytes`
// bytes at its element offset; 32 banks of 4-byte words, and a bank serves one distinct word a
// pass (lanes that want the same word share it). A pass returns one 4-byte register a lane, so
// wider accesses go a part of the warp at a time (16 bytes: a quarter-warp), except where lanes
// pair up: where every lane wants what lane ^ 1 wants (or every lane what lane ^ 2 wants), one
// pass serves both of a pair, twice the lanes (what NVIDIA's engineers describe for Volta on).
int64_t bank_passes(const std::vector<int64_t>& elements, int64_t itemsize, int64_t bytes) {
  constexpr int64_t kBanks = 32, kWord = 4;
  std::vector<int64_t> lanes = elements;
  if (bytes > kWord && lanes.size() == 32) {
    for (size_t bit : {1, 2}) {
      bool paired = true;
      for (size_t l = 0; l < lanes.size(); ++l) paired = paired && lanes[l] == lanes[l ^ bit];
      if (!paired) continue;
      std::vector<int64_t> one_of_each_pair;
      for (size_t l = 0; l < lanes.size(); ++l) {
        if ((l & bit) == 0) one_of_each_pair.push_back(lanes[l]);
      }
      lanes = std::move(one_of_each_pair);
      break;
    }
  }
  const size_t lanes_a_pass = static_cast<size_t>(std::max<int64_t>(1, 32 * kWord / bytes));
  int64_t passes = 0;
  for (size_t first = 0; first < lanes.size(); first += lanes_a_pass) {
    std::set<int64_t> words[kBanks];
    for (size_t l = first; l < std::min(lanes.size(), first + lanes_a_pass); ++l) {
      for (int64_t w = lanes[l] * itemsize / kWord; w * kWord < lanes[l] * itemsize + bytes; ++w) words[w % kBanks].insert(w);
    }
    size_t most = 1;
    for (const std::set<int64_t>& b : words) most = std::max(most, b.size());
    passes += static_cast<int64_t>(most);
  }
  return passes;
}

// Each lane of a block's first warp, its index along every dimension as it reads staged `leaf`
// (the register tile's first position: unrolled dimensions at 0). The thread index's digits are
// the kLocal dimensions, the earliest the most significant; a tensor core's fragments move them
// (reduce_lowering.cc, mma_steps): K takes col_lane, and B's columns take row_lane.
std::vector<std::vector<int64_t>> warp_reading(const Kernel& k, int leaf) {
  const Shape full = k.full_shape();
  const std::vector<size_t> locals = k.dims(Axis::kLocal);
  bool in_b = false;
  if (k.tensor_core) {
    std::function<bool(const AstNode*)> reads = [&](const AstNode* n) {
      if (n == k.leaves[leaf]) return true;
      return std::any_of(n->src.begin(), n->src.end(), [&](const AstRef& s) { return reads(s.get()); });
    };
    in_b = reads(k.reduce->src[0]->src[1 - k.tensor_core->a_src].get());
  }
  std::vector<std::vector<int64_t>> lanes;
  for (int64_t t = 0; t < std::min<int64_t>(32, k.extent(Axis::kLocal)); ++t) {
    std::vector<int64_t> at(k.ndim(), 0);
    int64_t rest = t;
    for (size_t i = locals.size(); i-- > 0;) {
      at[locals[i]] = rest % full[locals[i]];
      rest /= full[locals[i]];
    }
    if (const std::optional<TensorCoreDims>& tc = k.tensor_core) {
      const int64_t row_lane = at[tc->row_lane];
      at[tc->k] = at[tc->col_lane];
      if (in_b) {
        at[tc->col_lane] = row_lane / 2;
        at[tc->col_pair] = row_lane % 2;
      }
    }
    lanes.push_back(std::move(at));
  }
  return lanes;
}

// Where a staged tile's elements go in its shared array, and how the register tile reads it.
// The layout: the tile's dimensions in some order, row-major, with one dimension's stride (and so
// every outer one's) padded by a few elements. The orders: the copies' (the smallest global
// stride innermost), or the reduce dimensions outermost (the register tile's values for one step
// of K side by side); the paddings 0, 1, 2, 4 or 8. The reads: one value a load, or four
// neighbours of the register tile in one aligned float4 (a dimension of SIMD lanes, kVector,
// must be read so; an upcast one of 4, 8, ... float32s may be, where it is innermost). Each
// choice is costed by one warp's first read: the bank passes it takes for four values of the
// tile (a float4 read once, a scalar read four times), then the loads for them, then the copies'
// passes, then the array's size; the cheapest wins.
//
//   A's 128x16 tile, rows a thread at r*4 + u (u = 0..3 upcast), K innermost as copied:
//     8 scalar reads a step, 1 pass each                                  8 passes, 8 loads
//   K outermost, rows innermost: u's 4 values side by side, read as 2 float4s whose lanes
//   pair up (lane ^ 2 reads the same rows)                               4 passes, 2 loads
void choose_layout(const Kernel& k, StagedLeaf& s) {
  const DType dtype = k.leaf_buffer(s.leaf).dtype;
  const int64_t itemsize = static_cast<int64_t>(tinyref::itemsize(dtype));
  const int vector_dim = k.first_of(Axis::kVector);
  const std::vector<std::vector<int64_t>> readers = warp_reading(k, s.leaf);
  const int64_t copiers = std::min<int64_t>({32, k.extent(Axis::kLocal), s.size});

  // The dimensions a read may take as lanes (positions in s.dims; s.dims.size(): none).
  std::vector<size_t> read_as_lanes;
  if (vector_dim >= 0 && s.dims.back() == static_cast<size_t>(vector_dim)) {
    read_as_lanes.push_back(s.dims.size() - 1);
  } else {
    read_as_lanes.push_back(s.dims.size());
    for (size_t j = 0; j < s.dims.size(); ++j) {
      const bool upcast_of_quads = k.axes[s.dims[j]] == Axis::kUpcast && s.extents[j] % 4 == 0;
      if (upcast_of_quads && dtype == DType::kFloat32 && !k.tensor_core) read_as_lanes.push_back(j);
    }
  }
  std::vector<size_t> copy_order(s.dims.size()), reduce_first;  // positions in s.dims, outermost first
  std::iota(copy_order.begin(), copy_order.end(), size_t{0});
  for (bool reduce : {true, false}) {
    for (size_t j : copy_order) {
      const Axis a = k.axes[s.dims[j]];
      if ((a == Axis::kReduce || a == Axis::kUnroll || a == Axis::kTensorCore) == reduce) reduce_first.push_back(j);
    }
  }

  // read passes for 4 values, loads for 4 values, copy passes, size, choice
  using Cost = std::tuple<int64_t, int64_t, int64_t, int64_t, size_t>;
  std::optional<Cost> best;
  size_t choice = 0;
  for (size_t lanes_at : read_as_lanes) {
    const bool vector = lanes_at < s.dims.size();
    const int64_t lanes = vector ? (k.axes[s.dims[lanes_at]] == Axis::kVector ? s.extents[lanes_at] : 4) : 1;
    std::vector<std::vector<size_t>> orders;
    for (std::vector<size_t> order : {copy_order, reduce_first}) {
      if (vector) {  // the lanes innermost, the rest as they were
        order.erase(std::find(order.begin(), order.end(), lanes_at));
        order.push_back(lanes_at);
      }
      if (std::find(orders.begin(), orders.end(), order) == orders.end()) orders.push_back(order);
    }
    auto consider = [&](const std::vector<size_t>& order, size_t padded, int64_t pad) {
      std::vector<int64_t> strides(s.dims.size());
      int64_t stride = 1;
      for (size_t i = order.size(); i-- > 0;) {
        if (i == padded) stride += pad;
        strides[order[i]] = stride;
        stride *= s.extents[order[i]];
      }
      std::vector<int64_t> reads, copies;
      for (const std::vector<int64_t>& lane : readers) {
        int64_t e = 0;
        for (size_t j = 0; j < s.dims.size(); ++j) e += (j == lanes_at ? 0 : lane[s.dims[j]]) * strides[j];
        reads.push_back(e);
      }
      for (int64_t t = 0; t < copiers; ++t) {  // copy t is element t of the tile, in copy order
        int64_t e = 0, rest = t;
        for (size_t j = s.dims.size(); j-- > 0; rest /= s.extents[j]) e += rest % s.extents[j] * strides[j];
        copies.push_back(e);
      }
      const int64_t loads = 4 / std::min<int64_t>(lanes, 4);
      const Cost cost{bank_passes(reads, itemsize, itemsize * lanes) * loads, loads,
                      bank_passes(copies, itemsize, itemsize), stride, choice++};
      if (!best || cost < *best) {
        best = cost;
        s.strides = strides;
        s.array_size = (stride + 3) / 4 * 4;  // whole float4s: a ring's next array starts aligned (Opt kAsync)
        s.read_dim = vector ? static_cast<int>(s.dims[lanes_at]) : -1;
        s.read_lanes = lanes;
      }
    };
    for (const std::vector<size_t>& order : orders) {
      consider(order, 0, 0);
      for (size_t padded = 0; padded + 1 < s.dims.size(); ++padded) {  // never the innermost: it is the row
        for (int64_t pad : {1, 2, 4, 8}) {
          if (!vector || pad % 4 == 0) consider(order, padded, pad);
        }
      }
    }
  }
}

// A warpgroup MMA's operand (uops.h, WGMMA): core matrices of 8 rows x 4 of K (128 contiguous
// bytes), the two of an 8 of K side by side (LBO 128 bytes), then the K-steps of the tile, then
// the 8-row groups (SBO: for A, 2 a warp's 16 rows, the warps next; for B, one a column tile),
// then the rest. In this order, row-major:
//
//   A's 128x32 tile, 8 warps:  [warp 8][row_hi 2][K-step 4][k_hi 2][row_lane 8][k 4]
//                              LBO = 32 floats (128 bytes), SBO = 4*2*32 floats (1 KB)
//
// The copies walk it the same way where K is contiguous in global memory (a float4 of K a copy:
// a quarter-warp's 8 copies fill one core matrix, 128 contiguous bytes, every bank once), else
// with the rows innermost (B of a row-major matmul: 8 columns of 4 rows of B a warp, 4 sectors
// read, every bank once). False where the tile lacks one of the MMA's dimensions.
bool wgmma_layout(const Kernel& k, StagedLeaf& s) {
  const TensorCoreDims& t = *k.tensor_core;
  const AstNode* a = k.reduce->src[0]->src[t.a_src].get();
  const bool is_a = k.leaves[s.leaf] == a;
  const std::vector<int> rows8 = is_a ? std::vector<int>{t.row_lane} : std::vector<int>{t.col_lane, t.col_pair};
  std::vector<int> groups = is_a ? std::vector<int>{t.warp, t.row_hi} : std::vector<int>{t.tiles_n};
  std::erase(groups, -1);
  std::vector<int> steps, others;
  for (size_t d : s.dims) {
    const int di = static_cast<int>(d);
    const auto in = [di](const std::vector<int>& v) { return std::find(v.begin(), v.end(), di) != v.end(); };
    if (in(rows8) || in(groups) || di == t.k || di == t.k_hi) continue;
    (k.axes[d] == Axis::kReduce || k.axes[d] == Axis::kUnroll ? steps : others).push_back(di);
  }
  std::vector<int> outer = others;  // what the layout and the copies' order share, outermost first
  for (const std::vector<int>* part : {&groups, &steps}) outer.insert(outer.end(), part->begin(), part->end());
  outer.push_back(t.k_hi);
  std::vector<int> layout = outer;
  layout.insert(layout.end(), rows8.begin(), rows8.end());
  layout.push_back(t.k);
  if (layout.size() != s.dims.size()) return false;
  for (int d : layout) {
    if (std::find(s.dims.begin(), s.dims.end(), static_cast<size_t>(d)) == s.dims.end()) return false;
  }
  const Shape full = k.full_shape();
  std::map<int, int64_t> stride;
  int64_t size = 1;
  for (size_t i = layout.size(); i-- > 0;) {
    stride[layout[i]] = size;
    size *= full[static_cast<size_t>(layout[i])];
  }
  std::vector<int> order = layout;  // the copies' order, outermost first
  if (k.stride(static_cast<size_t>(s.leaf), static_cast<size_t>(t.k)) != std::optional<int64_t>(1)) {
    order = outer;
    order.push_back(t.k);
    order.insert(order.end(), rows8.begin(), rows8.end());
  }
  s.dims.clear(), s.extents.clear(), s.strides.clear();
  for (int d : order) {
    s.dims.push_back(static_cast<size_t>(d));
    s.extents.push_back(full[static_cast<size_t>(d)]);
    s.strides.push_back(stride[d]);
  }
  const int64_t itemsize = static_cast<int64_t>(tinyref::itemsize(k.leaf_buffer(s.leaf).dtype));
  s.lbo = stride[t.k_hi] * itemsize;
  s.sbo = (groups.empty() ? size : stride[groups.back()]) * itemsize;
  s.array_size = (size + 3) / 4 * 4;
  s.read_dim = -1;
  s.read_lanes = 1;
  return true;
}

}  // namespace

std::vector<StagedLeaf> plan_staging(const Kernel& k) {
  std::vector<StagedLeaf> plan;
  if (!k.stage_k_tiles || k.reduce == nullptr || k.first_of(Axis::kGroup) >= 0) return plan;
  const int vector_dim = k.first_of(Axis::kVector);
  const int outer = k.first_of(Axis::kReduce);
  TT_ASSERT(outer >= 0);
  std::set<const AstNode*> under_reduce;
  std::function<void(const AstNode*)> walk = [&](const AstNode* n) {
    if (n->op == Op::BUFFER) under_reduce.insert(n);
    for (const AstRef& s : n->src) walk(s.get());
  };
  walk(k.reduce->src[0].get());
  const Shape full = k.full_shape();
  for (size_t i = 1; i < k.leaves.size(); ++i) {
    if (under_reduce.count(k.leaves[i]) == 0) continue;
    bool shared_by_threads = false;
    for (size_t d = 0; d < k.ndim(); ++d) {
      shared_by_threads = shared_by_threads || (k.axes[d] == Axis::kLocal && k.stride(i, d) == 0);
    }
    if (!shared_by_threads) continue;
    StagedLeaf s;
    s.leaf = static_cast<int>(i);
    std::vector<std::pair<int64_t, size_t>> by_stride;  // the largest global stride first
    for (size_t d = 0; d < k.ndim(); ++d) {
      const std::optional<int64_t> g = k.stride(i, d);  // nullopt (no single stride): staged, to be safe
      if (!varies_inside_a_tile(k, d, outer) || g == 0) continue;
      by_stride.push_back({g ? std::abs(*g) : std::numeric_limits<int64_t>::max(), d});
    }
    std::stable_sort(by_stride.begin(), by_stride.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [g, d] : by_stride) {
      s.dims.push_back(d);
      s.extents.push_back(full[d]);
    }
    if (s.dims.empty()) continue;  // one value for the whole tile: nothing to share
    for (size_t j = 0; j + 1 < s.dims.size(); ++j) {
      if (static_cast<int>(s.dims[j]) == vector_dim) return {};
    }
    s.size = std::accumulate(s.extents.begin(), s.extents.end(), int64_t{1}, std::multiplies<>());
    if (k.issues_wgmma()) {
      if (!wgmma_layout(k, s)) return {};
    } else {
      choose_layout(k, s);
    }
    plan.push_back(std::move(s));
  }
  if (k.issues_wgmma()) {  // the tensor cores read both factors from shared memory
    return plan.size() == 2 ? plan : std::vector<StagedLeaf>{};
  }
  // A leaf read through a sliding window (a conv's image under a tensor-core tile: rows of 24
  // pixels times the 5x5 window times 8 channels) has a tile of every window position for every
  // output, each element copied once per position. Where the arrays would outgrow the 48 KB a
  // block has without opting in to more, such a leaf is read through L1 instead, where the
  // overlapping windows hit, and the others (the weights) are staged alone.
  constexpr int64_t kStaticSharedBytes = 48 << 10;
  if (staging_bytes(k, plan) > kStaticSharedBytes) {
    std::vector<size_t> outs, reduces;
    for (size_t d = 0; d < k.ndim(); ++d) {
      const Axis a = k.axes[d];
      if (a == Axis::kLocal || a == Axis::kUpcast || a == Axis::kVector) {  // (a GPU vector is a float4 of outputs)
        outs.push_back(d);
      } else if (varies_inside_a_tile(k, d, outer)) {
        reduces.push_back(d);
      }
    }
    std::erase_if(plan, [&](const StagedLeaf& s) { return k.window_along(static_cast<size_t>(s.leaf), outs, reduces); });
  }
  return plan;
}

int64_t staging_bytes(const Kernel& k, const std::vector<StagedLeaf>& plan) {
  int64_t bytes = 0;
  for (const StagedLeaf& s : plan) bytes += s.array_size * static_cast<int64_t>(itemsize(k.leaf_buffer(s.leaf).dtype));
  return bytes * std::max(1, k.async_stages);
}

bool staged_as_tf32(const Kernel& k, const std::vector<StagedLeaf>& plan) {
  if (!k.tensor_core || k.async_stages > 0) return false;  // cp.async copies bits as they are
  for (const AstRef& source : k.reduce->src[0]->src) {
    const bool staged = std::any_of(plan.begin(), plan.end(), [&](const StagedLeaf& s) { return k.leaves[s.leaf] == source.get(); });
    if (!staged) return false;
  }
  return true;
}

std::vector<int> define_staging_arrays(const Kernel& k, const std::vector<StagedLeaf>& plan, UOpSink& sink) {
  std::vector<int> arrays;
  for (const StagedLeaf& s : plan) {
    UOp u{UOpKind::kDefineLocal};
    u.dtype = k.leaf_buffer(s.leaf).dtype;
    u.arg = s.array_size * std::max(1, k.async_stages);  // a ring of them, where copies run ahead
    u.tag = "stage";
    arrays.push_back(sink.emit(u));
  }
  return arrays;
}

}  // namespace tinyref
