// The scheduler: from the lazy graph to a list of kernels. It decides which nodes become
// buffers (realize points), fuses everything else into the kernels that need it, and orders
// the kernels so that each runs after the kernels whose buffers it reads.
//
//   Tensor a, b, c ...;                           // (16, 16) each, loaded
//   Tensor y = ((a + b) * c).exp();               // ADD, MUL, MUL (by 1/ln 2), EXP2: 4 lazy ops
//   std::vector<Kernel> ks = create_schedule({y.lazy()});
//   ks.size()                                     // 1: E_16_16, three loads, one store
//   Tensor s = x - x.mean({1}, true);             // the mean is read broadcast...
//   create_schedule({s.lazy()}).size()            // 2: ...so it is realized: r_..., then E_...
//
// The rules (tinygrad v0.9's, as tinyref applies them; counts must equal tinyref's):
//   a base becomes a realize point, computed by its own kernel into its own buffer, when
//   - it is an output (a base of outs not realized yet), or a CONTIGUOUS;
//   - some consumer reads it through an expanding view (stride 0 on an axis longer than 1, or
//     more elements read than it has): fusing would recompute it for every copy;
//   - some consumer reads it through a padding view and padding it is unsafe: it or an
//     unrealized compute node below it has f(0) != 0 (EXP2, LOG2, RECIP, DIV), so the zeros
//     padding adds would not stay zeros;
//   - it is a reduce read through a view that is not contiguous (a permute, a shrink, ...), or
//     read by two different consumers (fused, it would be computed twice);
//   and, found while lowering (each one costs a second pass):
//   - it is a reduce and the kernel that would contain it already has one (one reduce per
//     kernel; the one farther from the kernel's root is realized), or the kernel reads it in
//     other coordinates than its own (through a view above it, e.g. a permuted consumer).
//   Everything else (elementwise chains, consts, views) fuses into the kernels that read it;
//   an elementwise node read by two kernels is computed in both.
#ifndef CH05_SCHEDULE_H_
#define CH05_SCHEDULE_H_

#include <optional>
#include <unordered_set>
#include <vector>

#include "ch04/lazy.h"
#include "ch05/kernel.h"

namespace ch05 {

using NodeSet = std::unordered_set<const ch04::LazyBuffer*>;

// ch05.1: the bases the rules above make realize points before lowering: outputs, CONTIGUOUS,
// expanded reads, unsafe padded reads, reshuffled or shared reduces. Only unrealized bases
// below outs; never a realized one or a CONST (except an output that is a CONST).
NodeSet realize_points(const std::vector<ch04::LazyRef>& outs);

// The result of lowering one realize point: its kernel, or a reduce the kernel cannot hold,
// which must become a realize point first.
struct Lowered {
  std::optional<Kernel> kernel;
  const ch04::LazyBuffer* must_realize = nullptr;
};

// ch05.2: the kernel that computes `root` (a base in `points`) into buffers[0]: walk from
// root through the sources, composing each view on the way, until a realized base or a realize
// point (a LOAD) or a CONST (a CONST leaf); elementwise ops become kAlu nodes, the reduce a
// kReduce node. A node reached twice through the same view is one node of the tree.
Lowered lower(const ch04::LazyRef& root, const NodeSet& points);

// ch05.3: every kernel that realizing outs needs, each after the kernels it reads from.
// Realized outs need none. Calls realize_points, then lowers each point, adding the reduces
// lowering refuses to the points until every point lowers.
std::vector<Kernel> create_schedule(const std::vector<ch04::LazyRef>& outs);

// create_schedule(outs).size(): nothing runs.
int count_kernels(const std::vector<ch04::LazyRef>& outs);

// The ShapeTracker that reads through `outer` and then through `inner`: outer's positions are
// row-major indices into inner's shape (both have inner.numel() elements). Lowering composes
// the view a consumer reads a node through with the views that node reads its own sources
// through. Given.
ch04::ShapeTracker compose(const ch04::ShapeTracker& inner, const ch04::ShapeTracker& outer);

}  // namespace ch05

#endif  // CH05_SCHEDULE_H_
