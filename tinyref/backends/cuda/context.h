// One GPU, ready to run kernels: the driver, the device's primary context, a stream, a caching
// allocator, an NVRTC compiler with its module cache, and CUDA graphs for replay.
//
//   Context gpu;                                  // throws tinyref::Error: no driver, no device
//   uint64_t x = gpu.alloc(n * sizeof(float));
//   gpu.copy_in(x, host.data(), n * sizeof(float));
//   Function scale = gpu.compile(source, "scale");          // extern "C" __global__ void scale
//   gpu.launch(scale, {(n + 255) / 256}, {256}, 0, {KernelArg::ptr(x), KernelArg::i32(n)});
//   gpu.copy_out(host.data(), x, n * sizeof(float));      // waits for the kernel
//   gpu.free(x);                                          // back to the cache, not the driver
//
// Replay (what tinygrad's JIT does for a training step): record a step's launches once, then
// run them again without the host work that produced them, either one by one or as one CUDA
// graph, which the GPU runs with a single launch:
//
//   gpu.start_recording();  step();  LaunchList list = gpu.stop_recording();
//   gpu.replay(list);                            // the same launches, same buffers, same args
//   GraphId graph = gpu.capture_graph(list);     // stream capture of the list
//   gpu.launch_graph(graph);
//
// A list names device addresses, so it replays onto the buffers it was recorded with; the
// caching allocator makes an identical step get identical addresses, which is why this works.
//
// Everything runs on the context's one stream, in order; copy_out and synchronize() wait for
// it. Errors throw tinyref::Error with the driver's decoded error name, and the context stays
// usable after a rejected launch or allocation. A Context is used from one thread at a time;
// its handles (functions, graphs, addresses) belong to it and die with it.
#ifndef TINYREF_BACKENDS_CUDA_CONTEXT_H_
#define TINYREF_BACKENDS_CUDA_CONTEXT_H_

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinyref/backends/allocator.h"
#include "tinyref/backends/cuda/compiler.h"
#include "tinyref/backends/cuda/driver.h"

namespace tinyref::cuda {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// One kernel argument as cuLaunchKernel wants it: the value's bytes, which the driver copies
// at launch (so a recorded list can keep them). Little-endian: a 4-byte int sits in the low
// bytes of the 8-byte slot, where the driver reads 4 bytes for an `int` parameter.
struct KernelArg {
  uint64_t bits = 0;
  static KernelArg ptr(uint64_t device_address) { return {device_address}; }
  static KernelArg i32(int32_t value) { return of(value); }
  static KernelArg f32(float value) { return of(value); }

 private:
  template <typename T>
  static KernelArg of(T value) {
    KernelArg arg;
    std::memcpy(&arg.bits, &value, sizeof(value));
    return arg;
  }
};

// A kernel loaded into a Context (its module stays loaded until the Context goes).
struct Function {
  CUfunction handle = nullptr;
  std::string name;
  int max_threads_per_block = 0;  // what this kernel allows, given its register use
  int num_registers = 0;
};

struct Launch {
  Function function;
  Dim3 grid, block;
  unsigned shared_bytes = 0;
  std::vector<KernelArg> args;
};
using LaunchList = std::vector<Launch>;

using GraphId = int;

struct ContextOptions {
  int device = 0;
  std::filesystem::path cache_dir = Compiler::default_cache_dir();  // empty: no disk cache
  std::vector<std::string> compile_options;                         // extra NVRTC flags
  std::string driver_library = "libcuda.so.1";
};

class Context {
 public:
  explicit Context(ContextOptions options = {});
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();

  const std::string& device_name() const { return device_name_; }
  int compute_capability() const { return compute_capability_; }  // 90 for an H100
  int multiprocessors() const { return multiprocessors_; }
  // Shared memory a block may have once its kernel opts in (227 KB on an H100; 48 KB without).
  int max_shared_bytes_opt_in() const { return max_shared_bytes_opt_in_; }
  size_t total_memory() const { return total_memory_; }

  // Memory. alloc(0) gives a valid (minimum-size) buffer. Copies are ordered on the stream;
  // copy_out returns once the bytes are on the host.
  uint64_t alloc(size_t bytes);
  void free(uint64_t address);
  void copy_in(uint64_t destination, const void* source, size_t bytes);
  void copy_out(void* destination, uint64_t source, size_t bytes);
  void copy(uint64_t destination, uint64_t source, size_t bytes);  // device to device
  void fill_zero(uint64_t destination, size_t bytes);

  // Compiles (through the caches) and loads the module, and finds `kernel_name` in it; it must
  // be declared extern "C" so its name is not mangled. Repeated calls return the same handle.
  Function compile(const std::string& source, const std::string& kernel_name);
  // Runs NVRTC on these concurrently (Compiler::compile_ahead), so that compile() finds them.
  void compile_ahead(const std::vector<NamedSource>& sources) { compiler_->compile_ahead(sources); }

  // Queues one launch. Rejects a block larger than the kernel allows and an empty grid with a
  // message naming the kernel; anything else the driver refuses comes back decoded. Dynamic
  // shared memory past 48 KB is opted in to (cuFuncSetAttribute) on the kernel's first such launch.
  void launch(const Function& function, Dim3 grid, Dim3 block, unsigned shared_bytes,
              const std::vector<KernelArg>& args);
  // The same, then waits: returns the kernel's time on the GPU in seconds (TT_DEBUG=2's number).
  double launch_timed(const Function& function, Dim3 grid, Dim3 block, unsigned shared_bytes,
                      const std::vector<KernelArg>& args);
  void synchronize();

  // Recording: launches made between start and stop still run, and are also kept.
  void start_recording();
  LaunchList stop_recording();
  void replay(const LaunchList& launches);
  // Captures the list into a CUDA graph (nothing runs yet) and instantiates it.
  GraphId capture_graph(const LaunchList& launches);
  void launch_graph(GraphId graph);
  void destroy_graph(GraphId graph);

  const CompilerStats& compiler_stats() const { return compiler_->stats(); }
  const AllocatorStats& allocator_stats() const { return allocator_->stats(); }
  const Compiler& compiler() const { return *compiler_; }
  int64_t launches() const { return launches_; }
  int modules_loaded() const { return static_cast<int>(modules_.size()); }
  // Returns the allocator's cached buffers to the driver (e.g. before measuring free memory).
  void release_cached_memory();

 private:
  void activate() const;  // makes the primary context current on this thread
  uint64_t raw_allocate(size_t bytes);
  std::string describe_memory() const;
  void teardown() noexcept;  // releases everything; also undoes a constructor that threw

  std::shared_ptr<const Driver> driver_;
  int ordinal_ = 0;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUstream stream_ = nullptr;
  CUevent start_event_ = nullptr, end_event_ = nullptr;
  std::string device_name_;
  int compute_capability_ = 0;
  int multiprocessors_ = 0;
  int max_shared_bytes_opt_in_ = 48 << 10;
  size_t total_memory_ = 0;
  std::unique_ptr<Compiler> compiler_;  // made once the device's architecture is known
  std::unique_ptr<CachingAllocator> allocator_;
  // Keyed by the compiled module (stable addresses inside the compiler's cache).
  std::unordered_map<const CompiledModule*, CUmodule> modules_;
  std::map<std::pair<const CompiledModule*, std::string>, Function> functions_;
  std::unordered_map<CUfunction, unsigned> dynamic_shared_allowed_;  // past 48 KB, by kernel
  std::vector<CUgraphExec> graphs_;                      // GraphId indexes; null once destroyed
  bool recording_ = false;
  LaunchList recorded_;
  int64_t launches_ = 0;
};

}  // namespace tinyref::cuda

#endif  // TINYREF_BACKENDS_CUDA_CONTEXT_H_
