// The copies into shared memory, turn by turn, and the register tile's reads of them (staging.h);
// which leaves are staged and in what layout: staging.cc.
#include "tinyref/codegen/staging.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tinyref {

namespace {

sym::Expr dim_var(size_t d, int64_t extent) {
  return sym::var(static_cast<int>(d), "d" + std::to_string(d), 0, extent - 1);
}

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

// Index `at` of a staged array, moved into the ring's array `ring` (a uop; -1: no ring).
int in_ring(const StagedLeaf& s, int at, int ring, UOpSink& sink) {
  if (ring < 0) return at;
  return sink.alu(Op::ADD, DType::kInt32, {at, sink.alu(Op::MUL, DType::kInt32, {ring, sink.int_const(s.array_size)})});
}

UOp zeros(DType dt, int64_t lanes) {
  UOp zero{UOpKind::kConst};
  zero.dtype = dt;
  zero.lanes = static_cast<int>(lanes);
  return zero;
}

int bool_const(bool v, UOpSink& sink) {
  UOp b{UOpKind::kConst};
  b.dtype = DType::kBool;
  b.value = v;
  return sink.emit(b);
}

// Where copy c reads on K-tile `tile` (a uop), and whether the element is there (-1: always).
std::pair<int, int> copy_source(const Kernel& k, const StagedLeaf& s, const StagingCopies::Copy& c, int tile, UOpSink& sink) {
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
  const int valid = c.valid->is_num() ? -1 : sink.lower(c.valid);
  sink.var_uop(outer) = saved_tile;
  for (size_t j = 0; j < s.dims.size(); ++j) sink.var_uop(s.dims[j]) = saved[j];
  return {pos, valid};
}

int both(int gate, int other, UOpSink& sink) {
  if (gate < 0 || other < 0) return gate < 0 ? other : gate;
  return sink.alu(Op::AND, DType::kBool, {gate, other});
}

// The value copy c loads on K-tile `tile` (a uop), gated also by `gate` where that is not -1:
// one element, or a float4 of them.
int load_copy(const Kernel& k, const StagedLeaf& s, const StagingCopies::Copy& c, int tile, int gate, UOpSink& sink) {
  const DType dt = k.leaf_buffer(s.leaf).dtype;
  if (always_zero(c)) return sink.emit(zeros(dt, c.lanes));
  const auto [pos, valid] = copy_source(k, s, c, tile, sink);
  UOp load{UOpKind::kLoad};
  load.dtype = dt;
  load.lanes = static_cast<int>(c.lanes);
  load.arg = c.lanes > 1;  // aligned (copy_lanes)
  load.src = {sink.buffer(k.leaves[s.leaf]->buf), pos};
  gate = both(both(gate, valid, sink), c.in_range, sink);
  if (gate >= 0) load.src.push_back(gate);
  return sink.emit(load);
}

// Copy c's value into its slot of the shared array: a float4 lands as one where its lanes are
// neighbours in the array too, else lane by lane.
bool lands_whole(const StagedLeaf& s, const StagingCopies::Copy& c) {
  bool whole = c.lanes == 1 || s.strides.back() == 1;
  for (size_t j = 0; j + 1 < s.strides.size(); ++j) whole = whole && s.strides[j] % c.lanes == 0;
  return whole;
}


void store_copy(const Kernel& k, const StagedLeaf& s, int array, const StagingCopies::Copy& c, int value, bool tf32,
                UOpSink& sink, int ring = -1) {
  const DType dt = k.leaf_buffer(s.leaf).dtype;
  const bool whole = lands_whole(s, c);
  const int first = in_ring(s, c.slot, ring, sink);
  for (int64_t lane = 0; lane < (whole ? 1 : c.lanes); ++lane) {
    UOp store{UOpKind::kStore};
    store.dtype = dt;
    store.lanes = whole ? static_cast<int>(c.lanes) : 1;
    store.arg = whole && c.lanes > 1;  // aligned: the slot of a float4's first lane is a multiple of 4
    int slot = first, v = value;
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

// The barrier after a turn's copies. Where warpgroup MMAs read the tiles, each thread first makes
// its writes visible to them (PROXY_FENCE): the tensor cores read shared memory by another path
// (PTX's async proxy) than the threads' stores and cp.async.
void barrier_after_copies(const Kernel& k, UOpSink& sink) {
  if (k.issues_wgmma()) sink.emit(UOp{UOpKind::kProxyFence});
  sink.emit(UOp{UOpKind::kBarrier});
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
  barrier_after_copies(k, sink);
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
  barrier_after_copies(k, sink);
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

namespace {

// Copy c of K-tile `tile` started into the ring's array `ring` (uops), where `active` (a uop, -1:
// always): a COPY_ASYNC a float4, or one a lane where its lanes are not neighbours in the array.
void start_copy(const Kernel& k, const StagedLeaf& s, int array, const StagingCopies::Copy& c, int tile, int ring,
                int active, UOpSink& sink) {
  const DType dt = k.leaf_buffer(s.leaf).dtype;
  if (always_zero(c)) {  // a constant: stored as it is (visible, like the copies, after the barrier)
    store_copy(k, s, array, c, sink.emit(zeros(dt, c.lanes)), false, sink, ring);
    return;
  }
  const auto [pos, valid] = copy_source(k, s, c, tile, sink);
  const bool whole = lands_whole(s, c);
  const int first = in_ring(s, c.slot, ring, sink);
  const int yes = bool_const(true, sink);
  const int doing = both(active, c.in_range, sink);
  for (int64_t lane = 0; lane < (whole ? 1 : c.lanes); ++lane) {
    UOp copy{UOpKind::kCopyAsync};
    copy.dtype = dt;
    copy.lanes = whole ? static_cast<int>(c.lanes) : 1;
    copy.arg = 1;  // aligned: a float4's slot and source are multiples of 4 (copy_lanes, lands_whole)
    const int at = lane == 0 ? pos : sink.alu(Op::ADD, DType::kInt32, {pos, sink.int_const(lane)});
    const int slot = lane == 0 ? first : sink.alu(Op::ADD, DType::kInt32, {first, sink.int_const(lane * s.strides.back())});
    copy.src = {array, slot, sink.buffer(k.leaves[s.leaf]->buf), at, valid < 0 ? yes : valid, doing < 0 ? yes : doing};
    sink.emit(copy);
  }
}

void start_async_k_tile(const Kernel& k, const std::vector<int>& arrays, const StagingCopies& copies, int tile, int ring,
                        int active, UOpSink& sink) {
  for (const StagingCopies::Copy& c : copies.copies) {
    start_copy(k, copies.units[c.leaf], arrays[c.leaf], c, tile, ring, active, sink);
  }
  sink.emit(UOp{UOpKind::kAsyncCommit});
}

}  // namespace

bool wgmma_in_flight(const Kernel& k) { return k.issues_wgmma() && k.async_stages >= 3; }

int64_t async_tiles_ahead(const Kernel& k) { return k.async_stages - 1 - (wgmma_in_flight(k) ? 1 : 0); }

void start_async_k_tiles(const Kernel& k, const std::vector<int>& arrays, const StagingCopies& copies, UOpSink& sink) {
  const int64_t tiles = k.full_shape()[static_cast<size_t>(k.first_of(Axis::kReduce))];
  for (int64_t t = 0; t < async_tiles_ahead(k); ++t) {
    // (Past the last K-tile, an empty group: every turn then waits for the same count.)
    const int active = t < tiles ? -1 : bool_const(false, sink);
    start_async_k_tile(k, arrays, copies, sink.int_const(t), sink.int_const(t), active, sink);
  }
}

int wait_for_async_k_tile(const Kernel& k, UOpSink& sink) {
  const size_t outer = static_cast<size_t>(k.first_of(Axis::kReduce));
  UOp wait{UOpKind::kAsyncWait};
  wait.arg = async_tiles_ahead(k) - 1;  // this turn's K-tile is the oldest group still out
  sink.emit(wait);
  barrier_after_copies(k, sink);  // every thread's copies of it landed, and the turn before read
  return sink.alu(Op::MOD, DType::kInt32, {sink.var_uop(outer), sink.int_const(k.async_stages)});
}

void start_async_k_tile_ahead(const Kernel& k, const std::vector<int>& arrays, const StagingCopies& copies, UOpSink& sink) {
  const size_t outer = static_cast<size_t>(k.first_of(Axis::kReduce));
  const int stages = k.async_stages;
  const int ahead = sink.alu(Op::ADD, DType::kInt32, {sink.var_uop(outer), sink.int_const(async_tiles_ahead(k))});
  const int has_tile = sink.alu(Op::CMPLT, DType::kBool, {ahead, sink.int_const(k.full_shape()[outer])});
  const int ring = sink.alu(Op::MOD, DType::kInt32, {ahead, sink.int_const(stages)});
  start_async_k_tile(k, arrays, copies, ahead, ring, has_tile, sink);
}

int emit_staged_read(const StagedLeaf& s, int array, DType dtype, std::vector<int64_t> assign, int vector_dim,
                     UOpSink& sink, int ring) {
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
  load.src = {array, staged_index(s, assign, sink, ring)};
  const int value = sink.emit(load);
  return lane < 0 ? value : lane_of(value, lane, dtype, sink);
}

int staged_index(const StagedLeaf& s, const std::vector<int64_t>& assign, UOpSink& sink, int ring) {
  sym::Expr idx = sym::num(0);
  for (size_t j = 0; j < s.dims.size(); ++j) {
    const size_t d = s.dims[j];
    idx = idx + (assign[d] >= 0 ? sym::num(assign[d]) : dim_var(d, s.extents[j])) * s.strides[j];
  }
  return in_ring(s, sink.lower(idx), ring, sink);
}

}  // namespace tinyref
