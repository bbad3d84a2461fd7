// The one interface every backend implements, and the buffers it allocates. A backend is a
// folder (interp/, cpu/, cuda/) with one class deriving from Device; registry.h finds them by
// name. A device compiles source and runs what it compiled: the codegen has already rendered
// the program in the language its codegen_options() names.
//
//   Device& cpu = get_device("CPU");                   // or default_device(): $TT_DEVICE, else CPU
//   auto buf = std::make_shared<Buffer>(cpu, DType::kFloat32, 1024);
//   buf->copy_in(host.data());                          // allocates on first use
//   std::shared_ptr<CompiledKernel> k = cpu.compile(program);   // program.src: C++ (codegen/uops.h)
//   cpu.launch(*k, {buf->ptr(), other->ptr()});        // data0 is the output
//   cpu.synchronize();
#ifndef TINYREF_BACKENDS_DEVICE_H_
#define TINYREF_BACKENDS_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tinyref/backends/allocator.h"
#include "tinyref/codegen/options.h"
#include "tinyref/dtype.h"

namespace tinyref {

struct Program;  // codegen/uops.h

// What a backend hands back from compile(): the renderer's output made runnable.
class CompiledKernel {
 public:
  virtual ~CompiledKernel() = default;
  virtual const std::string& source() const = 0;  // what TT_DEBUG=4 prints
};

// Launches fixed once (kernels and buffers) that a device runs as one unit: a CUDA graph, whose
// one launch costs the host one driver call instead of one per kernel.
class LaunchGraph {
 public:
  virtual ~LaunchGraph() = default;
  virtual void launch() = 0;  // queued like Device::launch; synchronize() waits for it
};
struct FixedLaunch {
  const CompiledKernel* kernel;
  std::vector<void*> buffers;  // as Device::launch takes them
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const std::string& name() const = 0;
  virtual void* alloc(size_t bytes) = 0;
  virtual void free(void* ptr) = 0;
  virtual void copy_in(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void copy_out(void* host_dst, const void* src, size_t bytes) = 0;
  // Compiles program.src (rendered in codegen_options().language; program.entry is the function
  // to call), or, for a device that runs the uops themselves (Language::kNone), prepares those.
  // May cache. Throws Error on a compile failure.
  virtual std::shared_ptr<CompiledKernel> compile(const Program& program) = 0;
  // Runs a compiled kernel; buffers are in the program's order, the output first.
  virtual void launch(const CompiledKernel& kernel, const std::vector<void*>& buffers) = 0;
  virtual void synchronize() = 0;
  virtual CodegenOptions codegen_options() const = 0;  // codegen/options.h
  // Whether compile() may run on several threads at once (the engine then compiles a schedule's
  // new kernels concurrently). Optional: the default is one at a time.
  virtual bool parallel_compile() const { return false; }
  // Optional, for a device whose compile() runs one at a time but whose compiler can run
  // several: compile these now, concurrently, so that the compile() calls that follow find them
  // cached (CUDA: NVRTC for a search's variants). Failures are left for compile() to report.
  virtual void compile_ahead(const std::vector<const Program*>& programs) { (void)programs; }
  // Optional: whether timing a kernel here says how fast it runs on the hardware the device
  // stands for. No for an emulator (CUDA_EMU): the kernel search (engine/search.h) then keeps
  // each kernel's default variant instead of timing them. The default is yes.
  virtual bool timings_meaningful() const { return true; }
  // Optional: whether alloc() returns host memory that the CPU may read directly (INTERP, CPU).
  // The default is no: the front end then never reads this device's buffers behind its back.
  virtual bool host_memory() const { return false; }
  // Optional: the launches captured into a LaunchGraph (nothing runs yet), or nullptr where the
  // device has none (the default), and the caller launches them one by one.
  virtual std::unique_ptr<LaunchGraph> capture(const std::vector<FixedLaunch>& launches) {
    (void)launches;
    return nullptr;
  }
};

// The memory half of a device whose buffers live in host memory (INTERP, CPU): 64-byte aligned
// buffers, freed ones kept for reuse by size (backends/allocator.h), memcpy, nothing to wait
// for. A backend derives from it and adds compile/launch.
class HostDevice : public Device {
 public:
  HostDevice();
  void* alloc(size_t bytes) override;
  void free(void* ptr) override;
  void copy_in(void* dst, const void* host_src, size_t bytes) override;
  void copy_out(void* host_dst, const void* src, size_t bytes) override;
  void synchronize() override {}
  bool host_memory() const override { return true; }

 private:
  std::mutex mu_;  // buffers may be freed on any thread that drops the last Tensor
  CachingAllocator cache_;
};

// A device allocation of numel elements. Allocated on first use; freed with the last owner.
class Buffer {
 public:
  Buffer(Device& device, DType dtype, size_t numel);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  Device& device() const { return *device_; }
  DType dtype() const { return dtype_; }
  size_t numel() const { return numel_; }
  size_t nbytes() const { return numel_ * itemsize(dtype_); }
  bool allocated() const { return ptr_ != nullptr; }
  void* ptr();  // allocates if needed; throws an Error naming the elements and bytes if it cannot
  void copy_in(const void* host);
  void copy_out(void* host);

 private:
  Device* device_;
  DType dtype_;
  size_t numel_;
  void* ptr_ = nullptr;
};

// Counters for tests and benchmarks (kernel counts, compile-cache behaviour).
struct Stats {
  int64_t kernels_launched = 0;  // kernels run (copies excluded)
  int64_t programs_built = 0;    // kernels linearized and handed to Device::compile
  int64_t compiler_runs = 0;     // times the CPU backend ran the system compiler (cache misses)
  int64_t buffers_alive = 0;     // Buffers holding device memory now (a leak shows as growth)
};
Stats& stats();

uint64_t host_memory_bytes();  // the machine's physical memory: no host allocation past it succeeds
// Throws an Error naming `who` and the bytes when they are more than the machine has: such an
// allocation is refused up front rather than tried (an address-sanitized build aborts on it).
void check_fits_host_memory(const std::string& who, size_t bytes);

}  // namespace tinyref

#endif  // TINYREF_BACKENDS_DEVICE_H_
