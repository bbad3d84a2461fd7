#include "ch06/loop_kernel.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <stdexcept>

#include "chapters/course.h"

namespace ch06 {

using ch04::Shape;
using ch04::ShapeTracker;
using ch05::KernelNode;
using ch05::NodeKind;

const char* loop_kind_name(LoopKind kind) {
  switch (kind) {
    case LoopKind::kGlobal: return "global";
    case LoopKind::kReduce: return "reduce";
    case LoopKind::kUpcast: return "upcast";
    case LoopKind::kUnroll: return "unroll";
  }
  return "?";
}

namespace {

// Each leaf's shape with the same change made to every one of them: `change` gets a leaf's
// shape and returns its new shape.
[[maybe_unused]] std::vector<ShapeTracker> reshaped(const std::vector<ShapeTracker>& sts, const std::function<Shape(Shape)>& change) {
  std::vector<ShapeTracker> out;
  for (const ShapeTracker& st : sts) out.push_back(st.reshape(change(st.shape())));
  return out;
}

}  // namespace

LoopKernel::LoopKernel(const ch05::Kernel& kernel) {
  ch05::verify(kernel);
  name = kernel.name();
  ast = kernel.ast;
  reduce_ = kernel.reduce_node();
  for (const ch04::LazyRef& b : kernel.buffers) buffers.push_back(b->dtype());
  std::function<void(const KernelNode*)> walk = [&](const KernelNode* n) {
    const bool leaf = n->kind == NodeKind::kStore || n->kind == NodeKind::kLoad || n->kind == NodeKind::kConst;
    if (leaf && std::find(leaves.begin(), leaves.end(), n) == leaves.end()) {
      leaves.push_back(n);
      sts.push_back(n->st);
    }
    for (const ch05::NodeRef& s : n->src) walk(s.get());
  };
  walk(ast.get());

  // Arithmetic per run: ops under the reduce run once per element of the full shape, the
  // others once per output.
  const int64_t full = ch04::prod(kernel.shape), outputs = ch04::prod(kernel.output_shape());
  std::function<void(const KernelNode*, bool)> count = [&](const KernelNode* n, bool under) {
    under = under || n->kind == NodeKind::kReduce;
    if (n->kind == NodeKind::kAlu || n->kind == NodeKind::kReduce) flops += under ? full : outputs;
    for (const ch05::NodeRef& s : n->src) count(s.get(), under);
  };
  count(ast.get(), false);
  shape = kernel.shape;

  // TODO(ch06.2): the loops. `shape` is kernel.shape; every leaf's ShapeTracker (sts) has its
  // dimensions, the STORE's with 1 on the reduced ones.
  //  1. Output dimensions first, reduced ones after (keep each group's order): permute every
  //     ShapeTracker and `shape` alike, and fill `reduced`.
  //  2. Drop the dimensions of extent 1 (reshape every ShapeTracker without it).
  //  3. Merge neighbours of one kind, from the last pair to the first: reshape every ShapeTracker
  //     to the merged shape; keep the merge only if none of them needed a new View for it
  //     (compare views.size() before and after). Skip this step for a kernel with 0 elements.
  //  4. One loop per dimension: kGlobal or kReduce, named by fresh_name (gidx0, gidx1, ...,
  //     ridx0, ...), and dims[d] = that loop's variable.
  // The helper reshaped() above applies one change to every ShapeTracker.
  throw course::NotImplemented("ch06.2: LoopKernel's loops");
}

std::string LoopKernel::fresh_name(LoopKind kind) {
  static const char* prefixes[] = {"gidx", "ridx", "up", "un"};
  const std::string prefix = prefixes[static_cast<int>(kind)];
  return prefix + std::to_string(counters_[prefix]++);
}

size_t LoopKernel::split(size_t l, int64_t amount, LoopKind kind) {
  // TODO(ch06.2): see loop_kernel.h. Rewrite every dims[d] and guard with substitute()
  // (simplify.h): the old variable becomes outer * amount + inner, the outer a variable of the
  // same name and the new extent (Loop::variable()). std::invalid_argument for a loop that does
  // not exist or an amount below 1, naming the kernel and its loops (describe()).
  throw course::NotImplemented("ch06.2: LoopKernel::split");
}

void LoopKernel::move(size_t from, size_t to) {
  if (from >= loops.size() || to >= loops.size()) {
    throw std::invalid_argument("move: " + name + " has no loop " + std::to_string(std::max(from, to)) + " (" +
                                describe() + ")");
  }
  const Loop l = loops[from];
  loops.erase(loops.begin() + static_cast<long>(from));
  loops.insert(loops.begin() + static_cast<long>(to), l);
}

std::pair<Expr, Expr> LoopKernel::index(size_t leaf, const std::map<std::string, int64_t>& fixed) const {
  std::vector<Expr> idx = dims;
  for (Expr& e : idx) {
    for (const auto& [var, value] : fixed) e = substitute(e, var, ch04::num(value));
  }
  auto [position, valid] = sts.at(leaf).to_expr(idx);
  return {simplify(position), simplify(valid)};
}

std::optional<int64_t> LoopKernel::stride(size_t leaf, size_t l) const {
  return coefficient(index(leaf).first, loops.at(l).var);
}

size_t LoopKernel::find(const std::string& var) const {
  for (size_t l = 0; l < loops.size(); ++l) {
    if (loops[l].var == var) return l;
  }
  return loops.size();
}

int64_t LoopKernel::extent_of(LoopKind kind) const {
  int64_t n = 1;
  for (const Loop& l : loops) {
    if (l.kind == kind) n *= l.extent;
  }
  return n;
}

std::string LoopKernel::describe() const {
  std::string out;
  for (const Loop& l : loops) {
    out += (out.empty() ? "" : " ") + l.var + "<" + std::to_string(l.extent);
    if (!is_loop(l.kind)) out += std::string("(") + loop_kind_name(l.kind) + ")";
  }
  for (const Expr& g : guards) out += " if " + ch04::render(g);
  return out.empty() ? "(no loops)" : out;
}

}  // namespace ch06
