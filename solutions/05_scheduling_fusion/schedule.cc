#include "ch05/schedule.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace ch05 {

using ch04::LazyBuffer;
using ch04::LazyRef;
using ch04::Op;
using ch04::ShapeTracker;
using ch04::View;

// Given: reading through `outer`, then through `inner`.
ShapeTracker compose(const ShapeTracker& inner, const ShapeTracker& outer) {
  // outer reads in plain row-major order: inner, seen in outer's shape.
  if (outer.is_contiguous()) return inner.reshape(outer.shape());
  // inner is the buffer as it lies: outer's positions are buffer positions already.
  if (inner.is_contiguous()) return outer;
  // Otherwise stack them: outer's bottom view indexes the row-major order of inner's top view.
  ShapeTracker both = inner;
  both.views.insert(both.views.end(), outer.views.begin(), outer.views.end());
  return both;
}

namespace {

bool is_reduce(Op op) { return op == Op::SUM || op == Op::RMAX; }

bool has_mask(const ShapeTracker& st) {
  return std::any_of(st.views.begin(), st.views.end(), [](const View& v) { return v.mask.has_value(); });
}

// Values known without computing anything: an unrealized CONST, and an elementwise op whose
// sources are all such values read without padding. tinyref (like tinygrad) folds the latter
// into a CONST as it builds them (2 * 3 is 6 before any scheduler sees it); chapter 4 keeps the
// op, so the scheduler treats it as the constant it is: never a realize point unless it is an
// output, recomputed inside every kernel that reads it.
class Constants {
 public:
  bool operator()(const LazyBuffer* b) {
    if (b->realized() || !(b->op() == Op::CONST || ch04::is_elementwise(b->op()))) return false;
    if (b->op() == Op::CONST) return true;
    if (auto it = known_.find(b); it != known_.end()) return it->second;
    bool constant = true;
    for (const LazyRef& s : b->srcs()) constant = constant && !has_mask(s->st()) && (*this)(s->base().get());
    return known_[b] = constant;
  }
  // A node some kernel must compute: neither data that exists nor a constant.
  bool computed(const LazyBuffer* b) { return !b->realized() && !(*this)(b); }

 private:
  std::unordered_map<const LazyBuffer*, bool> known_;
};

// The part of the graph below outs that still has to be computed.
struct Graph {
  struct Read {
    const LazyBuffer* consumer;
    const LazyRef* src;  // what the consumer holds: the node itself or a view of it
  };
  std::vector<LazyBuffer*> roots;  // the unrealized bases of outs
  std::vector<LazyBuffer*> order;  // every node to compute, each after its sources
  std::unordered_map<const LazyBuffer*, std::vector<Read>> reads;  // node -> who reads it, how
  Constants constants;

  explicit Graph(const std::vector<LazyRef>& outs) {
    for (const LazyRef& o : outs) {
      LazyBuffer* b = o->base().get();
      if (b->realized()) continue;
      roots.push_back(b);
      visit(b);
    }
  }

 private:
  void visit(LazyBuffer* b) {
    if (!seen_.insert(b).second) return;
    for (const LazyRef& s : b->srcs()) {
      LazyBuffer* src = s->base().get();
      if (!constants.computed(src)) continue;
      reads[src].push_back({b, &s});
      visit(src);
    }
    order.push_back(b);
  }
  NodeSet seen_;
};

// How many positions of axis d of v can be valid.
int64_t valid_extent(const View& v, size_t d) {
  return v.mask ? (*v.mask)[d].second - (*v.mask)[d].first : v.shape[d];
}

// Reading a node of `numel` elements through st touches some element twice: an axis of stride
// 0 that is longer than 1 (a broadcast), or more valid positions than there are elements.
bool reads_twice(const ShapeTracker& st, int64_t numel) {
  int64_t positions = 1;
  for (const View& v : st.views) {
    positions = 1;
    for (size_t d = 0; d < v.ndim(); ++d) {
      if (v.strides[d] == 0 && valid_extent(v, d) > 1) return true;
      positions *= valid_extent(v, d);
    }
  }
  return positions > numel;
}

// Ops whose value at 0 is not 0: padding after them would not read as zeros.
bool nonzero_at_zero(Op op) { return op == Op::EXP2 || op == Op::LOG2 || op == Op::RECIP || op == Op::DIV; }

// Whether b, or any node below it that is still to be computed, is such an op.
bool unsafe_to_pad(const LazyBuffer* b, Constants& constants, std::unordered_map<const LazyBuffer*, bool>& memo) {
  if (auto it = memo.find(b); it != memo.end()) return it->second;
  bool unsafe = nonzero_at_zero(b->op());
  for (const LazyRef& s : b->srcs()) {
    if (constants.computed(s->base().get())) unsafe = unsafe_to_pad(s->base().get(), constants, memo) || unsafe;
  }
  return memo[b] = unsafe;
}

}  // namespace

NodeSet realize_points(const std::vector<LazyRef>& outs) {
  Graph g(outs);
  NodeSet points(g.roots.begin(), g.roots.end());
  std::unordered_map<const LazyBuffer*, bool> unsafe;
  for (const LazyBuffer* b : g.order) {
    if (b->op() == Op::CONTIGUOUS) points.insert(b);
    auto reads = g.reads.find(b);
    if (reads == g.reads.end()) continue;
    NodeSet consumers;
    for (const Graph::Read& r : reads->second) {
      consumers.insert(r.consumer);
      const LazyRef& view = *r.src;
      if (!view->is_view()) continue;
      const ShapeTracker& st = view->st();
      const bool broadcast = reads_twice(st, b->numel());
      const bool bad_pad = has_mask(st) && unsafe_to_pad(b, g.constants, unsafe);
      const bool reshuffled_reduce = is_reduce(b->op()) && !st.is_contiguous();
      if (broadcast || bad_pad || reshuffled_reduce) points.insert(b);
    }
    if (is_reduce(b->op()) && consumers.size() > 1) points.insert(b);
  }
  return points;
}

namespace {

// Builds one kernel's tree: see lower().
class Lowering {
 public:
  Lowering(const LazyRef& root, const NodeSet& points) : root_(root.get()), points_(points) {
    kernel_.buffers.push_back(root);
  }

  Lowered run() {
    // At most one reduce per kernel: if the fused region has more, the farthest goes first.
    std::vector<const LazyBuffer*> reduces = reduces_in_region();
    if (reduces.size() > 1) return refuse(reduces.back());
    ch04::Shape out = root_->shape();
    kernel_.shape = out;
    if (!reduces.empty()) {
      reduce_ = reduces[0];
      if (reduce_->numel() != root_->numel()) return refuse(reduce_);
      out = reduce_->shape();
      kernel_.shape = reduce_->srcs()[0]->shape();
    }
    const ShapeTracker out_st = ShapeTracker::contiguous(out);
    NodeRef value = build(root_, out_st, false);
    if (refused_ != nullptr) return refuse(refused_);
    kernel_.ast = store(value, out_st);
    return {std::move(kernel_), nullptr};
  }

 private:
  Lowered refuse(const LazyBuffer* reduce) { return {std::nullopt, reduce}; }

  bool is_leaf(const LazyBuffer* b) const { return b != root_ && (b->realized() || points_.count(b)); }

  // The reduces this kernel would compute, nearest to the root first (breadth first).
  std::vector<const LazyBuffer*> reduces_in_region() {
    std::vector<const LazyBuffer*> queue = {root_}, found;
    NodeSet seen = {root_};
    for (size_t i = 0; i < queue.size(); ++i) {
      if (is_reduce(queue[i]->op())) found.push_back(queue[i]);
      for (const LazyRef& s : queue[i]->srcs()) {
        const LazyBuffer* b = s->base().get();
        if (constants_.computed(b) && !points_.count(b) && seen.insert(b).second) queue.push_back(b);
      }
    }
    return found;
  }

  int buffer_index(LazyBuffer* b) {
    auto [it, added] = buffer_of_.try_emplace(b, static_cast<int>(kernel_.buffers.size()));
    if (added) kernel_.buffers.push_back(b->base());
    return it->second;
  }

  // The value of b at the kernel position st reads it at. Above the reduce, st has the output
  // shape and a leaf's st is expanded to the full shape; below it, st has the full shape.
  NodeRef build(LazyBuffer* b, const ShapeTracker& st, bool below_reduce) {
    const auto key = std::make_tuple(b, st.str(), below_reduce);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    NodeRef out;
    const ShapeTracker full = below_reduce || !reduce_ ? st : st.expand(kernel_.shape);
    if (is_leaf(b)) {
      out = load(buffer_index(b), b->dtype(), full);
    } else if (b->op() == Op::CONST) {
      out = constant(b->arg().value, b->dtype(), full);
    } else if (b->op() == Op::CONTIGUOUS) {
      const LazyRef& s = b->srcs()[0];
      out = build(s->base().get(), compose(s->st(), st), below_reduce);
    } else if (ch04::is_elementwise(b->op())) {
      std::vector<NodeRef> src;
      for (const LazyRef& s : b->srcs()) src.push_back(build(s->base().get(), compose(s->st(), st), below_reduce));
      out = alu(b->op(), std::move(src));
    } else if (is_reduce(b->op())) {
      // The kernel's coordinates are this reduce's own: any other view above it is refused.
      if (!st.is_contiguous() || st.shape() != b->shape()) {
        refused_ = b;
        return constant(0, b->dtype(), full);  // a placeholder: the kernel is thrown away
      }
      const LazyRef& s = b->srcs()[0];
      std::vector<int> axes(b->arg().ints.begin(), b->arg().ints.end());
      std::sort(axes.begin(), axes.end());
      axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
      out = reduce(b->op(), build(s->base().get(), compose(s->st(), ShapeTracker::contiguous(kernel_.shape)), true),
                   std::move(axes));
    } else {
      throw std::logic_error(std::string("lower: unexpected ") + ch04::op_name(b->op()) + " node in a kernel");
    }
    return memo_[key] = out;
  }

  LazyBuffer* root_;
  const NodeSet& points_;
  Kernel kernel_;
  const LazyBuffer* reduce_ = nullptr;
  const LazyBuffer* refused_ = nullptr;
  Constants constants_;
  std::map<const LazyBuffer*, int> buffer_of_;
  std::map<std::tuple<const LazyBuffer*, std::string, bool>, NodeRef> memo_;
};

}  // namespace

Lowered lower(const LazyRef& root, const NodeSet& points) {
  if (root->is_view() || root->realized()) {
    throw std::invalid_argument("lower: the root must be an unrealized base, got " +
                                std::string(root->is_view() ? "a view" : "a realized node"));
  }
  return Lowering(root, points).run();
}

std::vector<Kernel> create_schedule(const std::vector<LazyRef>& outs) {
  const Graph g(outs);
  NodeSet points = realize_points(outs);
  for (;;) {
    std::vector<Kernel> kernels;
    const LazyBuffer* refused = nullptr;
    for (LazyBuffer* b : g.order) {
      if (!points.count(b)) continue;
      Lowered l = lower(b->base(), points);
      if (l.must_realize != nullptr) {
        refused = l.must_realize;
        break;
      }
      kernels.push_back(std::move(*l.kernel));
    }
    if (refused == nullptr) return kernels;  // g.order puts sources first: so do the kernels
    // Lower everything again with the refused reduce as a point. Refusing a point cannot be
    // fixed by realizing it: say so, rather than loop forever.
    if (!points.insert(refused).second) {
      throw std::logic_error(std::string("create_schedule: lower refused a ") + ch04::op_name(refused->op()) +
                             " that is a realize point already");
    }
  }
}

int count_kernels(const std::vector<LazyRef>& outs) { return static_cast<int>(create_schedule(outs).size()); }

}  // namespace ch05
