#include "tinyref/codegen/staging.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>
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
    s.strides.assign(s.dims.size(), 1);
    for (size_t j = s.dims.size() - 1; j-- > 0;) s.strides[j] = s.strides[j + 1] * s.extents[j + 1];
    s.size = std::accumulate(s.extents.begin(), s.extents.end(), int64_t{1}, std::multiplies<>());
    plan.push_back(std::move(s));
  }
  return plan;
}

int64_t staging_bytes(const Kernel& k, const std::vector<StagedLeaf>& plan) {
  int64_t bytes = 0;
  for (const StagedLeaf& s : plan) bytes += s.size * static_cast<int64_t>(itemsize(k.bufs[k.leaves[s.leaf]->buf].dtype));
  return bytes;
}

std::vector<int> define_staging_arrays(const Kernel& k, const std::vector<StagedLeaf>& plan, UOpSink& sink) {
  std::vector<int> arrays;
  for (const StagedLeaf& s : plan) {
    UOp u{UOpKind::kDefineLocal};
    u.dtype = k.bufs[k.leaves[s.leaf]->buf].dtype;
    u.arg = s.size;
    u.tag = "stage";
    arrays.push_back(sink.emit(u));
  }
  return arrays;
}

StagingCopies prepare_staging_copies(const Kernel& k, const std::vector<StagedLeaf>& plan, int thread_index,
                                     int64_t threads, UOpSink& sink) {
  const Shape full = k.full_shape();
  const int outer = k.first_of(Axis::kReduce);
  StagingCopies copies;
  for (size_t p = 0; p < plan.size(); ++p) {
    const StagedLeaf& s = plan[p];
    const ShapeTracker& st = k.sts[s.leaf];
    std::vector<int> saved;
    for (size_t d : s.dims) saved.push_back(sink.var_uop(d));
    // The block index's digits and the K-tile stay variables; a dimension outside the tile has
    // stride 0 for this leaf, so any value of it reads the same element.
    std::vector<sym::Expr> idx;
    for (size_t d = 0; d < k.ndim(); ++d) {
      const bool in_tile = std::find(s.dims.begin(), s.dims.end(), d) != s.dims.end();
      const bool keeps_var = in_tile || k.axes[d] == Axis::kGlobal || static_cast<int>(d) == outer;
      idx.push_back(st.shape()[d] != 1 && keeps_var ? dim_var(d, full[d]) : sym::num(0));
    }
    for (int64_t i = 0; i * threads < s.size; ++i) {
      StagingCopies::Copy c;
      c.leaf = p;
      c.element = i == 0 ? thread_index : sink.alu(Op::ADD, DType::kInt32, {thread_index, sink.int_const(i * threads)});
      for (size_t j = 0; j < s.dims.size(); ++j) {
        int digit = c.element;
        if (s.strides[j] > 1) digit = sink.alu(Op::IDIV, DType::kInt32, {digit, sink.int_const(s.strides[j])});
        if (j > 0) digit = sink.alu(Op::MOD, DType::kInt32, {digit, sink.int_const(s.extents[j])});
        c.digits.push_back(digit);
        sink.var_uop(s.dims[j]) = digit;
      }
      // The last turn of a tile that is no multiple of the block: the threads past its end idle.
      if ((i + 1) * threads > s.size) c.in_range = sink.alu(Op::CMPLT, DType::kBool, {c.element, sink.int_const(s.size)});
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

void emit_staging_copies(const Kernel& k, const std::vector<StagedLeaf>& plan, const std::vector<int>& arrays,
                         const StagingCopies& copies, UOpSink& sink) {
  const int outer = k.first_of(Axis::kReduce);
  for (const StagingCopies::Copy& c : copies.copies) {
    const StagedLeaf& s = plan[c.leaf];
    const DType dt = k.bufs[k.leaves[s.leaf]->buf].dtype;
    std::vector<int> saved;
    for (size_t j = 0; j < s.dims.size(); ++j) {
      saved.push_back(sink.var_uop(s.dims[j]));
      sink.var_uop(s.dims[j]) = c.digits[j];
    }
    int value;
    if (c.valid->is_num() && c.valid->c == 0) {
      UOp zero{UOpKind::kConst};
      zero.dtype = dt;
      value = sink.emit(zero);
    } else {
      int pos = c.base;
      if (pos < 0) {
        pos = sink.lower(c.pos);
      } else if (c.tile_stride != 0) {
        const int step = sink.alu(Op::MUL, DType::kInt32, {sink.var_uop(outer), sink.int_const(c.tile_stride)});
        pos = sink.alu(Op::ADD, DType::kInt32, {pos, step});
      }
      UOp load{UOpKind::kLoad};
      load.dtype = dt;
      load.src = {sink.buffer(k.leaves[s.leaf]->buf), pos};
      int gate = c.valid->is_num() ? -1 : sink.lower(c.valid);
      if (c.in_range >= 0) gate = gate < 0 ? c.in_range : sink.alu(Op::AND, DType::kBool, {gate, c.in_range});
      if (gate >= 0) load.src.push_back(gate);
      value = sink.emit(load);
    }
    UOp store{UOpKind::kStore};
    store.dtype = dt;
    store.src = {arrays[c.leaf], c.element, value};
    if (c.in_range >= 0) store.src.push_back(c.in_range);
    sink.emit(store);
    for (size_t j = 0; j < s.dims.size(); ++j) sink.var_uop(s.dims[j]) = saved[j];
  }
  sink.emit(UOp{UOpKind::kBarrier});
}

int emit_staged_read(const StagedLeaf& s, int array, DType dtype, std::vector<int64_t> assign, int vector_dim,
                     int lanes, UOpSink& sink) {
  UOp load{UOpKind::kLoad};
  load.dtype = dtype;
  if (vector_dim >= 0 && s.dims.back() == static_cast<size_t>(vector_dim)) {
    assign[vector_dim] = 0;
    load.lanes = lanes;
    load.arg = 1;
  }
  sym::Expr idx = sym::num(0);
  for (size_t j = 0; j < s.dims.size(); ++j) {
    const size_t d = s.dims[j];
    idx = idx + (assign[d] >= 0 ? sym::num(assign[d]) : dim_var(d, s.extents[j])) * s.strides[j];
  }
  load.src = {array, sink.lower(idx)};
  return sink.emit(load);
}

}  // namespace tinyref
