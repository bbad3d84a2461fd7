#include "ch06/cpu_runner.h"

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "ch06/linearize.h"
#include "ch06/render_cpp.h"

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
  const std::string key = kernel_key(kernel);
  if (auto it = cache_.find(key); it != cache_.end()) return *it->second;
  LoopKernel loops(kernel);
  optimize(loops, options_);
  auto c = std::make_unique<CompiledKernel>();
  c->loops = loops.describe();
  c->program = linearize(loops);
  c->source = render_cpp(c->program);
  if (debug_ >= 3) std::fprintf(stderr, "ch06: %s loops %s\n%s", loops.name.c_str(), c->loops.c_str(), to_string(c->program).c_str());
  if (debug_ >= 4) std::fprintf(stderr, "%s\n", c->source.c_str());
  c->function = compiler_->compile(c->program.name, c->source);
  return *cache_.emplace(key, std::move(c)).first->second;
}

void CpuRunner::run(const ch05::Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) {
  const CompiledKernel& c = compile(kernel);
  const std::vector<ch04::DType>& want = c.program.buffers;
  if (bufs.size() != want.size()) {
    throw std::invalid_argument("CpuRunner: kernel " + kernel.name() + " takes " + std::to_string(want.size()) +
                                " buffers, got " + std::to_string(bufs.size()));
  }
  std::vector<void*> pointers;
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (bufs[i] == nullptr || bufs[i]->dtype != want[i]) {
      throw std::invalid_argument("CpuRunner: kernel " + kernel.name() + ": buffer " + std::to_string(i) + " should be " +
                                  ch04::dtype_name(want[i]) +
                                  (bufs[i] ? std::string(", got ") + ch04::dtype_name(bufs[i]->dtype) : ", got none"));
    }
    pointers.push_back(bufs[i]->host());
  }
  const int64_t outputs = ch04::prod(kernel.output_shape());
  if (bufs[0]->numel != outputs) {
    throw std::invalid_argument("CpuRunner: kernel " + kernel.name() + " writes " + std::to_string(outputs) +
                                " elements, but its output buffer holds " + std::to_string(bufs[0]->numel));
  }
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  c.function(pointers.data());
  if (debug_ >= 2) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;  // all threads
    std::fprintf(stderr, "ch06: %-28s %9.3f ms %8.2f GFLOP/s  (cpu %.3f ms)  %s\n", kernel.name().c_str(), s * 1e3,
                 static_cast<double>(c.program.flops) / s * 1e-9, cpu * 1e3, c.program.opts.c_str());
  }
}

}  // namespace ch06
