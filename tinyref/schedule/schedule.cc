#include "tinyref/schedule/schedule.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "tinyref/error.h"

namespace tinyref {

namespace {

// Thrown while building an AST when a node turns out to need its own kernel; the scheduler adds
// it to the realize set and starts over.
struct NeedRealize {
  LazyBuffer* node;
};

AstNode ast_node(Op op, DType dtype) {
  AstNode n;
  n.op = op;
  n.dtype = dtype;
  return n;
}

// Whether reading through st touches some element of a base of `numel` elements more than
// once: a broadcast (stride 0) or overlapping windows (more valid positions than elements).
bool rereads(const ShapeTracker& st, int64_t numel) {
  int64_t valid = 1;
  for (const View& v : st.views) {
    for (size_t d = 0; d < v.ndim(); ++d) {
      const int64_t extent = v.mask ? (*v.mask)[d].second - (*v.mask)[d].first : v.shape[d];
      if (v.strides[d] == 0 && extent > 1) return true;
    }
  }
  const View& top = st.views.back();
  for (size_t d = 0; d < top.ndim(); ++d) valid *= top.mask ? (*top.mask)[d].second - (*top.mask)[d].first : top.shape[d];
  return valid > numel;
}

// A node computed in some kernel (as opposed to data that exists or a constant).
bool is_compute(LazyBuffer* b) { return !b->realized() && b->op() != Op::CONST; }

class Scheduler {
 public:
  explicit Scheduler(const std::vector<LazyRef>& outs) {
    for (const LazyRef& o : outs) {
      LazyBuffer* b = o->base();
      if (b->realized()) continue;
      roots_.push_back(b);
      visit(b);
    }
    for (LazyBuffer* b : roots_) realize_.insert(b);
    decide_realizes();
  }

  std::vector<ScheduleItem> run() {
    for (;;) {
      try {
        return build_items();
      } catch (const NeedRealize& nr) {
        TT_ASSERT(!realize_.count(nr.node));
        realize_.insert(nr.node);
      }
    }
  }

 private:
  struct Edge {
    LazyBuffer* consumer;
    const LazyRef* src;  // how the consumer reads the node: a view, or the base itself
  };

  void visit(LazyBuffer* b) {
    if (!seen_.insert(b).second) return;
    refs_[b] = b->base_ref();
    for (const LazyRef& s : b->srcs()) {
      LazyBuffer* sb = s->base();
      if (!is_compute(sb)) continue;
      edges_[sb].push_back({b, &s});
      visit(sb);
    }
    topo_.push_back(b);  // sources first
  }

  bool unsafe(LazyBuffer* b) {
    if (auto it = unsafe_.find(b); it != unsafe_.end()) return it->second;
    bool u = op_has(b->op(), kUnsafePad);
    for (const LazyRef& s : b->srcs()) {
      if (is_compute(s->base())) u = u || unsafe(s->base());
    }
    return unsafe_[b] = u;
  }

  void decide_realizes() {
    for (LazyBuffer* b : topo_) {
      if (b->op() == Op::CONTIGUOUS || b->op() == Op::COPY) realize_.insert(b);
      std::set<LazyBuffer*> consumers;
      for (const Edge& e : edges_[b]) {
        consumers.insert(e.consumer);
        const LazyRef& s = *e.src;
        if (!s->is_view()) continue;
        const ShapeTracker& st = s->st();
        if (rereads(st, b->numel())) realize_.insert(b);              // expanded: don't recompute
        if (st.has_mask() && unsafe(b)) realize_.insert(b);           // padded: f(0) must be 0
        if (is_reduce(b->op()) && !st.contiguous()) realize_.insert(b);  // reduce output reshuffled
      }
      if (is_reduce(b->op()) && consumers.size() > 1) realize_.insert(b);
    }
  }

  // --- building one kernel's AST

  struct KernelBuilder {
    LazyBuffer* root = nullptr;
    std::vector<LazyRef> bufs;
    std::unordered_map<LazyBuffer*, int> buf_index;
    std::map<std::pair<uint64_t, std::string>, AstRef> memo;
    std::vector<LazyBuffer*> deps;
  };

  int buffer_index(KernelBuilder& kb, LazyBuffer* b) {
    auto [it, inserted] = kb.buf_index.try_emplace(b, static_cast<int>(kb.bufs.size()));
    if (inserted) {
      kb.bufs.push_back(refs_.count(b) ? refs_[b] : b->base_ref());
      if (realize_.count(b)) kb.deps.push_back(b);
    }
    return it->second;
  }

  AstRef leaf_or_compute(KernelBuilder& kb, LazyBuffer* b, const ShapeTracker& st) {
    if (b != kb.root && (b->realized() || realize_.count(b))) {
      AstNode n = ast_node(Op::BUFFER, b->dtype());
      n.buf = buffer_index(kb, b);
      n.st = st;
      return std::make_shared<const AstNode>(std::move(n));
    }
    if (b->op() == Op::CONST) {
      AstNode n = ast_node(Op::CONST, b->dtype());
      n.value = b->arg().value;
      n.st = st;
      return std::make_shared<const AstNode>(std::move(n));
    }
    auto key = std::make_pair(b->id(), st.to_string());
    if (auto it = kb.memo.find(key); it != kb.memo.end()) return it->second;
    AstRef out;
    auto child = [&](const LazyRef& s, const ShapeTracker& outer) {
      return leaf_or_compute(kb, s->base(), s->st().compose(outer));
    };
    if (b->op() == Op::CONTIGUOUS) {
      out = child(b->srcs()[0], st);
    } else if (is_elementwise(b->op())) {
      AstNode n = ast_node(b->op(), b->dtype());
      for (const LazyRef& s : b->srcs()) n.src.push_back(child(s, st));
      out = std::make_shared<const AstNode>(std::move(n));
    } else if (is_reduce(b->op())) {
      // Kernel coordinates must be this reduce's output coordinates, unpermuted.
      if (!(st.contiguous() && st.shape() == b->shape())) throw NeedRealize{b};
      const LazyRef& s = b->srcs()[0];
      AstNode n = ast_node(b->op(), b->dtype());
      for (int64_t ax : b->arg().ints) n.axes.push_back(static_cast<int>(ax));
      n.src.push_back(child(s, ShapeTracker::from_shape(s->shape())));
      out = std::make_shared<const AstNode>(std::move(n));
    } else {
      TT_ASSERT(false && "unexpected op in a kernel");
    }
    kb.memo[key] = out;
    return out;
  }

  // The reduces a kernel rooted at `root` would contain, nearest first.
  std::vector<LazyBuffer*> reduces_in(LazyBuffer* root) {
    std::vector<LazyBuffer*> found, queue = {root};
    std::unordered_set<LazyBuffer*> seen = {root};
    for (size_t i = 0; i < queue.size(); ++i) {
      LazyBuffer* b = queue[i];
      if (is_reduce(b->op())) found.push_back(b);
      for (const LazyRef& s : b->srcs()) {
        LazyBuffer* sb = s->base();
        if (is_compute(sb) && !realize_.count(sb) && seen.insert(sb).second) queue.push_back(sb);
      }
    }
    return found;
  }

  std::vector<ScheduleItem> build_items() {
    std::vector<LazyBuffer*> order;
    for (LazyBuffer* b : topo_) {
      if (realize_.count(b)) order.push_back(b);
    }
    std::unordered_map<LazyBuffer*, ScheduleItem> items;
    std::unordered_map<LazyBuffer*, std::vector<LazyBuffer*>> deps;
    for (LazyBuffer* x : order) {
      KernelBuilder kb;
      kb.root = x;
      buffer_index(kb, x);
      ScheduleItem item;
      if (x->op() == Op::COPY) {
        item.is_copy = true;
        buffer_index(kb, x->srcs()[0]->base());
      } else {
        std::vector<LazyBuffer*> reds = reduces_in(x);
        if (reds.size() > 1) throw NeedRealize{reds.back()};  // one reduce per kernel
        Shape kshape = x->shape();
        if (reds.size() == 1) {
          if (reds[0]->numel() != x->numel()) throw NeedRealize{reds[0]};
          kshape = reds[0]->shape();
        }
        const ShapeTracker st = ShapeTracker::from_shape(kshape);
        AstNode store = ast_node(Op::STORE, x->dtype());
        store.buf = 0;
        store.st = st;
        store.src.push_back(leaf_or_compute(kb, x, st));
        item.ast = std::make_shared<const AstNode>(std::move(store));
      }
      item.bufs = kb.bufs;
      deps[x] = kb.deps;
      items[x] = std::move(item);
    }
    // Order kernels so each runs after the kernels it reads.
    std::vector<ScheduleItem> out;
    std::unordered_set<LazyBuffer*> done;
    std::function<void(LazyBuffer*)> emit = [&](LazyBuffer* x) {
      if (!done.insert(x).second) return;
      for (LazyBuffer* d : deps[x]) emit(d);
      out.push_back(items[x]);
    };
    for (LazyBuffer* x : order) emit(x);
    return out;
  }

  std::vector<LazyBuffer*> roots_, topo_;
  std::unordered_set<LazyBuffer*> seen_, realize_;
  std::unordered_map<LazyBuffer*, LazyRef> refs_;
  std::unordered_map<LazyBuffer*, std::vector<Edge>> edges_;
  std::unordered_map<LazyBuffer*, bool> unsafe_;
};

}  // namespace

std::vector<ScheduleItem> create_schedule(const std::vector<LazyRef>& outs) {
  return Scheduler(outs).run();
}

}  // namespace tinyref
