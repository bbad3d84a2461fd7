// The GPU backend: chapter 5's FusedEngine with CUDA kernels.
//
//   auto runner = std::make_shared<ch08::CudaRunner>();     // gpu::open_gpu(): the GPU, or the emulator
//   ch04::ScopedEngine cuda(std::make_shared<ch05::FusedEngine>(runner));
//   ch04::Tensor y = (x.matmul(w) + b).relu();
//   y.realize();        // one kernel: planned, lowered, rendered, NVRTC, loaded, launched
//   y.to_vector();      // only now does y's value travel back from the GPU
//
// Each kernel goes plan_gpu -> lower_gpu -> render_cuda -> CudaCompiler::compile ->
// gpu::Gpu::load the first time this runner sees it (chapter 6's kernel_key), and is launched
// from then on.
//
// Memory: a Buffer's value lives where it was made. A kernel's output is made on the GPU: its
// Buffer gets a DeviceBuffer (ch04's Buffer::device hook) and host_valid = false, and nothing
// is copied until someone reads it on the host (Buffer::host() calls copy_to_host). An input
// the GPU does not hold yet (data from the host: a batch of images, fresh weights) is copied
// in once and keeps its DeviceBuffer, so the next kernel reading it copies nothing. A
// training step therefore copies in its batch and copies out its loss, and nothing else.
//
//   Buffer x (host) --copy in, once--> DeviceBuffer x --kernel--> DeviceBuffer y --host()--> y (host)
//
// Debug output (on stderr):
//   CH08_DEBUG=2   one line per kernel run: name, time (waits for the GPU), blocks x threads
//   CH08_DEBUG=3   also each new kernel's plan and uops
//   CH08_DEBUG=4   also each new kernel's CUDA source
#ifndef CH08_CUDA_RUNNER_H_
#define CH08_CUDA_RUNNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ch04/lazy.h"
#include "ch05/runner.h"
#include "ch08/cuda_compiler.h"
#include "ch08/gpu_kernel.h"
#include "ch08/gpu_program.h"
#include "tools/gpu/gpu.h"

namespace ch08 {

// A Buffer's value in GPU memory, as ch04::Buffer::device holds it. Allocated by the
// constructor, freed by the destructor (the last Buffer holding it is gone).
class DeviceBuffer : public ch04::DeviceCopy {
 public:
  DeviceBuffer(std::shared_ptr<gpu::Gpu> gpu, size_t bytes);
  ~DeviceBuffer() override;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // ch08.7: the GPU's bytes into host.host_bytes() (Buffer::host() calls this when host_valid
  // is false, and sets host_valid afterwards).
  void copy_to_host(ch04::Buffer& host) override;

  uint64_t address() const { return address_; }
  size_t bytes() const { return bytes_; }
  const gpu::Gpu& gpu() const { return *gpu_; }

 private:
  std::shared_ptr<gpu::Gpu> gpu_;
  uint64_t address_ = 0;
  size_t bytes_ = 0;
};

// One kernel, ready to launch.
struct CudaKernel {
  std::string loops;                               // the plan: GpuKernel::loops.describe()
  GpuProgram program;
  std::string source;                              // render_cuda(program)
  std::string image;                               // NVRTC's, or "" (no NVRTC, on the emulator)
  std::shared_ptr<const gpu::Kernel> kernel;       // loaded on the runner's GPU
};

class CudaRunner : public ch05::KernelRunner {
 public:
  explicit CudaRunner(std::shared_ptr<gpu::Gpu> gpu = gpu::open_gpu(), GpuOptions options = {});

  std::string name() const override { return "CudaRunner(" + gpu_->name() + ", " + options_.str() + ")"; }

  // ch08.7: compile (or find) the kernel; check the buffers against it (count, dtypes, the
  // output's size: std::invalid_argument naming the kernel); give every input the GPU does not
  // hold yet a DeviceBuffer with its value copied in; give the output a fresh DeviceBuffer and
  // host_valid = false; launch.
  void run(const ch05::Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) override;

  // ch08.7: the kernel planned, lowered, rendered, compiled (where NVRTC is here; required for a
  // native GPU) and loaded, once per ch06::kernel_key.
  const CudaKernel& compile(const ch05::Kernel& kernel);

  gpu::Gpu& gpu() { return *gpu_; }
  const std::shared_ptr<gpu::Gpu>& gpu_ptr() const { return gpu_; }
  const GpuOptions& options() const { return options_; }
  CudaCompiler& compiler() { return compiler_; }
  int64_t kernels_compiled() const { return static_cast<int64_t>(cache_.size()); }

 private:
  std::shared_ptr<gpu::Gpu> gpu_;
  GpuOptions options_;
  CudaCompiler compiler_;
  int debug_ = 0;  // CH08_DEBUG, read once
  std::unordered_map<std::string, std::unique_ptr<CudaKernel>> cache_;
};

}  // namespace ch08

#endif  // CH08_CUDA_RUNNER_H_
