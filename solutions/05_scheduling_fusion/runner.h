// Running kernels. A KernelRunner runs one kernel on buffers; the FusedEngine is the ch04::Engine
// that realize() uses once chapter 5 is installed: it schedules, allocates each kernel's output,
// runs the kernels in order through its runner, and marks each realized node.
//
//   ch04::ScopedEngine fused(std::make_shared<FusedEngine>());   // InterpretedRunner inside
//   ch04::Tensor y = ((a + b) * c).exp();
//   ch04::stats() = {};
//   y.realize();
//   ch04::stats().kernels   // 1 (chapter 4's Interpreter ran 4: ADD, MUL, MUL, EXP2)
//   ch04::stats().bytes     // 1024: y's buffer only; a fused chain writes no intermediates
//
// Chapter 6's CpuRunner and chapter 8's CudaRunner are KernelRunners too:
// FusedEngine(std::make_shared<ch06::CpuRunner>()) compiles instead of interpreting.
//
// The InterpretedRunner walks the kernel's tree a row at a time: for each position of the
// output's outer axes it evaluates every node over the whole innermost axis (a row) into a
// small scratch array, so the cost of walking the tree is paid once per row, not per element.
// Rows are shared among OpenMP threads; each output is computed by one thread in a fixed
// order, so results do not depend on the thread count.
#ifndef CH05_RUNNER_H_
#define CH05_RUNNER_H_

#include <memory>
#include <string>
#include <vector>

#include "ch04/lazy.h"
#include "ch04/realize.h"
#include "ch05/kernel.h"

namespace ch05 {

class KernelRunner {
 public:
  virtual ~KernelRunner() = default;
  virtual std::string name() const = 0;
  // Runs one kernel. bufs[i] is Kernel::buffers[i]'s Buffer: bufs[0] freshly allocated (its
  // contents undefined) and written whole, the others read.
  virtual void run(const Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) = 0;
};

// ch05.4: the kernel tree, evaluated row by row (float32 kernels in float, float64 in double).
// Throws std::invalid_argument for a malformed kernel (verify) or buffers that do not match
// it (count, dtype, size), naming the kernel.
class InterpretedRunner : public KernelRunner {
 public:
  std::string name() const override { return "InterpretedRunner"; }
  void run(const Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) override;
};

// ch05.5: realize = create_schedule, then for each kernel in order: a new Buffer for
// buffers[0], the runner on it (skipped when the output has no elements), one count in
// ch04::stats().kernels, and set_realized on the node, so nothing is computed twice.
class FusedEngine : public ch04::Engine {
 public:
  explicit FusedEngine(std::shared_ptr<KernelRunner> runner = std::make_shared<InterpretedRunner>());
  std::string name() const override { return "FusedEngine(" + runner_->name() + ")"; }
  void realize(const std::vector<ch04::LazyRef>& outs) override;
  KernelRunner& runner() { return *runner_; }

 private:
  std::shared_ptr<KernelRunner> runner_;
};

}  // namespace ch05

#endif  // CH05_RUNNER_H_
