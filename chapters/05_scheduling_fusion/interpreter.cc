// Your kernel interpreter: task ch05.4. runner.h and README.md describe the row-at-a-time walk.
#include "ch05/runner.h"

#include "chapters/course.h"

namespace ch05 {

// TODO(ch05.4): run one kernel.
//  1. verify(kernel), and check the buffers: as many as kernel.buffers, the kernel's dtype,
//     bufs[0] of the output's element count, and every LOAD's views inside its buffer. A
//     mistake throws std::invalid_argument naming the kernel (kernel.name()).
//  2. Rows: the last axis of the full shape is a row. For every position of the other axes
//     that are not reduced (an output row), evaluate the nodes below the reduce over whole rows,
//     once per position of the reduced axes, and combine each into an accumulator row (SUM from
//     0, RMAX from -infinity; a reduced last axis folds the row into one value). Then evaluate
//     the nodes above the reduce over the output row (reading the reduced axes at 0) and store.
//  3. Evaluate each node once per row into a scratch array of its own: a LOAD's row is
//     base + i * stride for a single View (0 outside the mask), ShapeTracker::index lane by
//     lane for several; a CONST is its value (0 outside the mask); an op maps its sources' rows.
//  4. float32 kernels in float, float64 in double; rows shared among OpenMP threads.
void InterpretedRunner::run(const Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) {
  throw course::NotImplemented("ch05.4: InterpretedRunner::run");
}

}  // namespace ch05
