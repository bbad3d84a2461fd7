// One GPU, real or emulated, as chapter 8's runner sees it: memory, copies, kernels, launches.
//
//   std::shared_ptr<gpu::Gpu> g = gpu::open_gpu();   // the GPU if one answers, else the emulator
//   uint64_t x = g->alloc(n * sizeof(float));
//   g->copy_in(x, host.data(), n * sizeof(float));
//   auto scale = g->load({"scale", cuda_source, nvrtc_image});   // extern "C" __global__ void scale(float*)
//   g->launch(*scale, {.blocks = (n + 255) / 256, .threads = 256}, {x});
//   g->copy_out(host.data(), x, n * sizeof(float));  // waits for the kernel first
//   g->free(x);
//
// Two implementations behind one interface:
//   native     the CUDA driver API (cuda_api.h), which runs the CUBIN or PTX that NVRTC made
//              from the source. Launches are queued; copy_out and synchronize wait for them.
//   emulated   tools/cudaemu: the same CUDA source rewritten into checked C++, compiled with the
//              host's g++ into a shared object (cached on disk), loaded with dlopen and run on
//              the CPU with CUDA's semantics. A launch runs to completion, and one that reads out
//              of bounds, races in shared memory, reads shared memory nobody wrote or reaches a
//              __syncthreads() that not every thread reaches throws GpuError with the
//              emulator's report (kernel, block, thread, source line). It ignores the image.
// open_gpu() picks by $COURSE_GPU: "native", "emulated", or unset (native where a GPU answers).
//
// Kernels take only buffer addresses, in order (what chapter 8's generated kernels take).
// Addresses are 64-bit device addresses (the emulator's are its own checked heap's).
#ifndef TOOLS_GPU_GPU_H_
#define TOOLS_GPU_GPU_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/gpu/cuda_api.h"

namespace gpu {

// What one Gpu has done since it was opened: the proof that a runner copies only what it must.
struct Stats {
  int64_t allocations = 0;  // alloc() calls
  int64_t frees = 0;        // free() calls
  int64_t copies_in = 0, bytes_in = 0;
  int64_t copies_out = 0, bytes_out = 0;
  int64_t launches = 0;
  int64_t kernels_loaded = 0;  // load() calls that loaded something new
};

// A kernel to load: its name (an extern "C" __global__ function of the source), the CUDA source,
// and what NVRTC made of it (CUBIN or PTX; the native GPU loads this, the emulator the source).
struct KernelCode {
  std::string name;
  std::string source;
  std::string image;
};

struct LaunchDims {
  int64_t blocks = 1;   // a 1-D grid: blockIdx.x in [0, blocks)
  int64_t threads = 1;  // threadIdx.x in [0, threads)
};

// A kernel loaded on one Gpu; launch it there.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual const std::string& name() const = 0;
};

class Gpu {
 public:
  virtual ~Gpu() = default;
  virtual std::string name() const = 0;  // "NVIDIA H100 80GB HBM3 (sm_90)", "cudaemu (4 workers)"
  virtual bool emulated() const = 0;
  // The compute capability as 10 * major + minor (90 for an H100): what NVRTC compiles for.
  // The emulator says 90.
  virtual int arch() const = 0;

  virtual uint64_t alloc(size_t bytes) = 0;  // alloc(0) is a valid, unusable address
  virtual void free(uint64_t address) = 0;
  virtual void copy_in(uint64_t to, const void* from, size_t bytes) = 0;
  virtual void copy_out(void* to, uint64_t from, size_t bytes) = 0;  // after every queued launch
  // The same code twice gives the same Kernel. Throws GpuError (a source the emulator's compile
  // rejects, an image the driver refuses, no kernel of that name).
  virtual std::shared_ptr<const Kernel> load(const KernelCode& code) = 0;
  // Throws GpuError for dims no GPU launches (no blocks, more than 1024 threads) and, on the
  // emulator, for a kernel that faults.
  virtual void launch(const Kernel& kernel, LaunchDims dims, const std::vector<uint64_t>& buffers) = 0;
  virtual void synchronize() = 0;

  const Stats& stats() const { return stats_; }

 protected:
  Stats stats_;
};

// $COURSE_GPU "native" or "emulated"; unset or empty: native where a GPU answers, else the
// emulator. Throws GpuError for another value, or "native" on a machine without a GPU.
std::shared_ptr<Gpu> open_gpu();
std::shared_ptr<Gpu> open_native_gpu();    // the first GPU; throws GpuError saying why not
std::shared_ptr<Gpu> open_emulated_gpu();
// Whether a native GPU answers (the driver loads and sees a device); `why` says why not.
bool native_gpu_available(std::string* why = nullptr);
// Whether the emulator can compile kernels here (it needs the host's C++ compiler, g++ or
// $CUDAEMU_CXX); `why` says why not.
bool emulator_available(std::string* why = nullptr);

// What launch() checks for every Gpu: at least one block, 1 to 1024 threads, and a grid that
// fits blockIdx.x (2^31 - 1 blocks). Throws GpuError naming the kernel.
void check_dims(const std::string& kernel, LaunchDims dims);

}  // namespace gpu

#endif  // TOOLS_GPU_GPU_H_
