#include "tools/gpu/cuda_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace gpu {

namespace {

template <typename Fn>
void resolve(void* handle, const char* symbol, Fn*& slot, std::string& missing) {
  slot = reinterpret_cast<Fn*>(dlsym(handle, symbol));
  if (slot == nullptr && missing.empty()) missing = symbol;
}

// Fill every slot of the api from the library at `handle`; return the first symbol it lacks.
#define GPU_RESOLVE(ret, name, symbol, params) resolve(handle, symbol, api.name, missing);
std::string fill(void* handle, NvrtcApi& api) {
  std::string missing;
  GPU_NVRTC_FUNCTIONS(GPU_RESOLVE)
  return missing;
}
#undef GPU_RESOLVE

// RTLD_LOCAL keeps the library's symbols to itself. NVRTC is never closed, as the driver is
// not (tinyref's Driver::load says why).
void* open_first(const std::vector<std::string>& candidates, std::string& tried) {
  for (const std::string& path : candidates) {
    if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
    const char* why = dlerror();
    tried += "\n  " + path + ": " + (why ? why : "not found");
  }
  return nullptr;
}

struct Loaded {
  DriverApi driver;
  std::string driver_error;
  NvrtcApi nvrtc;
  std::string nvrtc_error;
};

const Loaded& loaded_driver() {
  static const Loaded* l = [] {
    auto* out = new Loaded;
    try {
      static_cast<tinyref::cuda::Driver&>(out->driver) = *tinyref::cuda::Driver::load();
    } catch (const std::exception& e) {
      out->driver_error = e.what();  // names the library and why, or the missing symbol
    }
    return out;
  }();
  return *l;
}

const Loaded& loaded_nvrtc() {
  static const Loaded* l = [] {
    auto* out = new Loaded;
    std::vector<std::string> candidates = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"};
    for (const char* root : {static_cast<const char*>(std::getenv("CUDA_PATH")), "/usr/local/cuda"}) {
      if (root != nullptr) candidates.push_back(std::string(root) + "/lib64/libnvrtc.so");
    }
    std::string tried;
    void* handle = open_first(candidates, tried);
    if (handle == nullptr) {
      out->nvrtc_error = "no NVRTC (the CUDA toolkit's libnvrtc.so) on this machine:" + tried;
    } else if (std::string missing = fill(handle, out->nvrtc); !missing.empty()) {
      out->nvrtc_error = "this NVRTC has no " + missing + " (older than CUDA 11.2?)";
    }
    return out;
  }();
  return *l;
}

}  // namespace

std::string DriverApi::error_name(CUresult result) const {
  const char* name = nullptr;
  if (cuGetErrorName != nullptr && cuGetErrorName(result, &name) == CUDA_SUCCESS && name != nullptr) return name;
  return "CUDA error " + std::to_string(result);
}

void DriverApi::check(CUresult result, const std::string& what) const {
  if (result != CUDA_SUCCESS) throw GpuError(what + ": " + error_name(result));
}

std::string NvrtcApi::version() const {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS) return "unknown";
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<int> NvrtcApi::architectures() const {
  int count = 0;
  if (nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0) return {};
  std::vector<int> archs(static_cast<size_t>(count));
  if (nvrtcGetSupportedArchs(archs.data()) != NVRTC_SUCCESS) return {};
  return archs;
}

const DriverApi& driver_api() {
  const Loaded& l = loaded_driver();
  if (!l.driver_error.empty()) throw GpuError(l.driver_error);
  return l.driver;
}

const NvrtcApi* nvrtc_api() {
  const Loaded& l = loaded_nvrtc();
  return l.nvrtc_error.empty() ? &l.nvrtc : nullptr;
}

std::string nvrtc_missing() { return loaded_nvrtc().nvrtc_error; }

}  // namespace gpu
