#include "tinyref/schedule/schedule.h"

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "tinyref/error.h"

namespace tinyref {

std::string cut_name(Cut cut) {
  switch (cut) {
    case Cut::kOutput: return "Output";
    case Cut::kContiguous: return "Contiguous";
    case Cut::kCopy: return "Copy";
    case Cut::kBroadcast: return "Broadcast";
    case Cut::kUnsafePad: return "UnsafePad";
    case Cut::kReduceReshaped: return "ReduceReshaped";
    case Cut::kReduceShared: return "ReduceShared";
    case Cut::kSecondReduce: return "SecondReduce";
    case Cut::kReduceSizeDiffers: return "ReduceSizeDiffers";
    case Cut::kReduceMoved: return "ReduceMoved";
  }
  return "?";
}

namespace {

// A node computed in some kernel (as opposed to data that exists or a constant).
bool is_compute(LazyBuffer* b) { return !b->realized() && b->op() != Op::CONST; }

// Whether reading through st touches some element of a base of `numel` elements more than
// once: a broadcast (stride 0) or overlapping windows (more valid positions than elements).
bool rereads(const ShapeTracker& st, int64_t numel) {
  for (const View& v : st.views) {
    for (size_t d = 0; d < v.ndim(); ++d) {
      const int64_t extent = v.mask ? (*v.mask)[d].second - (*v.mask)[d].first : v.shape[d];
      if (v.strides[d] == 0 && extent > 1) return true;
    }
  }
  int64_t valid = 1;
  const View& top = st.views.back();
  for (size_t d = 0; d < top.ndim(); ++d) valid *= top.mask ? (*top.mask)[d].second - (*top.mask)[d].first : top.shape[d];
  return valid > numel;
}

// How a kernel that computes `b` at `st` (kernel coordinates -> b's elements) reads b's source
// `s`: through s's own view, composed with st. A reduce reads its source in the source's own
// coordinates: the kernel's loops grow the reduced axes back.
ShapeTracker source_read(LazyBuffer* b, const LazyRef& s, const ShapeTracker& st) {
  return s->st().compose(is_reduce(b->op()) ? ShapeTracker::from_shape(s->shape()) : st);
}

// A kernel's loops are one reduce's output coordinates (and its reduced axes), so a reduce must
// be read at exactly those coordinates: in place, unpermuted, unpadded.
bool reads_in_place(const ShapeTracker& st, LazyBuffer* reduce) {
  return st.contiguous() && st.shape() == reduce->shape();
}

struct CutAt {
  LazyBuffer* node;
  Cut why;
};

class Scheduler {
 public:
  explicit Scheduler(const std::vector<LazyRef>& outs) {
    // *** The graph: every node the outputs need, sources first, and who reads each, how.
    for (const LazyRef& o : outs) {
      LazyBuffer* b = o->base();
      if (b->realized()) continue;
      roots_.push_back(b);
      visit(b);
    }
    // *** Where kernels end, decided once for the whole graph before any kernel is built:
    // first the rules about how each node is read, then the rules about what one kernel may
    // hold, for each kernel, sources first.
    for (LazyBuffer* b : roots_) cut(b, Cut::kOutput);
    for (LazyBuffer* b : topo_) {
      if (std::optional<Cut> why = read_rule(b)) cut(b, *why);
    }
    for (LazyBuffer* b : topo_) {
      if (is_cut(b)) settle(b);
    }
  }

  // *** Kernels: one per cut node, each after the kernels whose buffers it reads. topo_ lists
  // sources first, but a constant that is an output stands where that output was visited,
  // possibly after another output's kernel that reads its buffer.
  std::vector<ScheduleItem> items() {
    std::unordered_map<LazyBuffer*, ScheduleItem> built;
    for (LazyBuffer* b : topo_) {
      if (is_cut(b)) built.emplace(b, build_item(b));
    }
    std::vector<ScheduleItem> out;
    std::unordered_set<LazyBuffer*> done;
    auto emit = [&](LazyBuffer* b, auto& self) -> void {
      if (!done.insert(b).second) return;
      for (const LazyRef& buf : built.at(b).bufs) {
        if (buf.get() != b && built.count(buf.get())) self(buf.get(), self);
      }
      out.push_back(std::move(built.at(b)));
    };
    for (LazyBuffer* b : topo_) {
      if (is_cut(b)) emit(b, emit);
    }
    return out;
  }

 private:
  struct Read {
    LazyBuffer* consumer;
    const LazyRef* src;  // how the consumer reads the node: a view, or the base itself
  };

  void visit(LazyBuffer* b) {
    if (!seen_.insert(b).second) return;
    for (const LazyRef& s : b->srcs()) {
      LazyBuffer* sb = s->base();
      if (!is_compute(sb)) continue;
      reads_[sb].push_back({b, &s});
      visit(sb);
    }
    topo_.push_back(b);  // sources first
  }

  void cut(LazyBuffer* b, Cut why) { cuts_.try_emplace(b, why); }  // the first rule is the reason
  bool is_cut(LazyBuffer* b) const { return cuts_.count(b) != 0; }

  // Whether b, or any op it is computed from, gives f(0) != 0 (kUnsafePad in ops.def).
  bool unsafe_to_pad(LazyBuffer* b) {
    if (auto it = unsafe_.find(b); it != unsafe_.end()) return it->second;
    bool u = op_has(b->op(), kUnsafePad);
    for (const LazyRef& s : b->srcs()) {
      if (is_compute(s->base())) u = u || unsafe_to_pad(s->base());
    }
    return unsafe_[b] = u;
  }

  // --- Rules about how a node is read: why its consumers cannot compute it themselves.
  std::optional<Cut> read_rule(LazyBuffer* b) {
    // CONTIGUOUS promises a row-major buffer; COPY moves a buffer between devices.
    if (b->op() == Op::CONTIGUOUS) return Cut::kContiguous;
    if (b->op() == Op::COPY) return Cut::kCopy;
    std::set<LazyBuffer*> consumers;
    for (const Read& r : reads_[b]) {
      consumers.insert(r.consumer);
      const LazyRef& s = *r.src;
      if (!s->is_view()) continue;
      // A broadcast (or overlapping windows) would compute b again for every copy it reads.
      if (rereads(s->st(), b->numel())) return Cut::kBroadcast;
      // Padding reads 0 where b has no element; fused, the kernel would compute f(0) there.
      if (s->st().has_mask() && unsafe_to_pad(b)) return Cut::kUnsafePad;
      // A kernel computes a reduce at its own output coordinates only (reads_in_place).
      if (is_reduce(b->op()) && !s->st().contiguous()) return Cut::kReduceReshaped;
    }
    // Two kernels reading it would each compute the whole reduction again.
    if (is_reduce(b->op()) && consumers.size() > 1) return Cut::kReduceShared;
    return std::nullopt;
  }

  // --- Rules about what one kernel may hold.

  // Whether `b` is computed in the kernel that writes `root` (rather than read from a buffer).
  bool in_kernel(LazyBuffer* b, LazyBuffer* root) const { return b == root || (is_compute(b) && !is_cut(b)); }

  // The reduces the kernel rooted at `root` computes, nearest the output first (breadth first).
  std::vector<LazyBuffer*> reduces_in(LazyBuffer* root) const {
    std::vector<LazyBuffer*> found, queue = {root};
    std::unordered_set<LazyBuffer*> seen = {root};
    for (size_t i = 0; i < queue.size(); ++i) {
      LazyBuffer* b = queue[i];
      if (is_reduce(b->op())) found.push_back(b);
      for (const LazyRef& s : b->srcs()) {
        LazyBuffer* sb = s->base();
        if (in_kernel(sb, root) && seen.insert(sb).second) queue.push_back(sb);
      }
    }
    return found;
  }

  // Whether every path from `root` down to `reduce` reads it in place (reads_in_place), with
  // the kernel's coordinates being the reduce's output coordinates.
  bool read_in_place_everywhere(LazyBuffer* root, LazyBuffer* reduce) const {
    std::set<std::pair<uint64_t, std::string>> seen;  // (node, view): each path shape once
    std::vector<std::pair<LazyBuffer*, ShapeTracker>> todo = {{root, ShapeTracker::from_shape(reduce->shape())}};
    while (!todo.empty()) {
      auto [b, st] = std::move(todo.back());
      todo.pop_back();
      if (b == reduce) {
        if (!reads_in_place(st, reduce)) return false;
      } else if (in_kernel(b, root) && seen.insert({b->id(), st.to_string()}).second) {
        for (const LazyRef& s : b->srcs()) todo.emplace_back(s->base(), source_read(b, s, st));
      }
    }
    return true;
  }

  // The first node the kernel rooted at `root` must not compute itself, if any.
  std::optional<CutAt> kernel_rule(LazyBuffer* root) const {
    if (root->op() == Op::COPY) return std::nullopt;  // a copy, not a kernel
    const std::vector<LazyBuffer*> reduces = reduces_in(root);
    // One reduce per kernel: its loops are one reduce's. The farthest goes first, so the
    // kernel keeps the reduce nearest its output.
    if (reduces.size() > 1) return CutAt{reduces.back(), Cut::kSecondReduce};
    if (reduces.empty() || reduces[0] == root) return std::nullopt;
    LazyBuffer* r = reduces[0];
    // The kernel stores one element per output of its reduce: a consumer of another size (a
    // shrink of it, say) cannot be stored from those loops.
    if (r->numel() != root->numel()) return CutAt{r, Cut::kReduceSizeDiffers};
    // A permute or pad after elementwise ops still needs the reduce at other coordinates.
    if (!read_in_place_everywhere(root, r)) return CutAt{r, Cut::kReduceMoved};
    return std::nullopt;
  }

  // Applies the kernel rules to the kernel rooted at `root` until none fires. A cut node is a
  // new kernel upstream (earlier in topo_), checked at once since it may break a rule itself;
  // then `root` is checked again, its kernel being smaller now. Kernels checked before stay
  // valid: a cut only ever shrinks a kernel.
  void settle(LazyBuffer* root) {
    std::vector<LazyBuffer*> pending = {root};
    while (!pending.empty()) {
      if (std::optional<CutAt> c = kernel_rule(pending.back())) {
        cut(c->node, c->why);
        pending.push_back(c->node);
      } else {
        pending.pop_back();
      }
    }
  }

  // --- Building one kernel's AST, once every cut is known.

  struct KernelBuilder {
    LazyBuffer* root = nullptr;
    std::vector<LazyRef> bufs;
    std::unordered_map<LazyBuffer*, int> buf_index;
    std::map<std::pair<uint64_t, std::string>, AstRef> memo;
  };

  static int buffer_index(KernelBuilder& kb, LazyBuffer* b) {
    auto [it, inserted] = kb.buf_index.try_emplace(b, static_cast<int>(kb.bufs.size()));
    if (inserted) kb.bufs.push_back(b->base_ref());
    return it->second;
  }

  static AstRef leaf(Op op, LazyBuffer* b, const ShapeTracker& st, int buf) {
    AstNode n;
    n.op = op;
    n.dtype = b->dtype();
    n.buf = buf;
    n.value = op == Op::CONST ? b->arg().value : 0;
    n.st = st;
    return std::make_shared<const AstNode>(std::move(n));
  }

  // The AST that computes b at st, reading cut nodes and realized data as buffers.
  AstRef compute(KernelBuilder& kb, LazyBuffer* b, const ShapeTracker& st) {
    if (b != kb.root && (b->realized() || is_cut(b))) return leaf(Op::BUFFER, b, st, buffer_index(kb, b));
    if (b->op() == Op::CONST) return leaf(Op::CONST, b, st, -1);
    auto key = std::make_pair(b->id(), st.to_string());
    if (auto it = kb.memo.find(key); it != kb.memo.end()) return it->second;
    AstRef out;
    if (b->op() == Op::CONTIGUOUS) {
      out = compute(kb, b->srcs()[0]->base(), source_read(b, b->srcs()[0], st));
    } else {
      TT_ASSERT(is_elementwise(b->op()) || is_reduce(b->op()));
      TT_ASSERT(!is_reduce(b->op()) || reads_in_place(st, b));  // the kernel rules saw to it
      AstNode n;
      n.op = b->op();
      n.dtype = b->dtype();
      if (is_reduce(b->op())) {
        for (int64_t ax : b->arg().ints) n.axes.push_back(static_cast<int>(ax));
      }
      for (const LazyRef& s : b->srcs()) n.src.push_back(compute(kb, s->base(), source_read(b, s, st)));
      out = std::make_shared<const AstNode>(std::move(n));
    }
    kb.memo[key] = out;
    return out;
  }

  ScheduleItem build_item(LazyBuffer* root) {
    KernelBuilder kb;
    kb.root = root;
    buffer_index(kb, root);
    ScheduleItem item;
    item.cut = cuts_.at(root);
    if (root->op() == Op::COPY) {
      item.is_copy = true;
      buffer_index(kb, root->srcs()[0]->base());
    } else {
      // The kernel's coordinates are its reduce's outputs (same count as root's elements).
      const std::vector<LazyBuffer*> reduces = reduces_in(root);
      const ShapeTracker st = ShapeTracker::from_shape(reduces.empty() ? root->shape() : reduces[0]->shape());
      AstNode store;
      store.op = Op::STORE;
      store.dtype = root->dtype();
      store.buf = 0;
      store.st = st;
      store.src.push_back(compute(kb, root, st));
      item.ast = std::make_shared<const AstNode>(std::move(store));
    }
    item.bufs = std::move(kb.bufs);
    return item;
  }

  std::vector<LazyBuffer*> roots_, topo_;
  std::unordered_set<LazyBuffer*> seen_;
  std::unordered_map<LazyBuffer*, std::vector<Read>> reads_;
  std::unordered_map<LazyBuffer*, Cut> cuts_;
  std::unordered_map<LazyBuffer*, bool> unsafe_;
};

}  // namespace

std::vector<ScheduleItem> create_schedule(const std::vector<LazyRef>& outs) {
  return Scheduler(outs).items();
}

}  // namespace tinyref
