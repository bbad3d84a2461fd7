// The tensor-core half of Kernel (kernel.h): which reduces can run on tensor cores
// (tensor_core_choices), how a kernel's dimensions are cut into an mma's lanes and fragments
// (Opt kTensorCore), and when its warps can issue warpgroup MMAs instead (Opt kWgmma).
#include <algorithm>
#include <functional>

#include "tinyref/codegen/kernel.h"
#include "tinyref/error.h"

namespace tinyref {

std::vector<int*> TensorCoreDims::positions() {
  std::vector<int*> out = {&row_hi, &row_lane, &col_lane, &col_pair, &k};
  for (int* p : {&k_hi, &warp, &tiles_n}) {
    if (*p >= 0) out.push_back(p);
  }
  return out;
}

void Kernel::use_tensor_cores(int choice) {
  const TensorCoreChoice c = tensor_core_choices(*this)[choice];
  // m -> (m/16, 2, 8), n -> (n/8, 4, 2), k -> (k/8, 8): the tile's digits right after each.
  const Shape full = full_shape();
  std::vector<std::vector<int64_t>> pieces(ndim());
  std::vector<std::vector<Axis>> kinds(ndim());
  for (size_t d = 0; d < ndim(); ++d) {
    pieces[d] = {full[d]};
    kinds[d] = {axes[d]};
  }
  pieces[c.m] = {full[c.m] / 16, 2, 8}, kinds[c.m] = {axes[c.m], Axis::kUpcast, Axis::kLocal};
  pieces[c.n] = {full[c.n] / 8, 4, 2}, kinds[c.n] = {axes[c.n], Axis::kLocal, Axis::kUpcast};
  pieces[c.k] = {full[c.k] / 8, 8}, kinds[c.k] = {axes[c.k], Axis::kTensorCore};
  std::vector<Shape> shapes;
  for (const ShapeTracker& st : sts) {
    Shape s;
    for (size_t d = 0; d < ndim(); ++d) {
      for (int64_t p : pieces[d]) s.push_back(st.shape()[d] == 1 ? 1 : p);
    }
    shapes.push_back(s);
  }
  std::vector<int> start;  // where each old dimension's pieces begin
  std::vector<Axis> new_axes;
  for (size_t d = 0; d < ndim(); ++d) {
    start.push_back(static_cast<int>(new_axes.size()));
    new_axes.insert(new_axes.end(), kinds[d].begin(), kinds[d].end());
  }
  reshape_all(shapes);
  axes = new_axes;
  tensor_core = TensorCoreDims{start[c.m] + 1, start[c.m] + 2, start[c.n] + 1, start[c.n] + 2, start[c.k] + 1, c.a_src};
  // Order: the old dimensions, then the lanes (least significant thread digits), then the
  // fragment's unrolled dimensions.
  const TensorCoreDims t = *tensor_core;
  std::vector<int> perm;
  for (int d = 0; d < static_cast<int>(ndim()); ++d) {
    if (d != t.row_hi && d != t.row_lane && d != t.col_lane && d != t.col_pair && d != t.k) perm.push_back(d);
  }
  perm.insert(perm.end(), {t.row_lane, t.col_lane, t.row_hi, t.col_pair, t.k});
  permute_dims(perm);
}

std::vector<TensorCoreChoice> tensor_core_choices(const Kernel& k) {
  const AstNode* r = k.reduce;
  if (!k.gpu || r == nullptr || r->op != Op::SUM || r->src[0]->op != Op::MUL || k.tensor_core || k.stage_k_tiles) return {};
  for (Axis a : k.axes) {
    if (a != Axis::kGlobal && a != Axis::kReduce) return {};
  }
  bool f32 = true;
  std::vector<std::vector<size_t>> leaves(2);  // the BUFFER and CONST leaves under each source
  std::function<void(const AstNode*, int)> walk = [&](const AstNode* n, int side) {
    f32 = f32 && n->dtype == DType::kFloat32;
    if (n->op == Op::BUFFER || n->op == Op::CONST) leaves[side].push_back(static_cast<size_t>(k.st_index(n)));
    for (const AstRef& s : n->src) walk(s.get(), side);
  };
  for (int side = 0; side < 2; ++side) walk(r->src[0]->src[side].get(), side);
  if (!f32) return {};
  const Shape full = k.full_shape();
  // Whether no leaf of a side moves along d.
  const auto constant_along = [&](int side, size_t d) {
    for (size_t leaf : leaves[side]) {
      if (k.moves_along(leaf, d)) return false;
    }
    return true;
  };
  // The innermost dimension that qualifies: the contiguous one, where there is one.
  const auto last = [&](Axis kind, int64_t multiple, const std::function<bool(size_t)>& ok) {
    for (size_t d = k.ndim(); d-- > 0;) {
      if (k.axes[d] == kind && full[d] % multiple == 0 && ok(d)) return static_cast<int>(d);
    }
    return -1;
  };
  std::vector<TensorCoreChoice> out;
  const int kd = last(Axis::kReduce, 8, [](size_t) { return true; });
  for (int a = 0; a < 2 && kd >= 0; ++a) {
    const int m = last(Axis::kGlobal, 16, [&](size_t d) { return constant_along(1 - a, d); });
    const int n = last(Axis::kGlobal, 8, [&](size_t d) { return constant_along(a, d) && static_cast<int>(d) != m; });
    if (m >= 0 && n >= 0) out.push_back({static_cast<size_t>(m), static_cast<size_t>(n), static_cast<size_t>(kd), a});
  }
  return out;
}

namespace {

// The factors of the reduce's MUL: A's and B's leaves (tensor_core_choices: each a BUFFER where
// warpgroup MMAs apply).
std::pair<size_t, size_t> factor_leaves(const Kernel& k) {
  const AstNode* mul = k.reduce->src[0].get();
  const int a = k.tensor_core->a_src;
  return {static_cast<size_t>(k.st_index(mul->src[a].get())), static_cast<size_t>(k.st_index(mul->src[1 - a].get()))};
}

// The warpgroup's 8-column tiles: the innermost upcast dimension (col_pair aside) along which B
// moves and A does not; -1 where there is none (one tile, N = 8).
int tiles_n_dim(const Kernel& k) {
  const auto [a, b] = factor_leaves(k);
  int tiles = -1;
  for (size_t d : k.dims(Axis::kUpcast)) {
    if (static_cast<int>(d) != k.tensor_core->col_pair && k.moves_along(b, d) && !k.moves_along(a, d)) tiles = static_cast<int>(d);
  }
  return tiles;
}

}  // namespace

// The instruction fixes what the kernel's dimensions must be: the lanes the least significant
// thread digits (as for mma.sync), above them 4 warps (or a multiple: several warpgroups) down A's
// rows, and both factors plain inputs, since the tensor cores read the staged tiles themselves
// (a factor computed from an input would need the computed values staged).
bool Kernel::can_use_wgmma(std::string* reason) const {
  const auto no = [&](const char* r) {
    *reason = r;
    return false;
  };
  if (!tensor_core || issues_wgmma()) return no("warpgroup MMAs need a kernel on tensor cores, once");
  if (!stage_k_tiles || prefetch_k_tiles || async_stages > 0) {
    return no("warpgroup MMAs read staged K-tiles: after stage, before prefetch or async");
  }
  for (const AstRef& factor : reduce->src[0]->src) {
    if (factor->op != Op::BUFFER) return no("both factors must be inputs as they are: the tensor cores read the staged copies");
  }
  const TensorCoreDims& t = *tensor_core;
  const std::vector<size_t> locals = dims(Axis::kLocal);
  const size_t n = locals.size();
  if (n < 3 || static_cast<int>(locals[n - 2]) != t.row_lane || static_cast<int>(locals[n - 1]) != t.col_lane) {
    return no("a warpgroup needs a warp digit above the lanes");
  }
  const size_t warp = locals[n - 3];
  const auto [a, b] = factor_leaves(*this);
  if (full_shape()[warp] % 4 != 0 || !moves_along(a, warp) || moves_along(b, warp)) {
    return no("the warp digit above the lanes must be 4 warps (or a multiple) down A's rows");
  }
  const int tiles = tiles_n_dim(*this);
  if (tiles >= 0 && full_shape()[static_cast<size_t>(tiles)] > 32) return no("a warpgroup MMA has at most 256 columns");
  return true;
}

void Kernel::use_wgmma() {
  TensorCoreDims& t = *tensor_core;
  const std::vector<size_t> locals = dims(Axis::kLocal);
  t.warp = static_cast<int>(locals[locals.size() - 3]);
  t.tiles_n = tiles_n_dim(*this);
  split(static_cast<size_t>(t.k), 4, Axis::kTensorCore);  // K's 8 keeps its place as 2; its 4 go last
  t.k_hi = t.k;
  t.k = static_cast<int>(ndim()) - 1;
}

}  // namespace tinyref
