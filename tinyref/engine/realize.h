// Runs schedules: each kernel's AST becomes a Kernel, is optimized for its device, linearized
// to a Program, rendered and compiled (cached in memory by AST and buffer sizes), then launched
// on freshly allocated output buffers.
//
//   realize({y});                     // schedule + run everything y needs
//   auto items = create_schedule({y});
//   run_schedule(items);              // the same, in two steps
//   Program p = lower_item(items[0], get_device("CPU").codegen_options());
//   p.to_string()                     // its uops; p.src its C++
//
// The steps of lower_item, each one named (walkthrough_test.cc runs them one at a time):
//   Kernel k(item.ast, buffer_args(item));   codegen/kernel.h
//   optimize(k, options);                    codegen/optimizer.h
//   Program p = linearize(k);                codegen/linearizer.h
//   render(p, options.language);             codegen/renderer.h
//   device.compile(p), device.launch(...)    backends/device.h (run_schedule)
//
// TT_DEBUG=2 prints one line per kernel with its time, 3 adds the optimizations, 4 the source,
// 5 the AST. TT_VIZ=1 draws each schedule (schedule/viz.h).
#ifndef TINYREF_ENGINE_REALIZE_H_
#define TINYREF_ENGINE_REALIZE_H_

#include <memory>
#include <vector>

#include "tinyref/backends/device.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/uops.h"
#include "tinyref/lazy/lazybuffer.h"
#include "tinyref/schedule/schedule.h"

namespace tinyref {

void realize(const std::vector<LazyRef>& outs);
void run_schedule(const std::vector<ScheduleItem>& items);
Program lower_item(const ScheduleItem& item, const CodegenOptions& options);
// The last two steps for an optimized Kernel: linearized, and rendered in options.language.
Program lower_kernel(const Kernel& k, const CodegenOptions& options);
std::vector<BufferArg> buffer_args(const ScheduleItem& item);  // dtype and size of each buffer

// What run_schedule did, item by item, for engine/replay.h to capture. The buffers are held,
// so none of them can be freed (and its memory handed out again) while a recording is alive.
struct RecordedLaunch {
  enum Kind { kKernel, kCopy, kEmpty } kind = kKernel;  // kEmpty: a zero-size output, no launch
  std::shared_ptr<CompiledKernel> kernel;              // kKernel only
  std::vector<std::shared_ptr<Buffer>> bufs;           // the output first, as Device::launch
};
// While set (per thread), run_schedule appends every item it runs to *recorder. Returns the
// previous recorder, so a caller can restore it.
std::vector<RecordedLaunch>* set_launch_recorder(std::vector<RecordedLaunch>* recorder);

}  // namespace tinyref

#endif  // TINYREF_ENGINE_REALIZE_H_
