// The CPU backend: chapter 5's FusedEngine with compiled kernels instead of the interpreter.
//
//   ch04::ScopedEngine cpu(std::make_shared<ch05::FusedEngine>(std::make_shared<ch06::CpuRunner>()));
//   ch04::Tensor y = (x.matmul(w) + b).relu();
//   y.realize();       // one kernel: lowered, optimized, rendered, compiled (or cached), run
//
// Each kernel goes LoopKernel -> optimize -> linearize -> render_cpp -> Compiler::compile the
// first time this runner sees it; after that the compiled function is reused (a training step
// runs the same kernels every step).
//
// Debug output (on stderr), like tinygrad's DEBUG:
//   CH06_DEBUG=2   one line per kernel run: name, time, GFLOP/s, the optimizations
//   CH06_DEBUG=3   also each new kernel's loops and uops
//   CH06_DEBUG=4   also each new kernel's C++ source
#ifndef CH06_CPU_RUNNER_H_
#define CH06_CPU_RUNNER_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ch05/runner.h"
#include "ch06/compiler.h"
#include "ch06/optimize.h"
#include "ch06/uops.h"

namespace ch06 {

// One kernel, ready to run.
struct CompiledKernel {
  std::string loops;        // LoopKernel::describe() after optimizing
  Program program;
  std::string source;       // render_cpp(program)
  KernelFunction function;  // the compiled entry point
};

// A text that is equal for two kernels exactly when they compute the same thing: every node
// of the tree with its op, dtype, buffer, exact value and every View of its ShapeTracker.
// (ch05::to_string prints values rounded: two kernels differing in a constant's 7th digit
// would share one compiled function.)
std::string kernel_key(const ch05::Kernel& kernel);

class CpuRunner : public ch05::KernelRunner {
 public:
  explicit CpuRunner(OptimizeOptions options = {}, std::shared_ptr<Compiler> compiler = std::make_shared<Compiler>());

  std::string name() const override { return "CpuRunner(" + options_.str() + ")"; }

  // ch06.6: compile (or find) the kernel, check the buffers against it (count, dtypes, the
  // output's size: std::invalid_argument naming the kernel), and call it on their memory.
  void run(const ch05::Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) override;

  // ch06.6: the kernel lowered, optimized, rendered and compiled, once per kernel_key: a
  // second call with an equal kernel returns the same CompiledKernel without compiling.
  const CompiledKernel& compile(const ch05::Kernel& kernel);

  const OptimizeOptions& options() const { return options_; }
  Compiler& compiler() { return *compiler_; }
  int64_t kernels_compiled() const { return static_cast<int64_t>(cache_.size()); }

 private:
  OptimizeOptions options_;
  std::shared_ptr<Compiler> compiler_;
  int debug_ = 0;  // CH06_DEBUG, read once
  std::unordered_map<std::string, std::unique_ptr<CompiledKernel>> cache_;
};

}  // namespace ch06

#endif  // CH06_CPU_RUNNER_H_
