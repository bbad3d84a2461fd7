// Your scheduler: tasks ch05.1 (realize_points), ch05.2 (lower) and ch05.3 (create_schedule).
// schedule.h states the rules; README.md walks through them with pictures.
#include "ch05/schedule.h"

#include <stdexcept>

#include "chapters/course.h"

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

// TODO(ch05.1): the realize points before lowering.
//  1. Walk the graph below outs: from each out's base that is not realized, through the
//     sources' bases that still need computing (not realized, not CONST). Remember, for each
//     node, who reads it and through what: the LazyRef in the consumer's srcs() is either the
//     node itself or a view of it (is_view(), st()).
//  2. Apply the rules of schedule.h to every node: outputs and CONTIGUOUS; a read through a
//     view that reads some element twice (an axis with stride 0 and more than one valid
//     position, in any View of the st; or more valid positions in the top View than the node
//     has elements); a padded read (a View with a mask) of a node that is, or reads anything
//     still to compute that is, EXP2, LOG2, RECIP or DIV; a reduce read through a view that
//     is not contiguous, or by two different consumers.
NodeSet realize_points(const std::vector<LazyRef>& outs) {
  throw course::NotImplemented("ch05.1: realize_points");
}

// TODO(ch05.2): one kernel.
//  1. The reduces of the region the kernel computes (breadth first from root, through sources
//     that are neither realized, CONST, nor points): more than one refuses the last one found;
//     one of another element count than root refuses it.
//  2. The full shape is the reduce's input shape (root's shape without a reduce); the STORE
//     writes the output shape (the reduce's, or root's) through ShapeTracker::contiguous.
//  3. Walk down from root with the ShapeTracker each node is read at (start: the STORE's).
//     A source read through a view is read at compose(view's st, st). A realized node or a
//     point other than root is a LOAD (one buffer index per node, in order of first use); a
//     CONST is a CONST leaf; an elementwise op a kAlu node; CONTIGUOUS (only ever a root) is
//     its source. The reduce: if the st it is read at is not contiguous of its own shape,
//     refuse it; else a kReduce node whose source is read at the contiguous full shape.
//     Leaves above the reduce are read at the output shape: expand their st to the full shape.
//  4. Remember (node, st) pairs you built, so that a node read twice the same way is one
//     tree node.
Lowered lower(const LazyRef& root, const NodeSet& points) {
  throw course::NotImplemented("ch05.2: lower");
}

// TODO(ch05.3): all the kernels, producers first.
//  Take the points of realize_points, lower each (in an order where sources come before the
//  nodes that read them: the walk of ch05.1 gives one), and when lower refuses a reduce, add it
//  to the points and start again. A refused node that is a point already means lower is wrong:
//  throw std::logic_error rather than loop forever.
std::vector<Kernel> create_schedule(const std::vector<LazyRef>& outs) {
  throw course::NotImplemented("ch05.3: create_schedule");
}

int count_kernels(const std::vector<LazyRef>& outs) { return static_cast<int>(create_schedule(outs).size()); }

}  // namespace ch05
