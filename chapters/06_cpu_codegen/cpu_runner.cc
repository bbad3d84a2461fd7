#include "ch06/cpu_runner.h"

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "ch06/linearize.h"
#include "ch06/render_cpp.h"
#include "chapters/course.h"

namespace ch06 {

namespace {

void write_node(const ch05::KernelNode& n, std::ostringstream& os) {
  os << "(" << ch05::kind_name(n.kind) << " " << ch04::op_name(n.op) << " " << ch04::dtype_name(n.dtype) << " b"
     << n.buffer << " v" << std::hexfloat << n.value << std::defaultfloat << " a";
  for (int a : n.axes) os << a << ",";
  for (const ch04::View& v : n.st.views) {
    os << " " << ch04::shape_str(v.shape) << ch04::shape_str(v.strides) << v.offset;
    if (v.mask) os << ch04::pairs_str(*v.mask);
  }
  for (const ch05::NodeRef& s : n.src) write_node(*s, os);
  os << ")";
}

int debug_level() {
  const char* e = std::getenv("CH06_DEBUG");
  return e != nullptr ? std::atoi(e) : 0;
}

}  // namespace

std::string kernel_key(const ch05::Kernel& kernel) {
  std::ostringstream os;
  for (int64_t d : kernel.shape) os << d << ",";
  for (const ch04::LazyRef& b : kernel.buffers) os << ch04::dtype_name(b->dtype()) << ",";
  write_node(*kernel.ast, os);
  return os.str();
}

CpuRunner::CpuRunner(OptimizeOptions options, std::shared_ptr<Compiler> compiler)
    : options_(options), compiler_(std::move(compiler)), debug_(debug_level()) {}

const CompiledKernel& CpuRunner::compile(const ch05::Kernel& kernel) {
  // TODO(ch06.6): look kernel_key(kernel) up in cache_; if new: LoopKernel, optimize with
  // options_, linearize, render_cpp, compiler_->compile, and keep the CompiledKernel (its loops
  // as LoopKernel::describe() says them after optimizing). CH06_DEBUG (debug_): at 3 and above
  // print the loops and to_string(program) to stderr, at 4 the source too, once per kernel.
  throw course::NotImplemented("ch06.6: CpuRunner::compile");
}

void CpuRunner::run(const ch05::Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) {
  // TODO(ch06.6): compile(kernel); check bufs against its program (as many as its buffers, each
  // of its dtype, the output holding prod(kernel.output_shape()) elements), each failure a
  // std::invalid_argument naming the kernel; call the function on every buffer's host() memory.
  // CH06_DEBUG=2 and above: one line on stderr per run with the kernel's name, its wall time in
  // ms and GFLOP/s (program.flops), the CPU time of all threads (std::clock), and program.opts.
  throw course::NotImplemented("ch06.6: CpuRunner::run");
}

}  // namespace ch06
