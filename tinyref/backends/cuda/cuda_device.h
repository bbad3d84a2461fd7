// The CUDA backend behind tinyref's Device interface (tinyref/backends/device.h).
//
//   CudaDevice gpu;                     // throws tinyref::Error where there is no GPU or driver
//   auto kernel = gpu.compile(program); // program.src (CUDA C, rendered by the codegen) -> NVRTC (cached)
//   gpu.launch(*kernel, {out.ptr(), in.ptr()});
//   gpu.synchronize();
//
// Rendering belongs to the codegen (codegen/renderer.h): compile() takes the source, the kernel's
// name and its launch size (global_size blocks of local_size threads) from the Program, and
// compile_source() runs hand-written CUDA (what the tests and chapter 7 use).
//
// Device addresses travel through the interface as void*: they are never dereferenced on the
// host, only passed back to copy_in/copy_out/launch.
#ifndef TINYREF_BACKENDS_CUDA_CUDA_DEVICE_H_
#define TINYREF_BACKENDS_CUDA_CUDA_DEVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinyref/backends/cuda/context.h"
#include "tinyref/backends/device.h"

namespace tinyref::cuda {

// What a CUDA renderer produces for one Program: the source, the extern "C" kernel's name, and
// how to launch it (grid from the global dims, block from the local dims).
struct CudaSource {
  std::string source;
  std::string kernel_name;
  Dim3 grid, block;
  unsigned shared_bytes = 0;
};

class CudaKernel : public CompiledKernel {
 public:
  CudaKernel(CudaSource spec, Function function)
      : spec_(std::move(spec)), function_(std::move(function)) {}
  const std::string& source() const override { return spec_.source; }
  const CudaSource& spec() const { return spec_; }
  const Function& function() const { return function_; }

 private:
  CudaSource spec_;
  Function function_;
};

class CudaDevice : public Device {
 public:
  explicit CudaDevice(ContextOptions options = {});

  const std::string& name() const override { return name_; }
  void* alloc(size_t bytes) override;
  void free(void* ptr) override;
  void copy_in(void* dst, const void* host_src, size_t bytes) override;
  void copy_out(void* host_dst, const void* src, size_t bytes) override;
  std::shared_ptr<CompiledKernel> compile(const Program& program) override;
  void compile_ahead(const std::vector<const Program*>& programs) override;
  void launch(const CompiledKernel& kernel, const std::vector<void*>& buffers) override;
  void synchronize() override;
  CodegenOptions codegen_options() const override;
  std::unique_ptr<LaunchGraph> capture(const std::vector<FixedLaunch>& launches) override;

  // Compiles already-rendered CUDA C (no Program needed).
  std::shared_ptr<CudaKernel> compile_source(const CudaSource& spec);
  Context& context() { return context_; }

 private:
  std::string name_ = "CUDA";
  Context context_;
};

}  // namespace tinyref::cuda

#endif  // TINYREF_BACKENDS_CUDA_CUDA_DEVICE_H_
