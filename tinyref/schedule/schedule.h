// From the lazy graph to a list of kernels. Each ScheduleItem is one kernel: an AST of ops
// whose leaves read buffers (BUFFER) or constants (CONST) through ShapeTrackers, under a STORE
// root that writes bufs[0].
//
//   std::vector<ScheduleItem> items = create_schedule({y});  // pure: nothing runs yet
//   items.size()                                             // the kernel count tests assert
//   print_ast(items[0].ast)                                   // STORE(SUM(MUL(BUFFER 1, BUFFER 2)))
//
// Fusion rules (after tinygrad v0.9's): elementwise chains fuse into whatever consumes them,
// including a reduce; a reduce fuses into its elementwise consumers when every path to them is
// a same-size reshape. A base is realized (cut into its own kernel) when
//   - it is an output, CONTIGUOUS or COPY;
//   - it is read through an expanding view (a broadcast should not recompute its producer);
//   - it is read through a padding view and f(0) != 0 for some op in it (exp, log, 1/x, /, %);
//   - it is a reduce read through anything but a same-size reshape, or by two consumers;
//   - it is a reduce and its consumer's kernel already has one (one reduce per kernel).
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

struct ScheduleItem {
  bool is_copy = false;    // a device-to-device copy of bufs[1] into bufs[0], not a kernel
  AstRef ast;
  // The base nodes whose buffers the kernel touches: bufs[0] is the one it realizes, the rest
  // are realized already or by an earlier item. The engine allocates bufs[0] when it runs.
  std::vector<LazyRef> bufs;
};

std::vector<ScheduleItem> create_schedule(const std::vector<LazyRef>& outs);

}  // namespace tinyref

#endif  // TINYREF_SCHEDULE_SCHEDULE_H_
