#include "tinyref/codegen/kernel.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include "tinyref/error.h"

namespace tinyref {

namespace {

bool is_loop(Axis a) { return a == Axis::kGlobal || a == Axis::kReduce || a == Axis::kGroup || a == Axis::kOuterReduce; }

}  // namespace

const char* axis_name(Axis a) {
  static const char* names[] = {"global", "local", "group", "reduce", "upcast", "unroll", "vector", "outer_reduce", "tensor_core"};
  return names[static_cast<int>(a)];
}

Kernel::Kernel(const AstRef& root, std::vector<BufferArg> buffers) : ast(root), bufs(std::move(buffers)) {
  std::function<void(const AstNode*)> walk = [&](const AstNode* n) {
    if (is_reduce(n->op)) reduce = n;
    if (n->op == Op::STORE || n->op == Op::BUFFER || n->op == Op::CONST) {
      if (leaf_index_.count(n)) return;
      leaf_index_[n] = static_cast<int>(leaves.size());
      leaves.push_back(n);
      sts.push_back(n->st);
    }
    for (const AstRef& s : n->src) walk(s.get());
  };
  walk(ast.get());
  const size_t nd = sts[0].ndim();
  for (const ShapeTracker& st : sts) TT_ASSERT(st.ndim() == nd);
  for (size_t d = 0; d < nd; ++d) axes.push_back(is_reduce_dim(d) ? Axis::kReduce : Axis::kGlobal);
  // Reduce dimensions after the output ones: the loop order every kernel starts from.
  std::vector<size_t> order(nd);
  std::iota(order.begin(), order.end(), 0);
  std::stable_partition(order.begin(), order.end(), [&](size_t d) { return axes[d] == Axis::kGlobal; });
  std::vector<Axis> new_axes;
  std::vector<int> perm(order.begin(), order.end());
  for (ShapeTracker& st : sts) st = st.permute(perm);
  for (size_t d : order) new_axes.push_back(axes[d]);
  axes = new_axes;
  merge_dims();
}

Shape Kernel::full_shape() const {
  Shape full = sts[0].shape();
  for (const ShapeTracker& st : sts) {
    for (size_t d = 0; d < full.size(); ++d) full[d] = std::max(full[d], st.shape()[d]);
  }
  return full;
}

int Kernel::first_of(Axis a) const {
  for (size_t d = 0; d < axes.size(); ++d) {
    if (axes[d] == a) return static_cast<int>(d);
  }
  return -1;
}

int Kernel::last_of(Axis a) const {
  for (size_t d = axes.size(); d-- > 0;) {
    if (axes[d] == a) return static_cast<int>(d);
  }
  return -1;
}

std::vector<size_t> Kernel::dims(Axis a) const {
  std::vector<size_t> out;
  for (size_t d = 0; d < axes.size(); ++d) {
    if (axes[d] == a) out.push_back(d);
  }
  return out;
}

int64_t Kernel::extent(Axis a) const {
  const Shape full = full_shape();
  int64_t n = 1;
  for (size_t d : dims(a)) n *= full[d];
  return n;
}

int64_t Kernel::upcast_size() const {
  int64_t n = 1;
  Shape full = full_shape();
  for (size_t d = 0; d < axes.size(); ++d) {
    if (axes[d] == Axis::kUpcast || axes[d] == Axis::kUnroll || axes[d] == Axis::kVector) n *= full[d];
  }
  return n;
}

std::optional<int64_t> Kernel::stride(size_t leaf, size_t d) const {
  if (sts[leaf].shape()[d] == 1) return 0;
  return sts[leaf].real_stride(d);
}

std::pair<sym::Expr, sym::Expr> Kernel::leaf_expr(size_t leaf) const {
  const ShapeTracker& st = sts[leaf];
  std::vector<sym::Expr> idx;
  for (size_t d = 0; d < ndim(); ++d) {
    idx.push_back(st.shape()[d] == 1 ? sym::num(0) : sym::var(static_cast<int>(d), "d" + std::to_string(d), 0, st.shape()[d] - 1));
  }
  return st.expr(idx);
}

bool Kernel::moves_along(size_t leaf, size_t d) const {
  if (stride(leaf, d) == std::optional<int64_t>(0)) return false;
  const auto [pos, valid] = leaf_expr(leaf);
  return sym::contains_var(pos, static_cast<int>(d)) || sym::contains_var(valid, static_cast<int>(d));
}

bool Kernel::reused_along(size_t d) const {
  const Shape full = full_shape();
  for (size_t i = 1; i < leaves.size(); ++i) {
    if (leaves[i]->op == Op::BUFFER && sts[i].shape() == full && stride(i, d) == 0) return true;
  }
  return false;
}

void Kernel::reshape_all(const std::vector<Shape>& shapes) {
  for (size_t i = 0; i < sts.size(); ++i) sts[i] = sts[i].reshape(shapes[i]);
}

void Kernel::merge_dims() {
  // Size-1 dimensions carry nothing.
  for (size_t d = ndim(); d-- > 0;) {
    if (full_shape()[d] != 1 || ndim() == 1) continue;
    std::vector<Shape> shapes;
    for (const ShapeTracker& st : sts) {
      Shape s = st.shape();
      s.erase(s.begin() + d);
      shapes.push_back(s);
    }
    reshape_all(shapes);
    axes.erase(axes.begin() + d);
  }
  // Neighbouring loops of one kind merge when no ShapeTracker needs a new view for it.
  for (size_t d = ndim(); d-- > 1;) {
    if (axes[d] != axes[d - 1] || (axes[d] != Axis::kGlobal && axes[d] != Axis::kReduce)) continue;
    std::vector<Shape> shapes;
    bool ok = true;
    for (const ShapeTracker& st : sts) {
      Shape s = st.shape();
      s[d - 1] *= s[d];
      s.erase(s.begin() + d);
      ShapeTracker merged = st.reshape(s);
      ok = ok && merged.views.size() <= st.views.size();
      shapes.push_back(s);
    }
    if (!ok) continue;
    reshape_all(shapes);
    axes.erase(axes.begin() + d);
  }
}

void Kernel::split(size_t d, int64_t amount, Axis inner) {
  const Shape full = full_shape();
  TT_ASSERT(d < ndim() && amount > 0 && full[d] % amount == 0);
  std::vector<Shape> shapes;
  for (const ShapeTracker& st : sts) {
    Shape s = st.shape();
    const bool one = s[d] == 1;
    s[d] = one ? 1 : s[d] / amount;
    s.insert(s.begin() + d + 1, one ? 1 : amount);
    shapes.push_back(s);
  }
  reshape_all(shapes);
  axes.insert(axes.begin() + d + 1, inner);
  if (tensor_core) {
    for (int* t : tensor_core->positions()) *t += *t > static_cast<int>(d);
  }
  // The new dimension goes last; a loop kind (or a GPU thread digit) moves up to the end of the
  // loops instead. A tensor core's lanes stay the least significant digits of the thread index:
  // a new thread dimension goes before them (a warp of its own).
  size_t to = ndim() - 1;
  if (is_loop(inner) || inner == Axis::kLocal) {
    while (to > 0 && (axes[to] == Axis::kUpcast || axes[to] == Axis::kUnroll || axes[to] == Axis::kVector ||
                      axes[to] == Axis::kTensorCore)) {
      --to;
    }
  }
  if (tensor_core && inner == Axis::kLocal) to = static_cast<size_t>(std::min(tensor_core->row_lane, tensor_core->col_lane)) - 1;
  move(d + 1, to);
}

void Kernel::move(size_t from, size_t to) {
  std::vector<int> perm(ndim());
  std::iota(perm.begin(), perm.end(), 0);
  perm.erase(perm.begin() + from);
  perm.insert(perm.begin() + to, static_cast<int>(from));
  permute_dims(perm);
}

void Kernel::permute_dims(const std::vector<int>& perm) {
  for (ShapeTracker& st : sts) st = st.permute(perm);
  std::vector<Axis> a;
  for (int p : perm) a.push_back(axes[p]);
  axes = a;
  if (tensor_core) {
    for (int* t : tensor_core->positions()) *t = static_cast<int>(std::find(perm.begin(), perm.end(), *t) - perm.begin());
  }
}

std::optional<DType> Kernel::lane_dtype() const {
  std::optional<DType> dt;
  bool ok = true, masks = false;
  auto same_float = [&](DType d) {
    if (!is_float(d) || (dt && *dt != d)) ok = false;
    dt = d;
  };
  std::function<void(const AstNode*, bool)> walk = [&](const AstNode* n, bool in_reduce) {
    in_reduce = in_reduce || n == reduce;
    const bool epilogue = reduce != nullptr && !in_reduce;
    if (n->op == Op::BUFFER || n->op == Op::STORE) {
      same_float(n->dtype);  // loaded or stored as vectors: no bool or uint8 vectors
    } else if (!epilogue) {
      if (n->dtype == DType::kBool) {
        masks = true;
      } else {
        same_float(n->dtype);
      }
      if (n->op != Op::CONST && !op_has(n->op, kVectorForm)) ok = false;
      // A cast between the float and a mask (a ReLU's gradient); a comparison of floats or masks.
      for (const AstRef& s : n->src) {
        if (!is_float(s->dtype) && s->dtype != DType::kBool) ok = false;
      }
    }
    for (const AstRef& s : n->src) walk(s.get(), in_reduce);
  };
  walk(ast.get(), false);
  // A mask vector has the lanes of a float32 one (ops.def): none beside float64.
  if (!ok || (masks && dt != DType::kFloat32)) return std::nullopt;
  return dt;
}

bool Kernel::can_apply(const Opt& o, std::string* why) const {
  const auto no = [&](const std::string& reason) {
    if (why != nullptr) *why = to_string(o) + ": " + reason;
    return false;
  };
  if (o.kind == OptKind::kParallel) {
    if (gpu || parallel) return no(gpu ? "a GPU kernel has no loops to share" : "already parallel");
    if (ndim() == 0 || (axes[0] != Axis::kGlobal && first_of(Axis::kGroup) < 0)) return no("the outermost loop is no output or group loop");
    return true;
  }
  if (o.kind == OptKind::kTensorCore) {
    if (tensor_core) return no("the kernel is on tensor cores already");
    if (o.amount != 8) return no("the mma multiplies 8 of the reduce at a time");
    const size_t choices = tensor_core_choices(*this).size();
    return (o.axis >= 0 && static_cast<size_t>(o.axis) < choices) ||
           no(choices == 0 ? "tensor cores need a fresh GPU kernel of a float32 sum of products with 16 | m, 8 | n, 8 | k"
                           : "no such choice");
  }
  if (o.axis < 0 || o.axis >= static_cast<int>(ndim())) return no("no such dimension");
  // A panel names its dimensions by position: every later opt would move them.
  if (pack_leaf >= 0) return no("packing comes last (only parallel may follow it)");
  if (o.kind == OptKind::kPack) {
    std::string reason;
    return can_pack(o, &reason) || no(reason);
  }
  const Shape full = full_shape();
  if (o.amount < 1) return no("the amount must be positive");
  if (o.kind == OptKind::kPad) {
    // Later opts split dimensions: the pad goes on the kernel's own ones, before them.
    if (!gpu || (axes[o.axis] != Axis::kGlobal && axes[o.axis] != Axis::kReduce)) {
      return no("padding extends an output or reduce dimension of a GPU kernel");
    }
    if (std::any_of(applied.begin(), applied.end(), [](const Opt& p) { return p.kind != OptKind::kPad; })) {
      return no("padding comes first");
    }
    // A padded reduce adds the padding's terms: each must be 0 * 0, both factors masked (with
    // one factor only, 0 * inf would be NaN).
    if (axes[o.axis] == Axis::kReduce && !padded_terms_are_zero(static_cast<size_t>(o.axis))) {
      return no("a padded reduce must be a sum of products of two inputs that both move along it");
    }
    return full[o.axis] % o.amount != 0 || no("the dimension is a multiple of the amount already");
  }
  // Every kind but staging and a ring splits the dimension by its amount (staging's is a K-tile
  // depth, a ring's the K-tiles in flight: the copies past the last K-tile are skipped).
  const bool splits = o.kind != OptKind::kStage && o.kind != OptKind::kAsync && o.kind != OptKind::kWgmma;
  if (splits && full[o.axis] % o.amount != 0) return no("the amount does not divide the dimension");
  const Axis a = axes[o.axis];
  switch (o.kind) {
    case OptKind::kVector:
      if (tensor_core) return no("a tensor core's fragments are scalars");
      if (first_of(Axis::kVector) >= 0) return no("the kernel has its vector dimension already");
      // A group's partials are one scalar per register-tile position: lanes of outputs do not fit.
      if (first_of(Axis::kGroup) >= 0 && a != Axis::kReduce) return no("a group reduce keeps no vectors of outputs");
      if (gpu) {
        bool f32 = true;
        std::function<void(const AstNode*)> walk = [&](const AstNode* n) {
          f32 = f32 && n->dtype == DType::kFloat32;
          for (const AstRef& s : n->src) walk(s.get());
        };
        walk(ast.get());
        if (!f32 || o.amount != 4 || a != Axis::kGlobal) return no("a GPU vector is a float4 of outputs");
      } else if (!lane_dtype() || (a != Axis::kGlobal && a != Axis::kReduce) || o.amount > 16 ||
                 (o.amount & (o.amount - 1)) != 0) {
        return no("lanes need a float kernel, an output or reduce dimension and 2 to 16 lanes");
      }
      return true;
    case OptKind::kUpcast:
      return a == Axis::kGlobal || no("not an output dimension");
    case OptKind::kUnroll:
      return a == Axis::kReduce || no("not a reduce dimension");
    case OptKind::kLocal:
      return (gpu && a == Axis::kGlobal) || no("threads split an output dimension of a GPU kernel");
    case OptKind::kGroup:
      if (a != Axis::kReduce) return no("not a reduce dimension");
      if (tensor_core) return no("a tensor core's warps keep whole sums");
      if (first_of(Axis::kVector) >= 0 && !is_reduce_dim(first_of(Axis::kVector))) return no("a group reduce keeps no vectors of outputs");
      if (gpu) return first_of(Axis::kLocal) < 0 || no("a block's threads are its outputs already");
      return (first_of(Axis::kGroup) < 0 && first_of(Axis::kOuterReduce) < 0) || no("one group or stream per kernel");
    case OptKind::kBlock:
      return (!gpu && a == Axis::kGlobal) || no("blocks walk an output loop of a CPU kernel");
    case OptKind::kStream:
      if (gpu || reduce == nullptr || ast->src[0].get() != reduce) return no("only a CPU reduce stored as it is adds into its output");
      if (axes[0] != Axis::kGlobal || a != Axis::kReduce) return no("needs an outermost output loop and a reduce dimension");
      return (first_of(Axis::kGroup) < 0 && first_of(Axis::kOuterReduce) < 0) || no("one group or stream per kernel");
    case OptKind::kStage:
      if (!gpu || reduce == nullptr || stage_k_tiles || first_of(Axis::kGroup) >= 0 || first_of(Axis::kLocal) < 0) {
        return no("staging needs a GPU reduce with threads over its outputs");
      }
      return o.axis == first_of(Axis::kReduce) || no("the K-tile loop is the first reduce dimension");
    case OptKind::kPrefetch:
      if (!stage_k_tiles || prefetch_k_tiles || async_stages > 0) return no("prefetching needs a staged kernel, once");
      if (o.axis != first_of(Axis::kReduce) || o.amount != 1) return no("one K-tile ahead, on the K-tile loop");
      return full[o.axis] > 1 || no("a single K-tile has nothing to prefetch");
    case OptKind::kAsync:
      if (!stage_k_tiles || prefetch_k_tiles || async_stages > 0) return no("asynchronous copies need a staged kernel, once");
      if (o.axis != first_of(Axis::kReduce) || o.amount < 2 || o.amount > 4) return no("a ring of 2 to 4 K-tiles, on the K-tile loop");
      return full[o.axis] > 1 || no("a single K-tile has nothing to copy ahead");
    case OptKind::kWgmma: {
      if (o.axis != first_of(Axis::kReduce) || o.amount != 64) return no("on the K-tile loop, 64 rows a warpgroup");
      std::string reason;
      return can_use_wgmma(&reason) || no(reason);
    }
    case OptKind::kParallel:
    case OptKind::kPack:
    case OptKind::kTensorCore:
    case OptKind::kPad:
      break;
  }
  return true;
}

bool Kernel::can_pack(const Opt& o, std::string* reason) const {
  const auto no = [&](const char* r) {
    *reason = r;
    return false;
  };
  // (A streamed reduce's chunk loop counts: its panel then holds one chunk's share.)
  if (gpu || reduce == nullptr || (axes[o.axis] != Axis::kGlobal && axes[o.axis] != Axis::kOuterReduce)) {
    return no("a panel is packed inside an output or chunk loop of a CPU reduce");
  }
  if (first_of(Axis::kGroup) >= 0) return no("not with a group");
  if (o.amount < 1 || o.amount >= static_cast<int64_t>(leaves.size()) || leaves[o.amount]->op != Op::BUFFER ||
      sts[o.amount].shape() != full_shape()) {
    return no("the amount names no input that the reduce reads");
  }
  // The panel is a per-thread array the linearizer's copy fills; a bound keeps it in memory
  // that a thread can have (16 MiB: 16 times a large L2).
  int64_t elements = 1;
  for (size_t d = o.axis + 1; d < ndim(); ++d) elements *= stride(o.amount, d) == 0 ? 1 : full_shape()[d];
  return elements * static_cast<int64_t>(itemsize(leaf_buffer(o.amount).dtype)) <= (16 << 20) || no("the panel exceeds 16 MiB");
}

void Kernel::apply(const Opt& o) {
  std::string why;
  TT_CHECK(can_apply(o, &why), "kernel " << name() << ": cannot apply " << why);
  const size_t d = static_cast<size_t>(o.axis);
  switch (o.kind) {
    case OptKind::kVector: split(d, o.amount, Axis::kVector); break;
    case OptKind::kUpcast: split(d, o.amount, Axis::kUpcast); break;
    case OptKind::kUnroll: split(d, o.amount, Axis::kUnroll); break;
    case OptKind::kLocal: split(d, o.amount, Axis::kLocal); break;
    case OptKind::kGroup: group(d, o.amount); break;
    case OptKind::kBlock: {
      split(d, o.amount, Axis::kGlobal);                      // the blocks stay at d, the tiles go after the loops...
      move(static_cast<size_t>(last_of(Axis::kGlobal)), d + 1);  // ...then right after the blocks
      move(d, 0);                                              // and the blocks outermost
      break;
    }
    case OptKind::kStream: stream(d, o.amount); break;
    case OptKind::kParallel: parallel = true; break;
    case OptKind::kStage: stage(d, o.amount); break;
    case OptKind::kPrefetch: prefetch_k_tiles = true; break;
    case OptKind::kAsync: async_stages = static_cast<int>(o.amount); break;
    case OptKind::kPack:
      pack_leaf = static_cast<int>(o.amount);
      pack_at = o.axis;
      break;
    case OptKind::kTensorCore: use_tensor_cores(o.axis); break;
    case OptKind::kPad: pad(d, o.amount); break;
    case OptKind::kWgmma: use_wgmma(); break;
  }
  applied.push_back(o);
}

void Kernel::group(size_t d, int64_t amount) {
  const int64_t n = full_shape()[d];
  if (!gpu) {  // amount contiguous chunks: the outer part is the group loop, the inner part reduces
    split(d, n / amount, Axis::kReduce);
    axes[d] = Axis::kGroup;
  } else if (amount == n) {  // threads over the whole dimension: digits of the thread index where it is
    axes[d] = Axis::kGroup;
  } else {
    // The threads take the inner part (neighbouring threads, neighbouring elements), a more
    // significant digit of the thread index than the group dimensions there are already.
    const int first = first_of(Axis::kGroup);
    split(d, amount, Axis::kGroup);  // lands at the end of the loops
    if (first >= 0) move(static_cast<size_t>(last_of(Axis::kGroup)), static_cast<size_t>(first));
  }
}

void Kernel::pad(size_t d, int64_t multiple) {
  const int64_t n = full_shape()[d];
  Pairs extra(ndim(), {0, 0});
  extra[d].second = (n + multiple - 1) / multiple * multiple - n;
  // Where a leaf does not move, extent 1: the mask then lives in a view no larger than the
  // leaf's own data (later splits of the masked dimension push a view of this one's size; with
  // a conv image's broadcast over the output channels, 6e9 elements).
  const auto only_where_moving = [&](size_t i) {
    Pairs keep;
    for (size_t j = 0; j < ndim(); ++j) keep.push_back({0, stride(i, j) == 0 ? 1 : sts[i].shape()[j]});
    return sts[i].shrink(keep);
  };
  for (size_t i = 0; i < sts.size(); ++i) {
    // The output along a padded output dimension always: its mask gates the stores.
    if (i == 0 ? axes[d] == Axis::kGlobal : moves_along(i, d)) sts[i] = only_where_moving(i).pad(extra);
    else if (sts[i].shape()[d] != 1) sts[i] = only_where_moving(i);
  }
}

void Kernel::stream(size_t d, int64_t chunks) {
  const int64_t n = full_shape()[d];
  if (chunks < n) {
    split(d, n / chunks, Axis::kReduce);                         // the chunk's loop lands last...
    move(static_cast<size_t>(last_of(Axis::kReduce)), d + 1);  // ...and goes back to the batch's place
  }
  axes[d] = Axis::kOuterReduce;
  move(d, 1);  // inside the outermost output loop, which the threads share: they meet once
}

void Kernel::stage(size_t d, int64_t k_tile) {
  // The K-tile loop keeps the first reduce dimension; the rest of the reduce (with the unrolled
  // part) is the tile, made about k_tile deep by splitting the first dimension if it is shorter.
  const int64_t inner = extent(Axis::kReduce) / full_shape()[d] * extent(Axis::kUnroll) * extent(Axis::kTensorCore);
  if (inner < k_tile) {
    const int64_t f = sym::divisor_at_most(full_shape()[d], k_tile / inner);
    if (f > 1) split(d, f, Axis::kReduce);
  }
  stage_k_tiles = true;
}

bool Kernel::padded_terms_are_zero(size_t d) const {
  if (reduce == nullptr || reduce->op != Op::SUM || reduce->src[0]->op != Op::MUL) return false;
  for (const AstRef& factor : reduce->src[0]->src) {
    if (factor->op != Op::BUFFER || !moves_along(static_cast<size_t>(st_index(factor.get())), d)) return false;
  }
  return true;
}

bool Kernel::window_along(size_t leaf, const std::vector<size_t>& outs, const std::vector<size_t>& reduces) const {
  const Shape full = full_shape();
  std::vector<int64_t> middle(ndim());
  for (size_t d = 0; d < ndim(); ++d) middle[d] = (full[d] - 1) / 2;
  const auto [pos, valid] = leaf_expr(leaf);
  // How far one step along d moves the leaf from the middle; 0 where it does not move or either
  // end is padding.
  const auto step = [&](size_t d) -> int64_t {
    if (sts[leaf].shape()[d] == 1 || middle[d] + 1 >= full[d]) return 0;
    std::vector<int64_t> at = middle;
    ++at[d];
    if (sym::eval(valid, middle) == 0 || sym::eval(valid, at) == 0) return 0;
    return sym::eval(pos, at) - sym::eval(pos, middle);
  };
  for (size_t out : outs) {
    const int64_t along_out = step(out);
    if (along_out == 0) continue;
    for (size_t r : reduces) {
      if (step(r) == along_out) return true;
    }
  }
  return false;
}

bool is_convolution(const Kernel& k) {
  if (k.reduce == nullptr || !k.applied.empty()) return false;
  for (size_t i = 1; i < k.leaves.size(); ++i) {
    if (k.leaves[i]->op == Op::BUFFER && k.window_along(i, k.dims(Axis::kGlobal), k.dims(Axis::kReduce))) return true;
  }
  return false;
}

std::string Kernel::name() const {
  std::string n = reduce ? "r" : "E";
  for (int64_t s : full_shape()) n += "_" + std::to_string(s);
  return n;
}

}  // namespace tinyref
