// From the lazy graph to a list of kernels. Each ScheduleItem is one kernel: an AST of ops
// whose leaves read buffers (BUFFER) or constants (CONST) through ShapeTrackers, under a STORE
// root that writes bufs[0].
//
//   std::vector<ScheduleItem> items = create_schedule({y});  // pure: nothing runs yet
//   items.size()                                             // the kernel count tests assert
//   print_ast(items[0].ast)                                   // STORE(SUM(MUL(BUFFER 1, BUFFER 2)))
//
// Fusion rules (after tinygrad v0.9's): elementwise chains fuse into whatever consumes them,
// including a reduce; a reduce fuses into its elementwise consumers when every path to them
// keeps its coordinates. The scheduler decides every kernel boundary first, by named rules (each
// realized node's rule is its item's `cut`), then builds each kernel's AST once:
//
//   where a node is read (looking at the node and its consumers):
//     kOutput, kContiguous, kCopy   it is an output, or CONTIGUOUS / COPY (they ask for a buffer)
//     kBroadcast        it is read through an expanding view (don't recompute it per copy)
//     kUnsafePad        it is read through padding and f(0) != 0 for some op in it (exp, log, /)
//     kReduceReshaped   it is a reduce read through anything but a same-size reshape
//     kReduceShared     it is a reduce read by two consumers
//   what one kernel may hold (looking at the kernel that would compute it):
//     kSecondReduce     a kernel already holds a reduce nearer its output (one reduce a kernel)
//     kReduceSizeDiffers  the kernel would store more or fewer elements than the reduce makes
//     kReduceMoved      the kernel reaches the reduce through ops whose views move its elements
//
//   create_schedule({(x - x.mean({1}, true))})  // 2 items: the mean (cut kBroadcast), the output
#ifndef TINYREF_SCHEDULE_SCHEDULE_H_
#define TINYREF_SCHEDULE_SCHEDULE_H_

#include <memory>
#include <string>
#include <vector>

#include "tinyref/lazy/lazybuffer.h"
#include "tinyref/schedule/ast.h"
#include "tinyref/ops.h"
#include "tinyref/shape/shapetracker.h"

namespace tinyref {

// Why a node was realized: the first fusion rule above that cut the graph there.
enum class Cut {
  kOutput, kContiguous, kCopy, kBroadcast, kUnsafePad, kReduceReshaped, kReduceShared,
  kSecondReduce, kReduceSizeDiffers, kReduceMoved,
};
// The rule's name without the k: "Broadcast", "SecondReduce", ...
std::string cut_name(Cut cut);

struct ScheduleItem {
  bool is_copy = false;    // a device-to-device copy of bufs[1] into bufs[0], not a kernel
  AstRef ast;
  // The base nodes whose buffers the kernel touches: bufs[0] is the one it realizes, the rest
  // are realized already or by an earlier item. The engine allocates bufs[0] when it runs.
  std::vector<LazyRef> bufs;
  Cut cut = Cut::kOutput;  // why bufs[0] is a buffer of its own
};

std::vector<ScheduleItem> create_schedule(const std::vector<LazyRef>& outs);

}  // namespace tinyref

#endif  // TINYREF_SCHEDULE_SCHEDULE_H_
