// The FusedEngine: realize() through the scheduler and a KernelRunner.
#include <stdexcept>
#include <string>

#include "ch05/runner.h"
#include "ch05/schedule.h"

namespace ch05 {

FusedEngine::FusedEngine(std::shared_ptr<KernelRunner> runner) : runner_(std::move(runner)) {
  if (!runner_) throw std::invalid_argument("FusedEngine: no KernelRunner given");
}

void FusedEngine::realize(const std::vector<ch04::LazyRef>& outs) {
  for (const Kernel& k : create_schedule(outs)) {
    ch04::LazyBuffer& out = *k.buffers[0];
    auto buf = std::make_shared<ch04::Buffer>(out.dtype(), out.numel());
    std::vector<ch04::Buffer*> bufs = {buf.get()};
    for (size_t i = 1; i < k.buffers.size(); ++i) {
      ch04::Buffer* in = k.buffers[i]->buffer().get();
      if (in == nullptr) {  // the schedule's order is wrong: a bug, not a user's mistake
        throw std::logic_error("FusedEngine: kernel " + k.name() + " reads buffer " + std::to_string(i) +
                               ", which no earlier kernel wrote");
      }
      bufs.push_back(in);
    }
    if (out.numel() > 0) {
      runner_->run(k, bufs);
      ++ch04::stats().kernels;
    }
    out.set_realized(std::move(buf));  // forgets its sources: never computed again
  }
}

}  // namespace ch05
