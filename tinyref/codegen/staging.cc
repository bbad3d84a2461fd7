#include "tinyref/codegen/staging.h"

#include <algorithm>
#include <functional>
#include <limits>
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

sym::Expr dim_var(size_t d, int64_t extent) {
  return sym::var(static_cast<int>(d), "d" + std::to_string(d), 0, extent - 1);
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
        s.array_size = stride;
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
    choose_layout(k, s);
    plan.push_back(std::move(s));
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
  return bytes;
}

bool staged_as_tf32(const Kernel& k, const std::vector<StagedLeaf>& plan) {
  if (!k.tensor_core) return false;
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
    u.arg = s.array_size;
    u.tag = "stage";
    arrays.push_back(sink.emit(u));
  }
  return arrays;
}

namespace {

int lane_of(int vector, int64_t lane, DType dtype, UOpSink& sink) {
  UOp gep{UOpKind::kGep};
  gep.dtype = dtype;
  gep.src = {vector};
  gep.arg = lane;
  return sink.emit(gep);
}

// 4 where a staged float32 tile's innermost dimension in copy order (the smallest global stride)
// is contiguous in global memory, a multiple of 4 long, unmasked, and the address of every 4th
// element a multiple of 4 (judged from constant factors, sym::multiple_of): each copy then loads
// a float4. Else 1.
int64_t copy_lanes(const Kernel& k, const StagedLeaf& s, const std::pair<sym::Expr, sym::Expr>& at) {
  const size_t inner = s.dims.back();
  if (k.leaf_buffer(s.leaf).dtype != DType::kFloat32 || s.extents.back() % 4 != 0 || k.stride(s.leaf, inner) != 1) return 1;
  const auto& [pos, valid] = at;
  if (sym::contains_var(valid, static_cast<int>(inner))) return 1;
  const sym::Expr fourth = dim_var(inner, s.extents.back() / 4) * 4;
  return sym::multiple_of(sym::substitute(pos, static_cast<int>(inner), fourth), 4) ? 4 : 1;
}

// The tile as the copies walk it: its innermost dimensions merged into one where they are one
// run of neighbours both in global memory and in the shared array, unmasked (a conv's weights: 8
// channels x 5 x 5 = 200), so that a copy loads a float4 where no one dimension is a multiple of 4
// long (13 copies a thread instead of 50, each holding its address in a register through the
// K-tile loop). The merged dimension keeps the innermost one's place; the others read 0.
StagedLeaf copy_order(const Kernel& k, const StagedLeaf& s) {
  const size_t last = s.dims.size() - 1;
  if (k.stride(s.leaf, s.dims[last]) != std::optional<int64_t>(1) || s.strides[last] != 1 || s.extents[last] % 4 == 0) return s;
  size_t first = last;
  int64_t run = s.extents[last];
  while (first > 0 && k.stride(s.leaf, s.dims[first - 1]) == std::optional<int64_t>(run) && s.strides[first - 1] == run) {
    run *= s.extents[--first];
  }
  if (first == last || run % 4 != 0) return s;
  StagedLeaf merged = s;
  merged.dims.erase(merged.dims.begin() + static_cast<std::ptrdiff_t>(first), merged.dims.end() - 1);
  merged.extents.erase(merged.extents.begin() + static_cast<std::ptrdiff_t>(first), merged.extents.end() - 1);
  merged.strides.erase(merged.strides.begin() + static_cast<std::ptrdiff_t>(first), merged.strides.end() - 1);
  merged.extents.back() = run;
  return merged;
}

}  // namespace

StagingCopies prepare_staging_copies(const Kernel& k, const std::vector<StagedLeaf>& plan, int thread_index,
                                     int64_t threads, UOpSink& sink) {
  const Shape full = k.full_shape();
  const int outer = k.first_of(Axis::kReduce);
  StagingCopies copies;
  for (size_t p = 0; p < plan.size(); ++p) {
    const StagedLeaf& s = copies.units.emplace_back(copy_order(k, plan[p]));
    const ShapeTracker& st = k.sts[s.leaf];
    std::vector<int> saved;
    for (size_t d : s.dims) saved.push_back(sink.var_uop(d));
    // The block index's digits and the K-tile stay variables; a dimension outside the tile has
    // stride 0 for this leaf, so any value of it reads the same element.
    std::vector<sym::Expr> idx;
    for (size_t d = 0; d < k.ndim(); ++d) {
      const auto in_tile = std::find(s.dims.begin(), s.dims.end(), d);
      const bool keeps_var = in_tile != s.dims.end() || k.axes[d] == Axis::kGlobal || static_cast<int>(d) == outer;
      const int64_t extent = in_tile != s.dims.end() ? s.extents[in_tile - s.dims.begin()] : full[d];  // (a merged run's)
      idx.push_back(st.shape()[d] != 1 && keeps_var ? dim_var(d, extent) : sym::num(0));
    }
    // Four elements a copy (one float4 load) where they are neighbours in global memory and the
    // first one's address is a multiple of 4 (copy_lanes).
    const int64_t lanes = copy_lanes(k, s, st.expr(idx));
    std::vector<int64_t> unit_extents = s.extents;
    unit_extents.back() /= lanes;
    const int64_t units = s.size / lanes;
    std::vector<int64_t> copy_strides(s.dims.size(), 1);  // row-major over the tile's units, in copy order
    for (size_t j = s.dims.size() - 1; j-- > 0;) copy_strides[j] = copy_strides[j + 1] * unit_extents[j + 1];
    const bool in_copy_order = lanes == 1 && s.strides == copy_strides;  // then an element's slot is the element
    // A unit's digit along tile dimension j: unit / copy_strides[j], modulo its extent (0: none).
    auto digit_of = [&](int unit, size_t j, int64_t extent) {
      if (copy_strides[j] > 1) unit = sink.alu(Op::IDIV, DType::kInt32, {unit, sink.int_const(copy_strides[j])});
      return extent ? sink.alu(Op::MOD, DType::kInt32, {unit, sink.int_const(extent)}) : unit;
    };
    // Unit t's digits, t the thread index: 0 where t cannot reach the dimension, no remainder
    // where t stays below its extent.
    std::vector<int> first_digits;
    for (size_t j = 0; j < s.dims.size(); ++j) {
      const int64_t below = copy_strides[j], extent = j > 0 && (threads - 1) / below >= unit_extents[j] ? unit_extents[j] : 0;
      first_digits.push_back(below >= threads ? sink.int_const(0) : digit_of(thread_index, j, extent));
    }
    // Unit t + threads*i's: where the block and the tile's dimensions divide each other (powers
    // of two do), a constant, or t's digit plus a constant (t < threads, so the division and the
    // remainder split exactly). Else a division of its own, computed before the K-tile loop and
    // kept in a register through it.
    auto copy_digit = [&](int64_t i, size_t j) {
      const int first = first_digits[j];
      const int64_t step = threads * i, below = copy_strides[j], extent = j == 0 ? 0 : unit_extents[j];
      if (threads % below == 0) {  // t / below < threads / below; step / below exact
        const int64_t t_digits = threads / below, add = extent ? step / below % extent : step / below;
        if (extent && t_digits % extent == 0) return first;                              // add is 0 then
        if (!extent || extent % t_digits == 0) return add == 0 ? first : sink.alu(Op::ADD, DType::kInt32, {first, sink.int_const(add)});
      } else if (below % threads == 0) {  // t adds less than one step of `below`
        return sink.int_const(extent ? step / below % extent : step / below);
      }
      return digit_of(sink.alu(Op::ADD, DType::kInt32, {thread_index, sink.int_const(step)}), j, extent);
    };
    for (int64_t i = 0; i * threads < units; ++i) {
      StagingCopies::Copy c;
      c.leaf = p;
      c.lanes = lanes;
      c.element = i == 0 ? thread_index : sink.alu(Op::ADD, DType::kInt32, {thread_index, sink.int_const(i * threads)});
      c.slot = in_copy_order ? c.element : -1;
      for (size_t j = 0; j < s.dims.size(); ++j) {
        int digit = i == 0 ? first_digits[j] : copy_digit(i, j);
        if (j + 1 == s.dims.size() && lanes > 1) digit = sink.alu(Op::MUL, DType::kInt32, {digit, sink.int_const(lanes)});
        c.digits.push_back(digit);
        sink.var_uop(s.dims[j]) = digit;
        if (!in_copy_order) {
          const int term = s.strides[j] == 1 ? digit : sink.alu(Op::MUL, DType::kInt32, {digit, sink.int_const(s.strides[j])});
          c.slot = c.slot < 0 ? term : sink.alu(Op::ADD, DType::kInt32, {c.slot, term});
        }
      }
      // The last turn of a tile that is no multiple of the block: the threads past its end idle.
      if ((i + 1) * threads > units) c.in_range = sink.alu(Op::CMPLT, DType::kBool, {c.element, sink.int_const(units)});
      std::tie(c.pos, c.valid) = st.expr(idx);
      // Where the address is base + K-tile * stride, the base is computed once, before the loop.
      sym::Expr rest;
      if (sym::split_linear(c.pos, outer, &c.tile_stride, &rest) && !sym::contains_var(c.valid, outer)) {
        c.base = sink.lower(rest);
      }
      copies.copies.push_back(std::move(c));
    }
    for (size_t j = 0; j < s.dims.size(); ++j) sink.var_uop(s.dims[j]) = saved[j];
  }
  return copies;
}

namespace {

bool always_zero(const StagingCopies::Copy& c) { return c.valid->is_num() && c.valid->c == 0; }

// The value copy c loads on K-tile `tile` (a uop), gated also by `gate` where that is not -1:
// one element, or a float4 of them.
int load_copy(const Kernel& k, const StagedLeaf& s, const StagingCopies::Copy& c, int tile, int gate, UOpSink& sink) {
  const DType dt = k.leaf_buffer(s.leaf).dtype;
  if (always_zero(c)) {
    UOp zero{UOpKind::kConst};
    zero.dtype = dt;
    zero.lanes = static_cast<int>(c.lanes);
    return sink.emit(zero);
  }
  const size_t outer = static_cast<size_t>(k.first_of(Axis::kReduce));
  std::vector<int> saved;
  for (size_t j = 0; j < s.dims.size(); ++j) {
    saved.push_back(sink.var_uop(s.dims[j]));
    sink.var_uop(s.dims[j]) = c.digits[j];
  }
  const int saved_tile = sink.var_uop(outer);
  sink.var_uop(outer) = tile;
  int pos = c.base;
  if (pos < 0) {
    pos = sink.lower(c.pos);
  } else if (c.tile_stride != 0) {
    pos = sink.alu(Op::ADD, DType::kInt32, {pos, sink.alu(Op::MUL, DType::kInt32, {tile, sink.int_const(c.tile_stride)})});
  }
  UOp load{UOpKind::kLoad};
  load.dtype = dt;
  load.lanes = static_cast<int>(c.lanes);
  load.arg = c.lanes > 1;  // aligned (copy_lanes)
  load.src = {sink.buffer(k.leaves[s.leaf]->buf), pos};
  for (int g : {c.valid->is_num() ? -1 : sink.lower(c.valid), c.in_range}) {
    if (g >= 0) gate = gate < 0 ? g : sink.alu(Op::AND, DType::kBool, {gate, g});
  }
  if (gate >= 0) load.src.push_back(gate);
  sink.var_uop(outer) = saved_tile;
  for (size_t j = 0; j < s.dims.size(); ++j) sink.var_uop(s.dims[j]) = saved[j];
  return sink.emit(load);
}

// Copy c's value into its slot of the shared array: a float4 lands as one where its lanes are
// neighbours in the array too, else lane by lane.
void store_copy(const Kernel& k, const StagedLeaf& s, int array, const StagingCopies::Copy& c, int value, bool tf32,
                UOpSink& sink) {
  const DType dt = k.leaf_buffer(s.leaf).dtype;
  bool whole = c.lanes == 1 || s.strides.back() == 1;
  for (size_t j = 0; j + 1 < s.strides.size(); ++j) whole = whole && s.strides[j] % c.lanes == 0;
  for (int64_t lane = 0; lane < (whole ? 1 : c.lanes); ++lane) {
    UOp store{UOpKind::kStore};
    store.dtype = dt;
    store.lanes = whole ? static_cast<int>(c.lanes) : 1;
    store.arg = whole && c.lanes > 1;  // aligned: the slot of a float4's first lane is a multiple of 4
    int slot = c.slot, v = value;
    if (!whole) {
      if (lane > 0) slot = sink.alu(Op::ADD, DType::kInt32, {slot, sink.int_const(lane * s.strides.back())});
      v = lane_of(value, lane, dt, sink);
    }
    store.src = {array, slot, v};
    if (tf32) store.tag = "tf32";
    if (c.in_range >= 0) store.src.push_back(c.in_range);
    sink.emit(store);
  }
}

// A register carrying copy c's value from one turn of the K-tile loop to the next (a DEFINE_ACC
// that only ASSIGNs change), and one such assignment.
UOp copy_register(const Kernel& k, const StagedLeaf& s, const StagingCopies::Copy& c, UOpKind kind) {
  UOp u{kind};
  u.dtype = k.leaf_buffer(s.leaf).dtype;
  u.lanes = static_cast<int>(c.lanes);
  return u;
}

}  // namespace

void emit_staging_copies(const Kernel& k, const std::vector<StagedLeaf>& plan, const std::vector<int>& arrays,
                         const StagingCopies& copies, UOpSink& sink) {
  const int tile = sink.var_uop(static_cast<size_t>(k.first_of(Axis::kReduce)));
  const bool tf32 = staged_as_tf32(k, plan);
  for (const StagingCopies::Copy& c : copies.copies) {
    const StagedLeaf& s = copies.units[c.leaf];
    store_copy(k, s, arrays[c.leaf], c, load_copy(k, s, c, tile, -1, sink), tf32, sink);
  }
  sink.emit(UOp{UOpKind::kBarrier});
}

std::vector<int> prefetch_first_k_tile(const Kernel& k, const StagingCopies& copies, UOpSink& sink) {
  std::vector<int> registers;
  for (const StagingCopies::Copy& c : copies.copies) {
    const StagedLeaf& s = copies.units[c.leaf];
    const int value = load_copy(k, s, c, sink.int_const(0), -1, sink);
    if (always_zero(c)) {  // nothing to carry: the constant itself
      registers.push_back(value);
      continue;
    }
    registers.push_back(sink.emit(copy_register(k, s, c, UOpKind::kDefineAcc)));
    UOp assign = copy_register(k, s, c, UOpKind::kAssign);
    assign.src = {registers.back(), value};
    sink.emit(assign);
  }
  return registers;
}

void emit_prefetched_staging_copies(const Kernel& k, const std::vector<StagedLeaf>& plan, const std::vector<int>& arrays,
                                    const StagingCopies& copies, const std::vector<int>& registers, UOpSink& sink) {
  const size_t outer = static_cast<size_t>(k.first_of(Axis::kReduce));
  const bool tf32 = staged_as_tf32(k, plan);
  for (size_t i = 0; i < copies.copies.size(); ++i) {
    const StagingCopies::Copy& c = copies.copies[i];
    store_copy(k, copies.units[c.leaf], arrays[c.leaf], c, registers[i], tf32, sink);
  }
  sink.emit(UOp{UOpKind::kBarrier});
  // The next K-tile, past the last one none (the gate keeps its loads in bounds).
  const int next = sink.alu(Op::ADD, DType::kInt32, {sink.var_uop(outer), sink.int_const(1)});
  const int has_next = sink.alu(Op::CMPLT, DType::kBool, {next, sink.int_const(k.full_shape()[outer])});
  for (size_t i = 0; i < copies.copies.size(); ++i) {
    const StagingCopies::Copy& c = copies.copies[i];
    if (always_zero(c)) continue;
    UOp assign = copy_register(k, copies.units[c.leaf], c, UOpKind::kAssign);
    assign.src = {registers[i], load_copy(k, copies.units[c.leaf], c, next, has_next, sink)};
    sink.emit(assign);
  }
}

int emit_staged_read(const StagedLeaf& s, int array, DType dtype, std::vector<int64_t> assign, int vector_dim,
                     UOpSink& sink) {
  UOp load{UOpKind::kLoad};
  load.dtype = dtype;
  int lane = -1;  // a float4 of an upcast dimension: which of its values is wanted
  if (s.read_dim >= 0) {
    load.lanes = static_cast<int>(s.read_lanes);
    load.arg = 1;  // aligned: the read dimension is innermost, every other stride a multiple of 4
    if (s.read_dim == vector_dim) {
      assign[s.read_dim] = 0;
    } else {
      lane = static_cast<int>(assign[s.read_dim] % s.read_lanes);
      assign[s.read_dim] -= lane;
    }
  }
  sym::Expr idx = sym::num(0);
  for (size_t j = 0; j < s.dims.size(); ++j) {
    const size_t d = s.dims[j];
    idx = idx + (assign[d] >= 0 ? sym::num(assign[d]) : dim_var(d, s.extents[j])) * s.strides[j];
  }
  load.src = {array, sink.lower(idx)};
  const int value = sink.emit(load);
  return lane < 0 ? value : lane_of(value, lane, dtype, sink);
}

}  // namespace tinyref
