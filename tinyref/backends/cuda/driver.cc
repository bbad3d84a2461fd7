#include "tinyref/backends/cuda/driver.h"

#include <dlfcn.h>

#include <string>

#include "tinyref/error.h"

namespace tinyref::cuda {
namespace {

// Resolves `symbol` into `slot`, converting dlsym's void* to the member's function type.
template <typename Fn>
void resolve(void* library, const char* symbol, Fn*& slot) {
  void* address = dlsym(library, symbol);
  TT_CHECK(address != nullptr, "CUDA driver: libcuda has no symbol " << symbol
                                   << " (driver too old for this build?)");
  slot = reinterpret_cast<Fn*>(address);
}

// The names of the errors a machine without a working driver produces, for when the driver
// cannot decode them itself.
std::string fallback_name(CUresult result) {
  switch (result) {
    case 3:
      return "CUDA_ERROR_NOT_INITIALIZED (error 3)";
    case 34:
      return "CUDA_ERROR_STUB_LIBRARY (error 34: this libcuda is the toolkit's link stub, "
             "not a real driver)";
    case 35:
      return "CUDA_ERROR_INSUFFICIENT_DRIVER (error 35: the driver is older than the runtime)";
    case 100:
      return "CUDA_ERROR_NO_DEVICE (error 100)";
    default:
      return "CUDA error " + std::to_string(result);
  }
}

}  // namespace

std::shared_ptr<const Driver> Driver::load(const std::string& library) {
  // RTLD_LOCAL keeps the driver's symbols out of the global namespace; dlopen is reference
  // counted, so each Context loading it again costs only a lookup.
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    TT_CHECK(false, "CUDA driver: cannot load " << library << " ("
                                                << (reason ? reason : "unknown reason")
                                                << "); is an NVIDIA driver installed?");
  }
  auto driver = std::make_shared<Driver>();
  driver->library_handle = handle;
  resolve(handle, "cuGetErrorName", driver->cuGetErrorName);
  resolve(handle, "cuGetErrorString", driver->cuGetErrorString);
  resolve(handle, "cuInit", driver->cuInit);
  resolve(handle, "cuDriverGetVersion", driver->cuDriverGetVersion);
  resolve(handle, "cuDeviceGetCount", driver->cuDeviceGetCount);
  resolve(handle, "cuDeviceGet", driver->cuDeviceGet);
  resolve(handle, "cuDeviceGetName", driver->cuDeviceGetName);
  resolve(handle, "cuDeviceGetAttribute", driver->cuDeviceGetAttribute);
  resolve(handle, "cuDeviceTotalMem_v2", driver->cuDeviceTotalMem);
  resolve(handle, "cuDevicePrimaryCtxRetain", driver->cuDevicePrimaryCtxRetain);
  resolve(handle, "cuDevicePrimaryCtxRelease_v2", driver->cuDevicePrimaryCtxRelease);
  resolve(handle, "cuCtxSetCurrent", driver->cuCtxSetCurrent);
  resolve(handle, "cuCtxSynchronize", driver->cuCtxSynchronize);
  resolve(handle, "cuStreamCreate", driver->cuStreamCreate);
  resolve(handle, "cuStreamDestroy_v2", driver->cuStreamDestroy);
  resolve(handle, "cuStreamSynchronize", driver->cuStreamSynchronize);
  resolve(handle, "cuMemGetInfo_v2", driver->cuMemGetInfo);
  resolve(handle, "cuMemAlloc_v2", driver->cuMemAlloc);
  resolve(handle, "cuMemFree_v2", driver->cuMemFree);
  resolve(handle, "cuMemcpyHtoD_v2", driver->cuMemcpyHtoD);
  resolve(handle, "cuMemcpyDtoH_v2", driver->cuMemcpyDtoH);
  resolve(handle, "cuMemcpyHtoDAsync_v2", driver->cuMemcpyHtoDAsync);
  resolve(handle, "cuMemcpyDtoHAsync_v2", driver->cuMemcpyDtoHAsync);
  resolve(handle, "cuMemcpyDtoDAsync_v2", driver->cuMemcpyDtoDAsync);
  resolve(handle, "cuMemsetD8Async", driver->cuMemsetD8Async);
  resolve(handle, "cuModuleLoadData", driver->cuModuleLoadData);
  resolve(handle, "cuModuleUnload", driver->cuModuleUnload);
  resolve(handle, "cuModuleGetFunction", driver->cuModuleGetFunction);
  resolve(handle, "cuFuncGetAttribute", driver->cuFuncGetAttribute);
  resolve(handle, "cuFuncSetAttribute", driver->cuFuncSetAttribute);
  resolve(handle, "cuLaunchKernel", driver->cuLaunchKernel);
  resolve(handle, "cuEventCreate", driver->cuEventCreate);
  resolve(handle, "cuEventDestroy_v2", driver->cuEventDestroy);
  resolve(handle, "cuEventRecord", driver->cuEventRecord);
  resolve(handle, "cuEventSynchronize", driver->cuEventSynchronize);
  resolve(handle, "cuEventElapsedTime", driver->cuEventElapsedTime);
  resolve(handle, "cuStreamBeginCapture_v2", driver->cuStreamBeginCapture);
  resolve(handle, "cuStreamEndCapture", driver->cuStreamEndCapture);
  resolve(handle, "cuGraphInstantiateWithFlags", driver->cuGraphInstantiateWithFlags);
  resolve(handle, "cuGraphLaunch", driver->cuGraphLaunch);
  resolve(handle, "cuGraphExecDestroy", driver->cuGraphExecDestroy);
  resolve(handle, "cuGraphDestroy", driver->cuGraphDestroy);
  return driver;
}

std::string Driver::describe(CUresult result) const {
  const char* name = nullptr;
  const char* text = nullptr;
  // Both calls work before cuInit, so even a failing cuInit gets its name decoded. The
  // toolkit's link stub (lib64/stubs/libcuda.so) answers every call with error 34, these too.
  if (cuGetErrorName == nullptr || cuGetErrorName(result, &name) != CUDA_SUCCESS || !name) {
    return fallback_name(result);
  }
  std::string out = name;
  if (cuGetErrorString != nullptr && cuGetErrorString(result, &text) == CUDA_SUCCESS && text) {
    out += std::string(" (") + text + ")";
  }
  return out;
}

void Driver::check(CUresult result, const std::string& what) const {
  TT_CHECK(result == CUDA_SUCCESS, "CUDA driver: " << what << " failed: " << describe(result));
}

}  // namespace tinyref::cuda
