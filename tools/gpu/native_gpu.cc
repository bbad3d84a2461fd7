// The native Gpu: the driver API on device 0's primary context, the default stream.
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tools/gpu/gpu.h"

namespace gpu {

namespace {

class NativeKernel : public Kernel {
 public:
  NativeKernel(std::string name, CUmodule module, CUfunction function)
      : name_(std::move(name)), module_(module), function_(function) {}
  const std::string& name() const override { return name_; }
  CUmodule module() const { return module_; }
  CUfunction function() const { return function_; }

 private:
  std::string name_;
  CUmodule module_;
  CUfunction function_;
};

class NativeGpu : public Gpu {
 public:
  NativeGpu() : cu_(driver_api()) {
    cu_.check(cu_.cuInit(0), "cuInit");
    int count = 0;
    cu_.check(cu_.cuDeviceGetCount(&count), "cuDeviceGetCount");
    if (count == 0) throw GpuError("the CUDA driver sees no GPU");
    cu_.check(cu_.cuDeviceGet(&device_, 0), "cuDeviceGet(0)");
    cu_.check(cu_.cuDevicePrimaryCtxRetain(&context_, device_), "cuDevicePrimaryCtxRetain");
    activate();
    char name[256] = {};
    cu_.check(cu_.cuDeviceGetName(name, sizeof name - 1, device_), "cuDeviceGetName");
    int major = 0, minor = 0;
    cu_.check(cu_.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device_), "compute capability");
    cu_.check(cu_.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device_), "compute capability");
    arch_ = 10 * major + minor;
    name_ = std::string(name) + " (sm_" + std::to_string(arch_) + ")";
  }

  ~NativeGpu() override {
    // Errors here cannot be reported; a destructor must not throw.
    cu_.cuCtxSetCurrent(context_);
    cu_.cuCtxSynchronize();
    for (auto& [bytes, list] : free_lists_) {
      for (CUdeviceptr p : list) cu_.cuMemFree(p);
    }
    for (auto& [key, kernel] : kernels_) cu_.cuModuleUnload(kernel->module());
    cu_.cuDevicePrimaryCtxRelease(device_);
  }

  std::string name() const override { return name_; }
  bool emulated() const override { return false; }
  int arch() const override { return arch_; }

  // cuMemFree waits for the whole device, so freeing every intermediate buffer of a training
  // step would serialize it. Freed blocks wait in a list per size for the next alloc of that
  // size instead (a step allocates the same sizes every time); all go back at the end.
  uint64_t alloc(size_t bytes) override {
    activate();
    ++stats_.allocations;
    const size_t rounded = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;
    std::vector<CUdeviceptr>& list = free_lists_[rounded];
    if (!list.empty()) {
      const CUdeviceptr p = list.back();
      list.pop_back();
      sizes_[p] = rounded;
      return p;
    }
    CUdeviceptr p = 0;
    cu_.check(cu_.cuMemAlloc(&p, rounded), "cuMemAlloc(" + std::to_string(rounded) + " bytes)");
    sizes_[p] = rounded;
    return p;
  }

  void free(uint64_t address) override {
    auto it = sizes_.find(address);
    if (it == sizes_.end()) throw GpuError("free: " + std::to_string(address) + " is not an allocation of this GPU");
    ++stats_.frees;
    free_lists_[it->second].push_back(address);
    sizes_.erase(it);
  }

  void copy_in(uint64_t to, const void* from, size_t bytes) override {
    activate();
    ++stats_.copies_in;
    stats_.bytes_in += static_cast<int64_t>(bytes);
    if (bytes > 0) cu_.check(cu_.cuMemcpyHtoD(to, from, bytes), "cuMemcpyHtoD(" + std::to_string(bytes) + " bytes)");
  }

  void copy_out(void* to, uint64_t from, size_t bytes) override {
    activate();
    ++stats_.copies_out;
    stats_.bytes_out += static_cast<int64_t>(bytes);
    // A kernel's fault surfaces at the next call that waits for it: this one.
    if (bytes > 0) cu_.check(cu_.cuMemcpyDtoH(to, from, bytes), "cuMemcpyDtoH (or a kernel before it)");
  }

  std::shared_ptr<const Kernel> load(const KernelCode& code) override {
    activate();
    const std::string key = code.name + '\0' + code.image;
    if (auto it = kernels_.find(key); it != kernels_.end()) return it->second;
    if (code.image.empty()) throw GpuError("load " + code.name + ": no CUBIN or PTX (the native GPU runs NVRTC's output)");
    // A PTX image must end in NUL; a CUBIN is read by its own header's sizes.
    const std::string image = code.image + '\0';
    CUmodule module = nullptr;
    cu_.check(cu_.cuModuleLoadData(&module, image.data()), "cuModuleLoadData(" + code.name + ")");
    CUfunction function = nullptr;
    if (CUresult r = cu_.cuModuleGetFunction(&function, module, code.name.c_str()); r != CUDA_SUCCESS) {
      cu_.cuModuleUnload(module);
      throw GpuError("load: the module has no extern \"C\" __global__ function " + code.name + " (" + cu_.error_name(r) + ")");
    }
    ++stats_.kernels_loaded;
    auto kernel = std::make_shared<NativeKernel>(code.name, module, function);
    kernels_.emplace(key, kernel);
    return kernel;
  }

  void launch(const Kernel& kernel, LaunchDims dims, const std::vector<uint64_t>& buffers) override {
    check_dims(kernel.name(), dims);
    activate();
    ++stats_.launches;
    std::vector<CUdeviceptr> values(buffers.begin(), buffers.end());
    std::vector<void*> params;
    for (CUdeviceptr& v : values) params.push_back(&v);
    const auto& k = dynamic_cast<const NativeKernel&>(kernel);
    cu_.check(cu_.cuLaunchKernel(k.function(), static_cast<unsigned>(dims.blocks), 1, 1, static_cast<unsigned>(dims.threads),
                                 1, 1, 0, nullptr, params.data(), nullptr),
              "launch " + kernel.name() + " <<<" + std::to_string(dims.blocks) + ", " + std::to_string(dims.threads) + ">>>");
  }

  void synchronize() override {
    activate();
    cu_.check(cu_.cuCtxSynchronize(), "cuCtxSynchronize (a kernel faulted)");
  }

 private:
  // The driver's current context is per host thread; a test may use the GPU from another one.
  void activate() const { cu_.check(cu_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); }

  const DriverApi& cu_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  int arch_ = 0;
  std::string name_;
  std::unordered_map<uint64_t, size_t> sizes_;                 // live allocations
  std::map<size_t, std::vector<CUdeviceptr>> free_lists_;      // freed ones, by size
  std::unordered_map<std::string, std::shared_ptr<NativeKernel>> kernels_;
};

}  // namespace

std::shared_ptr<Gpu> open_native_gpu() { return std::make_shared<NativeGpu>(); }

bool native_gpu_available(std::string* why) {
  static std::once_flag once;
  static std::string reason;  // empty: a GPU answers
  std::call_once(once, [] {
    try {
      const DriverApi& cu = driver_api();
      int count = 0;
      cu.check(cu.cuInit(0), "cuInit");
      cu.check(cu.cuDeviceGetCount(&count), "cuDeviceGetCount");
      if (count == 0) reason = "the CUDA driver sees no GPU";
    } catch (const GpuError& e) {
      reason = e.what();
    }
  });
  if (why != nullptr) *why = reason;
  return reason.empty();
}

}  // namespace gpu
