#include "tinyref/backends/cuda/cuda_device.h"

#include <cstdint>
#include <utility>

#include "tinyref/error.h"

namespace tinyref::cuda {
namespace {

uint64_t address(const void* ptr) { return reinterpret_cast<uint64_t>(ptr); }

}  // namespace

CudaDevice::CudaDevice(CudaRenderer renderer, ContextOptions options)
    : renderer_(std::move(renderer)), context_(std::move(options)) {}

void* CudaDevice::alloc(size_t bytes) { return reinterpret_cast<void*>(context_.alloc(bytes)); }

void CudaDevice::free(void* ptr) { context_.free(address(ptr)); }

void CudaDevice::copy_in(void* dst, const void* host_src, size_t bytes) {
  context_.copy_in(address(dst), host_src, bytes);
}

void CudaDevice::copy_out(void* host_dst, const void* src, size_t bytes) {
  context_.copy_out(host_dst, address(src), bytes);
}

std::shared_ptr<CompiledKernel> CudaDevice::compile(const Program& program) {
  TT_CHECK(renderer_ != nullptr,
           "CUDA: no renderer was given to this CudaDevice (the IR-to-CUDA renderer lives in "
           "the codegen); compile_source() runs hand-written CUDA C");
  return compile_source(renderer_(program));
}

void CudaDevice::compile_ahead(const std::vector<const Program*>& programs) {
  if (renderer_ == nullptr) return;  // compile() will say why
  std::vector<NamedSource> sources;
  for (const Program* program : programs) {
    try {
      CudaSource spec = renderer_(*program);
      sources.push_back({std::move(spec.source), std::move(spec.kernel_name)});
    } catch (const Error&) {
      // Left for compile(), which meets the same error in its place and reports it.
    }
  }
  context_.compile_ahead(sources);
}

std::shared_ptr<CudaKernel> CudaDevice::compile_source(const CudaSource& spec) {
  Function function = context_.compile(spec.source, spec.kernel_name);
  return std::make_shared<CudaKernel>(spec, std::move(function));
}

void CudaDevice::launch(const CompiledKernel& kernel, const std::vector<void*>& buffers) {
  const auto* cuda_kernel = dynamic_cast<const CudaKernel*>(&kernel);
  TT_CHECK(cuda_kernel != nullptr, "CUDA launch: the kernel was not compiled by a CUDA device");
  std::vector<KernelArg> args;
  args.reserve(buffers.size());
  for (void* buffer : buffers) args.push_back(KernelArg::ptr(address(buffer)));
  const CudaSource& spec = cuda_kernel->spec();
  context_.launch(cuda_kernel->function(), spec.grid, spec.block, spec.shared_bytes, args);
}

namespace {

class CudaGraph : public LaunchGraph {
 public:
  CudaGraph(Context& context, GraphId id) : context_(context), id_(id) {}
  ~CudaGraph() override {
    try {
      context_.destroy_graph(id_);
    } catch (const Error&) {
      // A context that failed (a lost device) has nothing left to free.
    }
  }
  void launch() override { context_.launch_graph(id_); }

 private:
  Context& context_;
  GraphId id_;
};

}  // namespace

std::unique_ptr<LaunchGraph> CudaDevice::capture(const std::vector<FixedLaunch>& launches) {
  if (launches.empty()) return nullptr;
  LaunchList list;
  for (const FixedLaunch& l : launches) {
    const auto* cuda_kernel = dynamic_cast<const CudaKernel*>(l.kernel);
    TT_CHECK(cuda_kernel != nullptr, "CUDA graph: a kernel was not compiled by a CUDA device");
    Launch launch{cuda_kernel->function(), cuda_kernel->spec().grid, cuda_kernel->spec().block,
                  cuda_kernel->spec().shared_bytes, {}};
    for (void* buffer : l.buffers) launch.args.push_back(KernelArg::ptr(address(buffer)));
    list.push_back(std::move(launch));
  }
  return std::make_unique<CudaGraph>(context_, context_.capture_graph(list));
}

void CudaDevice::synchronize() { context_.synchronize(); }

CodegenOptions CudaDevice::codegen_options() const {
  // Parallelism comes from blocks and threads (codegen/optimizer_gpu.cc); scalar code, since the
  // CUDA renderer emits no vector types.
  CodegenOptions options;
  options.gpu = true;
  options.vector_bytes = 0;
  options.threads = 1;
  return options;
}

}  // namespace tinyref::cuda
