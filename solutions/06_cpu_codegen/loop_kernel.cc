#include "ch06/loop_kernel.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <stdexcept>

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
std::vector<ShapeTracker> reshaped(const std::vector<ShapeTracker>& sts, const std::function<Shape(Shape)>& change) {
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

  // Output dimensions first, then the reduced ones: every accumulator lives inside the output
  // loops and around the reduce loops.
  shape = kernel.shape;
  std::vector<bool> is_reduced(shape.size(), false);
  if (reduce_) {
    for (int ax : reduce_->axes) is_reduced[ax] = true;
  }
  std::vector<int> order(shape.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_partition(order.begin(), order.end(), [&](int d) { return !is_reduced[d]; });
  for (ShapeTracker& st : sts) st = st.permute(order);
  for (int d : order) {
    reduced.push_back(is_reduced[d]);
  }
  Shape permuted;
  for (int d : order) permuted.push_back(shape[d]);
  shape = permuted;

  // Dimensions of extent 1 are no loops at all.
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] != 1) continue;
    sts = reshaped(sts, [&](Shape s) {
      s.erase(s.begin() + static_cast<long>(d));
      return s;
    });
    shape.erase(shape.begin() + static_cast<long>(d));
    reduced.erase(reduced.begin() + static_cast<long>(d));
  }
  // Neighbours of one kind become one loop when every leaf reads them as one dimension: a
  // contiguous (64, 10) is one loop of 640, and its index expression a single variable.
  if (ch04::prod(shape) > 0) {
    for (size_t d = shape.size(); d-- > 1;) {
      if (reduced[d] != reduced[d - 1]) continue;
      auto merge = [&](Shape s) {
        s[d - 1] *= s[d];
        s.erase(s.begin() + static_cast<long>(d));
        return s;
      };
      std::vector<ShapeTracker> merged = reshaped(sts, merge);
      bool ok = true;
      for (size_t i = 0; i < sts.size(); ++i) ok = ok && merged[i].views.size() <= sts[i].views.size();
      if (!ok) continue;
      sts = std::move(merged);
      shape = merge(shape);
      reduced.erase(reduced.begin() + static_cast<long>(d));
    }
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    const LoopKind kind = reduced[d] ? LoopKind::kReduce : LoopKind::kGlobal;
    loops.push_back({fresh_name(kind), shape[d], kind});
    dims.push_back(loops.back().variable());
  }
}

std::string LoopKernel::fresh_name(LoopKind kind) {
  static const char* prefixes[] = {"gidx", "ridx", "up", "un"};
  const std::string prefix = prefixes[static_cast<int>(kind)];
  return prefix + std::to_string(counters_[prefix]++);
}

size_t LoopKernel::split(size_t l, int64_t amount, LoopKind kind) {
  if (l >= loops.size() || amount < 1) {
    throw std::invalid_argument("split: " + name + " has no loop " + std::to_string(l) + " to split by " +
                                std::to_string(amount) + " (" + describe() + ")");
  }
  const Loop old = loops[l];
  const int64_t outer_extent = (old.extent + amount - 1) / amount;
  const Loop inner{fresh_name(kind), amount, kind};
  const Expr replacement = outer_extent == 1 ? inner.variable()
                                             : Loop{old.var, outer_extent, old.kind}.variable() * amount + inner.variable();
  for (Expr& d : dims) d = substitute(d, old.var, replacement);
  for (Expr& g : guards) g = substitute(g, old.var, replacement);
  if (old.extent % amount != 0) guards.push_back(ch04::lt(replacement, ch04::num(old.extent)));
  size_t at = l + 1;
  if (outer_extent == 1) {
    loops.erase(loops.begin() + static_cast<long>(l));
    at = l;
  } else {
    loops[l].extent = outer_extent;
  }
  if (!is_loop(kind)) at = loops.size();
  loops.insert(loops.begin() + static_cast<long>(at), inner);
  return at;
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
