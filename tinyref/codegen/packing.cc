#include "tinyref/codegen/packing.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <string>

#include "tinyref/error.h"

namespace tinyref {

namespace {

sym::Expr dim_var(size_t d, int64_t extent) { return sym::var(static_cast<int>(d), "d" + std::to_string(d), 0, extent - 1); }

bool is_unrolled(Axis a) { return a == Axis::kUpcast || a == Axis::kUnroll || a == Axis::kVector; }

}  // namespace

PackedPanel plan_panel(const Kernel& k, int leaf, size_t at) {
  PackedPanel p;
  p.leaf = leaf;
  p.at = at;
  const Shape full = k.full_shape();
  // Loops in loop order, then the unrolled dimensions, then the lanes: the order of reading.
  std::vector<size_t> loops, unrolled, lanes;
  for (size_t d = at + 1; d < k.ndim(); ++d) {
    if (k.sts[leaf].shape()[d] == 1 || k.stride(leaf, d) == 0) continue;  // the panel is reused along it
    (k.axes[d] == Axis::kVector ? lanes : is_unrolled(k.axes[d]) ? unrolled : loops).push_back(d);
  }
  for (const auto* part : {&loops, &unrolled, &lanes}) p.dims.insert(p.dims.end(), part->begin(), part->end());
  for (size_t d : p.dims) p.extents.push_back(full[d]);
  p.strides.assign(p.dims.size(), 1);
  for (size_t j = p.dims.size(); j-- > 1;) p.strides[j - 1] = p.strides[j] * p.extents[j];
  p.size = std::accumulate(p.extents.begin(), p.extents.end(), int64_t{1}, std::multiplies<>());
  // Hoisted where the leaf moves along none of loops 0..at (nor does a padded input's validity).
  p.hoisted = true;
  for (size_t d = 0; d <= at; ++d) p.hoisted = p.hoisted && !k.moves_along(static_cast<size_t>(leaf), d);
  return p;
}

bool already_packed(const Kernel& k, const PackedPanel& panel) {
  for (size_t j = 0; j < panel.dims.size(); ++j) {
    if (k.stride(panel.leaf, panel.dims[j]) != panel.strides[j]) return false;
  }
  return true;
}

Packing::Packing(const Kernel& k, UOpBuilder& b, IndexLowering& ix) : k_(k), b_(b), ix_(ix) {
  if (k.pack_leaf >= 0) panel_ = plan_panel(k, k.pack_leaf, static_cast<size_t>(k.pack_at));
}

void Packing::emit_copy() {
  if (!panel_) return;
  const PackedPanel& p = *panel_;
  const ShapeTracker& st = k_.sts[p.leaf];
  const Shape full = k_.full_shape();
  const DType dt = k_.leaf_buffer(p.leaf).dtype;
  // Declared here: inside the parallel loop each thread gets its own; hoisted, the calling
  // thread's is the one every thread reads.
  UOp array{UOpKind::kDefineLocal};
  array.dtype = dt;
  array.arg = p.size;
  array.tag = "pack";
  array_ = b_.emit(array);
  // One loop per panel dimension, in the panel's order: the stores walk it contiguously.
  std::vector<int> saved, loops;
  for (size_t d : p.dims) {
    saved.push_back(ix_.dim_index(d));
    loops.push_back(ix_.open_range(full[d], "pidx"));
    ix_.dim_index(d) = loops.back();
  }
  std::vector<sym::Expr> idx;
  for (size_t d = 0; d < k_.ndim(); ++d) {
    const bool varies = st.shape()[d] != 1 && ((d <= p.at && !p.hoisted) || std::find(p.dims.begin(), p.dims.end(), d) != p.dims.end());
    idx.push_back(varies ? dim_var(d, full[d]) : sym::num(0));
  }
  const auto [pos, valid] = st.expr(idx);
  int value;
  if (valid->is_num() && valid->c == 0) {
    value = b_.const_of(0, dt);
  } else {
    UOp load{UOpKind::kLoad};
    load.dtype = dt;
    load.src = {ix_.buffer(k_.leaves[p.leaf]->buf), ix_.lower(pos)};
    if (!valid->is_num()) load.src.push_back(ix_.lower(valid));  // a padded element packs as 0
    value = b_.emit(load);
  }
  sym::Expr at = sym::num(0);
  for (size_t j = 0; j < p.dims.size(); ++j) at = at + dim_var(p.dims[j], p.extents[j]) * p.strides[j];
  b_.emit_typed(UOpKind::kStore, dt, {array_, ix_.lower(at), value});
  ix_.close_loops(loops);
  for (size_t j = 0; j < p.dims.size(); ++j) ix_.dim_index(p.dims[j]) = saved[j];
}

std::optional<UOpBuilder::Val> Packing::read(const AstNode* leaf, const std::vector<int64_t>& assign) {
  if (!panel_ || array_ < 0 || k_.st_index(leaf) != panel_->leaf) return std::nullopt;
  const PackedPanel& p = *panel_;
  const int vdim = ix_.vector_dim();
  UOp load{UOpKind::kLoad};
  load.dtype = b_.uop(array_).dtype;
  sym::Expr at = sym::num(0);
  for (size_t j = 0; j < p.dims.size(); ++j) {
    const size_t d = p.dims[j];
    if (static_cast<int>(d) == vdim) {  // the lanes are the panel's last dimension: one vector
      load.lanes = static_cast<int>(p.extents[j]);
      load.arg = 1;
      continue;
    }
    at = at + (assign[d] >= 0 ? sym::num(assign[d]) : dim_var(d, p.extents[j])) * p.strides[j];
  }
  load.src = {array_, ix_.lower(at)};
  return UOpBuilder::Val{b_.emit(load), {}};
}

}  // namespace tinyref
