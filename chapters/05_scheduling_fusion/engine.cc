// Your engine: task ch05.5.
#include <stdexcept>

#include "ch05/runner.h"
#include "ch05/schedule.h"
#include "chapters/course.h"

namespace ch05 {

FusedEngine::FusedEngine(std::shared_ptr<KernelRunner> runner) : runner_(std::move(runner)) {
  if (!runner_) throw std::invalid_argument("FusedEngine: no KernelRunner given");
}

// TODO(ch05.5): realize outs through the schedule. For each kernel, in order: a new Buffer of
// buffers[0]'s dtype and element count; the runner on it and the buffers of buffers[1..]
// (realized by now); one more ch04::stats().kernels; set_realized on buffers[0]. An output
// with no elements gets its (empty) Buffer, but no kernel runs.
void FusedEngine::realize(const std::vector<ch04::LazyRef>& outs) {
  throw course::NotImplemented("ch05.5: FusedEngine::realize");
}

}  // namespace ch05
