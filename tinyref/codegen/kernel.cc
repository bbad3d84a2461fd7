#include "tinyref/codegen/kernel.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include "tinyref/error.h"

namespace tinyref {

const char* axis_name(Axis a) {
  static const char* names[] = {"global", "local", "group", "reduce", "upcast", "unroll", "vector", "outer_reduce"};
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
  // The new dimension goes last; a loop kind moves up to the end of the loops instead.
  size_t to = ndim() - 1;
  if (inner == Axis::kGroup || inner == Axis::kReduce || inner == Axis::kGlobal || inner == Axis::kLocal) {
    while (to > 0 && (axes[to] == Axis::kUpcast || axes[to] == Axis::kUnroll || axes[to] == Axis::kVector)) --to;
  }
  move(d + 1, to);
}

void Kernel::move(size_t from, size_t to) {
  std::vector<int> perm(ndim());
  std::iota(perm.begin(), perm.end(), 0);
  perm.erase(perm.begin() + from);
  perm.insert(perm.begin() + to, static_cast<int>(from));
  for (ShapeTracker& st : sts) st = st.permute(perm);
  std::vector<Axis> a;
  for (int p : perm) a.push_back(axes[p]);
  axes = a;
}

std::string Kernel::name() const {
  std::string n = reduce ? "r" : "E";
  for (int64_t s : full_shape()) n += "_" + std::to_string(s);
  return n;
}

}  // namespace tinyref
