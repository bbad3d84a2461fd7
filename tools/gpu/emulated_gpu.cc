// The emulated Gpu: the CUDA source compiled for the emulator at run time (tools/cudaemu's Jit:
// its rewriter, g++ into a shared object, dlopen) and run on the CPU with CUDA's semantics.
// Device memory is the emulator's (cudaMalloc), so every access of a kernel is checked.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tools/cudaemu/jit.h"
#include "tools/cudaemu/runtime_api.h"
#include "tools/gpu/gpu.h"

namespace gpu {

namespace {

class EmulatedKernel : public Kernel {
 public:
  explicit EmulatedKernel(std::shared_ptr<const cudaemu::JitKernel> jit) : jit_(std::move(jit)) {}
  const std::string& name() const override { return jit_->name(); }
  const cudaemu::JitKernel& jit() const { return *jit_; }

 private:
  std::shared_ptr<const cudaemu::JitKernel> jit_;
};

class EmulatedGpu : public Gpu {
 public:
  std::string name() const override {
    return "cudaemu (an emulated GPU, " + std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " cores)";
  }
  bool emulated() const override { return true; }
  int arch() const override { return 90; }

  uint64_t alloc(size_t bytes) override {
    ++stats_.allocations;
    void* p = nullptr;
    check(cudaemu::cudaMalloc(&p, std::max<size_t>(bytes, 1)), "cudaMalloc(" + std::to_string(bytes) + " bytes)");
    return reinterpret_cast<uint64_t>(p);
  }
  void free(uint64_t address) override {
    ++stats_.frees;
    check(cudaemu::cudaFree(reinterpret_cast<void*>(address)), "cudaFree");
  }
  void copy_in(uint64_t to, const void* from, size_t bytes) override {
    ++stats_.copies_in;
    stats_.bytes_in += static_cast<int64_t>(bytes);
    check(cudaemu::cudaMemcpy(reinterpret_cast<void*>(to), from, bytes, cudaemu::cudaMemcpyHostToDevice), "cudaMemcpy in");
  }
  void copy_out(void* to, uint64_t from, size_t bytes) override {
    ++stats_.copies_out;
    stats_.bytes_out += static_cast<int64_t>(bytes);
    check(cudaemu::cudaMemcpy(to, reinterpret_cast<const void*>(from), bytes, cudaemu::cudaMemcpyDeviceToHost), "cudaMemcpy out");
  }

  std::shared_ptr<const Kernel> load(const KernelCode& code) override {
    const std::string key = code.name + '\0' + code.source;
    if (auto it = kernels_.find(key); it != kernels_.end()) return it->second;
    std::shared_ptr<const cudaemu::JitKernel> compiled;
    try {
      compiled = jit().compile(code.source, code.name);
    } catch (const cudaemu::JitError& e) {
      throw GpuError("the emulator cannot compile kernel " + code.name + ": " + e.what());
    }
    ++stats_.kernels_loaded;
    auto kernel = std::make_shared<EmulatedKernel>(compiled);
    kernels_.emplace(key, kernel);
    return kernel;
  }

  void launch(const Kernel& kernel, LaunchDims dims, const std::vector<uint64_t>& buffers) override {
    check_dims(kernel.name(), dims);
    ++stats_.launches;
    std::vector<void*> pointers;
    for (uint64_t b : buffers) pointers.push_back(reinterpret_cast<void*>(b));
    const auto& k = dynamic_cast<const EmulatedKernel&>(kernel);
    const cudaemu::dim3 grid(static_cast<unsigned>(dims.blocks)), block(static_cast<unsigned>(dims.threads));
    if (const cudaemu::cudaError_t e = k.jit().launch(grid, block, 0, pointers); e != cudaemu::cudaSuccess) {
      throw GpuError("kernel " + kernel.name() + " faulted on the emulator (" + cudaemu::cudaGetErrorName(e) + "):\n" +
                     cudaemu::last_report());
    }
  }

  void synchronize() override {}

 private:
  void check(cudaemu::cudaError_t e, const std::string& what) {
    if (e != cudaemu::cudaSuccess) {
      throw GpuError(what + ": " + cudaemu::cudaGetErrorName(e) + "\n" + cudaemu::last_report());
    }
  }
  static cudaemu::Jit& jit() {
    static cudaemu::Jit* j = new cudaemu::Jit;  // shared by every EmulatedGpu of the process
    return *j;
  }

  std::map<std::string, std::shared_ptr<EmulatedKernel>> kernels_;
};

}  // namespace

std::shared_ptr<Gpu> open_emulated_gpu() { return std::make_shared<EmulatedGpu>(); }

bool emulator_available(std::string* why) {
  static const std::string reason = [] {
    const char* cxx = std::getenv("CUDAEMU_CXX");
    const std::string compiler = cxx != nullptr && *cxx ? cxx : cudaemu::JitOptions{}.compiler;
    return std::system((compiler + " --version > /dev/null 2>&1").c_str()) == 0
               ? std::string()
               : "the emulator compiles kernels with " + compiler + ", which does not run here";
  }();
  if (why != nullptr) *why = reason;
  return reason.empty();
}

}  // namespace gpu
