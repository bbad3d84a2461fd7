#include "tinyref/backends/cuda/cuda_device.h"

#include <cstdint>
#include <utility>

#include "tinyref/codegen/uops.h"
#include "tinyref/error.h"

namespace tinyref::cuda {
namespace {

uint64_t address(const void* ptr) { return reinterpret_cast<uint64_t>(ptr); }

// The launch of a rendered Program: its source and kernel, global_size blocks of local_size.
CudaSource source_of(const Program& program) {
  TT_CHECK(!program.src.empty(), "CUDA: kernel " << program.name << " has no CUDA source (render it first: codegen/renderer.h)");
  CudaSource spec;
  spec.source = program.src;
  spec.kernel_name = program.entry;
  spec.grid.x = static_cast<unsigned>(program.global_size);
  spec.block.x = static_cast<unsigned>(program.local_size);
  spec.shared_bytes = static_cast<unsigned>(program.dynamic_shared_bytes);
  return spec;
}

}  // namespace

CudaDevice::CudaDevice(ContextOptions options) : context_(std::move(options)) {}

void* CudaDevice::alloc(size_t bytes) { return reinterpret_cast<void*>(context_.alloc(bytes)); }

void CudaDevice::free(void* ptr) { context_.free(address(ptr)); }

void CudaDevice::copy_in(void* dst, const void* host_src, size_t bytes) {
  context_.copy_in(address(dst), host_src, bytes);
}

void CudaDevice::copy_out(void* host_dst, const void* src, size_t bytes) {
  context_.copy_out(host_dst, address(src), bytes);
}

std::shared_ptr<CompiledKernel> CudaDevice::compile(const Program& program) { return compile_source(source_of(program)); }

void CudaDevice::compile_ahead(const std::vector<const Program*>& programs) {
  std::vector<NamedSource> sources;
  for (const Program* program : programs) {
    if (!program->src.empty()) sources.push_back({program->src, program->entry});  // else compile() says why
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
  return {.vector_bytes = 0,
          .threads = 1,
          .gpu = true,
          .max_shared_bytes_opt_in = context_.max_shared_bytes_opt_in(),
          .async_copies = context_.compute_capability() >= 80 && async_copies_asked(),
          .wgmma = context_.compute_capability() == 90 && wgmma_asked(),  // (sm_90a: not on later GPUs)
          .tf32 = tf32_mode(),
          .language = Language::kCuda};
}

}  // namespace tinyref::cuda
