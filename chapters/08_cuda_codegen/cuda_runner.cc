// Your CUDA runner: task ch08.7. README.md, "Task 7", walks through it.
#include "ch08/cuda_runner.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "ch06/cpu_runner.h"
#include "ch08/render_cuda.h"
#include "chapters/course.h"

namespace ch08 {

DeviceBuffer::DeviceBuffer(std::shared_ptr<gpu::Gpu> gpu, size_t bytes)
    : gpu_(std::move(gpu)), address_(gpu_->alloc(bytes)), bytes_(bytes) {}

DeviceBuffer::~DeviceBuffer() {
  try {
    gpu_->free(address_);
  } catch (const gpu::GpuError&) {
    // A destructor cannot report it; the memory goes back when the process ends.
  }
}

// TODO(ch08.7): the GPU's bytes into the host Buffer's bytes, as they are (host_bytes(): host()
// would ask this very function again).
void DeviceBuffer::copy_to_host(ch04::Buffer& host) { throw course::NotImplemented("ch08.7: DeviceBuffer::copy_to_host"); }

namespace {

int debug_level() {
  const char* e = std::getenv("CH08_DEBUG");
  return e != nullptr ? std::atoi(e) : 0;
}

}  // namespace

CudaRunner::CudaRunner(std::shared_ptr<gpu::Gpu> gpu, GpuOptions options)
    : gpu_(std::move(gpu)), options_(options), compiler_(gpu_->arch()), debug_(debug_level()) {}

// TODO(ch08.7): once per ch06::kernel_key(kernel): plan_gpu, lower_gpu, render_cuda, NVRTC
// (compiler_.compile; on the emulator only where CudaCompiler::available(): the emulator runs
// the source), then gpu_->load({name, source, image}). CH08_DEBUG=3 prints the plan and
// ch06::to_string of the uops, =4 the source too, on stderr.
const CudaKernel& CudaRunner::compile(const ch05::Kernel& kernel) {
  throw course::NotImplemented("ch08.7: CudaRunner::compile");
}

// TODO(ch08.7): compile; check the buffers (as chapter 6's CpuRunner::run does); the inputs:
// a Buffer whose `device` is not a DeviceBuffer of this GPU gets one, with its host() value
// copied in; the output: a fresh DeviceBuffer, host_valid = false; then launch with the
// program's dims. CH08_DEBUG=2: one line per run, with its time in ms (synchronize() first)
// and the launch as <<<blocks, threads>>>.
void CudaRunner::run(const ch05::Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) {
  throw course::NotImplemented("ch08.7: CudaRunner::run");
}

}  // namespace ch08
