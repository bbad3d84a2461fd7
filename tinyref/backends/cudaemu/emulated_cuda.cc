#include "tinyref/backends/cudaemu/emulated_cuda.h"

#include <filesystem>
#include <utility>

#include "tinyref/backends/cpu/cpu.h"
#include "tinyref/codegen/uops.h"
#include "tinyref/error.h"
#include "tools/cudaemu/jit.h"
#include "tools/cudaemu/runtime_api.h"

namespace tinyref {

namespace {

namespace api = cudaemu::cuda_api;

class EmulatedKernel : public CompiledKernel {
 public:
  // A kernel with dynamic shared memory (the renderer's, past 48 KB: Program::dynamic_shared_bytes)
  // opts in to it, as the CUDA context does on a GPU.
  EmulatedKernel(std::shared_ptr<const cudaemu::JitKernel> kernel, unsigned blocks, unsigned threads, unsigned shared_bytes)
      : kernel_(std::move(kernel)), blocks_(blocks), threads_(threads), shared_bytes_(shared_bytes) {
    if (shared_bytes_ > 0) {
      TT_CHECK(kernel_->set_max_dynamic_shared(static_cast<int>(shared_bytes_)) == cudaemu::cudaSuccess,
               "CUDA_EMU: kernel " << kernel_->name() << " asks for " << shared_bytes_
                                   << " bytes of shared memory; a block has at most 227 KB");
    }
  }
  const std::string& source() const override { return kernel_->source(); }
  void launch(const std::vector<void*>& buffers) const {
    const cudaemu::cudaError_t e = kernel_->launch(cudaemu::dim3(blocks_), cudaemu::dim3(threads_), shared_bytes_, buffers);
    TT_CHECK(e == cudaemu::cudaSuccess, "CUDA_EMU: kernel " << kernel_->name() << " failed ("
                                                            << api::cudaGetErrorName(e)
                                                            << "); the CUDA emulator's report:\n"
                                                            << cudaemu::last_report());
  }

 private:
  std::shared_ptr<const cudaemu::JitKernel> kernel_;
  unsigned blocks_, threads_, shared_bytes_;
};

class EmulatedCudaDevice : public Device {
 public:
  EmulatedCudaDevice()
      : jit_(cudaemu::JitOptions{(std::filesystem::path(cpu_cache_dir()) / "cudaemu").string()}) {}

  const std::string& name() const override { return name_; }

  void* alloc(size_t bytes) override {
    void* p = nullptr;
    check_fits_host_memory("CUDA_EMU", bytes);  // the emulator's memory is the host's
    TT_CHECK(api::cudaMalloc(&p, bytes) == cudaemu::cudaSuccess, "CUDA_EMU: cannot allocate " << bytes << " bytes");
    return p;
  }
  void free(void* ptr) override { api::cudaFree(ptr); }
  void copy_in(void* dst, const void* src, size_t bytes) override { copy(dst, src, bytes, cudaemu::cudaMemcpyHostToDevice); }
  void copy_out(void* dst, const void* src, size_t bytes) override { copy(dst, src, bytes, cudaemu::cudaMemcpyDeviceToHost); }
  void synchronize() override {}

  // What the optimizer may assume: CUDA's (codegen/optimizer_gpu.cc), the same kernels as on a GPU.
  bool timings_meaningful() const override { return false; }  // the emulator's speed is not a GPU's
  CodegenOptions codegen_options() const override {
    CodegenOptions o;
    o.gpu = true;
    o.vector_bytes = 0;
    o.threads = 1;
    o.language = Language::kCuda;
    o.async_copies = async_copies_asked();  // (an H100 has cp.async)
    o.wgmma = wgmma_asked();                 // (and wgmma)
    o.max_shared_bytes_opt_in = 227 << 10;   // an H100's (the emulator checks launches against it)
    o.tf32 = tf32_mode();
    return o;
  }
  // A schedule's kernels are compiled together, a few to a compiler run (the fixed cost of a run
  // is most of it); compile() then finds them.
  void compile_ahead(const std::vector<const Program*>& programs) override {
    std::vector<cudaemu::JitSource> sources;
    for (const Program* p : programs) {
      if (!p->src.empty()) sources.push_back({p->src, p->entry});  // else compile() says why
    }
    try {
      jit_.compile_all(sources);
    } catch (const cudaemu::JitError&) {
      // Left for compile(), which meets the same error with its kernel and reports it.
    }
  }

  std::shared_ptr<CompiledKernel> compile(const Program& program) override {
    TT_CHECK(!program.src.empty(),
             "CUDA_EMU: kernel " << program.name << " has no CUDA source (render it first: codegen/renderer.h)");
    return compile_source(program.src, program.entry, static_cast<unsigned>(program.global_size),
                          static_cast<unsigned>(program.local_size), static_cast<unsigned>(program.dynamic_shared_bytes));
  }

  std::shared_ptr<CompiledKernel> compile_source(const std::string& source, const std::string& name, unsigned blocks,
                                                 unsigned threads, unsigned shared_bytes = 0) {
    try {
      return std::make_shared<EmulatedKernel>(jit_.compile(source, name), blocks, threads, shared_bytes);
    } catch (const cudaemu::JitError& e) {
      throw Error(std::string("CUDA_EMU: ") + e.what());
    }
  }

  void launch(const CompiledKernel& kernel, const std::vector<void*>& buffers) override {
    const auto* k = dynamic_cast<const EmulatedKernel*>(&kernel);
    TT_CHECK(k != nullptr, "CUDA_EMU launch: the kernel was not compiled by CUDA_EMU");
    k->launch(buffers);
  }

 private:
  void copy(void* dst, const void* src, size_t bytes, cudaemu::cudaMemcpyKind kind) {
    TT_CHECK(api::cudaMemcpy(dst, src, bytes, kind) == cudaemu::cudaSuccess,
             "CUDA_EMU: copy of " << bytes << " bytes failed: " << cudaemu::last_report());
  }

  std::string name_ = "CUDA_EMU";
  cudaemu::Jit jit_;
};

}  // namespace

std::unique_ptr<Device> make_emulated_cuda_device() {
  return std::make_unique<EmulatedCudaDevice>();
}

std::shared_ptr<CompiledKernel> compile_emulated_source(Device& emulated, const std::string& source,
                                                        const std::string& name, unsigned blocks, unsigned threads) {
  auto* device = dynamic_cast<EmulatedCudaDevice*>(&emulated);
  TT_CHECK(device != nullptr, "compile_emulated_source: " << emulated.name() << " is not CUDA_EMU");
  return device->compile_source(source, name, blocks, threads);
}

}  // namespace tinyref
