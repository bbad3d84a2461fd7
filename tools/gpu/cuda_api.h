// CUDA's two C libraries, found at run time: the driver (libcuda, which comes with the GPU's
// driver) and NVRTC (libnvrtc, CUDA's compiler as a library, which comes with the toolkit).
//
//   const gpu::DriverApi& cu = gpu::driver_api();       // throws GpuError: no driver here
//   cu.check(cu.cuInit(0), "cuInit");                    // throws GpuError("cuInit: CUDA_ERROR_NO_DEVICE")
//
//   const gpu::NvrtcApi* rtc = gpu::nvrtc_api();         // null where there is no NVRTC
//   gpu::nvrtcProgram p;
//   rtc->nvrtcCreateProgram(&p, source, "E_4.cu", 0, nullptr, nullptr);
//
// Why dlopen, not linking? A program linked against libcuda does not even start where there is
// no driver (the loader stops it before main), and one linked against libnvrtc does not build
// without the toolkit. Loaded at run time, both absences become errors we can report or test
// around: the course builds on any laptop, grades through the emulator where there is no GPU,
// and compiles every generated kernel with NVRTC wherever the toolkit is installed.
//
// The few types and constants we use are declared here with CUDA's own names and values (the
// libraries' ABI), so nothing here needs a CUDA header.
#ifndef TOOLS_GPU_CUDA_API_H_
#define TOOLS_GPU_CUDA_API_H_

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpu {

// Everything that goes wrong below the chapter's code: no driver, a failed call, a kernel
// fault (with the emulator's report), a compile that cannot run.
class GpuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;
inline constexpr CUresult CUDA_SUCCESS = 0;
inline constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram*;
inline constexpr nvrtcResult NVRTC_SUCCESS = 0;

// Return type, name, symbol, parameters: one line per entry point. The versioned symbols (_v2) are
// the 64-bit ABI; the plain names are CUDA 3's 32-bit one, kept for old binaries.
#define GPU_DRIVER_FUNCTIONS(X)                                                             \
  X(CUresult, cuInit, "cuInit", (unsigned flags))                                           \
  X(CUresult, cuGetErrorName, "cuGetErrorName", (CUresult error, const char** name))        \
  X(CUresult, cuDeviceGetCount, "cuDeviceGetCount", (int* count))                           \
  X(CUresult, cuDeviceGet, "cuDeviceGet", (CUdevice* device, int ordinal))                  \
  X(CUresult, cuDeviceGetName, "cuDeviceGetName", (char* name, int length, CUdevice device)) \
  X(CUresult, cuDeviceGetAttribute, "cuDeviceGetAttribute", (int* value, int attribute, CUdevice device)) \
  X(CUresult, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext* context, CUdevice device)) \
  X(CUresult, cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice device)) \
  X(CUresult, cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext context))                      \
  X(CUresult, cuCtxSynchronize, "cuCtxSynchronize", ())                                     \
  X(CUresult, cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr* address, size_t bytes))            \
  X(CUresult, cuMemFree, "cuMemFree_v2", (CUdeviceptr address))                             \
  X(CUresult, cuMemcpyHtoD, "cuMemcpyHtoD_v2", (CUdeviceptr to, const void* from, size_t bytes)) \
  X(CUresult, cuMemcpyDtoH, "cuMemcpyDtoH_v2", (void* to, CUdeviceptr from, size_t bytes))  \
  X(CUresult, cuModuleLoadData, "cuModuleLoadData", (CUmodule* module, const void* image))  \
  X(CUresult, cuModuleUnload, "cuModuleUnload", (CUmodule module))                          \
  X(CUresult, cuModuleGetFunction, "cuModuleGetFunction", (CUfunction* f, CUmodule module, const char* name)) \
  X(CUresult, cuLaunchKernel, "cuLaunchKernel",                                             \
    (CUfunction f, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned block_x,     \
     unsigned block_y, unsigned block_z, unsigned shared_bytes, CUstream stream,            \
     void** params, void** extra))

#define GPU_NVRTC_FUNCTIONS(X)                                                              \
  X(nvrtcResult, nvrtcVersion, "nvrtcVersion", (int* major, int* minor))                    \
  X(const char*, nvrtcGetErrorString, "nvrtcGetErrorString", (nvrtcResult result))          \
  X(nvrtcResult, nvrtcGetNumSupportedArchs, "nvrtcGetNumSupportedArchs", (int* count))      \
  X(nvrtcResult, nvrtcGetSupportedArchs, "nvrtcGetSupportedArchs", (int* archs))            \
  X(nvrtcResult, nvrtcCreateProgram, "nvrtcCreateProgram",                                  \
    (nvrtcProgram* program, const char* source, const char* name, int headers,              \
     const char* const* header_sources, const char* const* header_names))                   \
  X(nvrtcResult, nvrtcDestroyProgram, "nvrtcDestroyProgram", (nvrtcProgram* program))       \
  X(nvrtcResult, nvrtcCompileProgram, "nvrtcCompileProgram",                                \
    (nvrtcProgram program, int options, const char* const* option_list))                    \
  X(nvrtcResult, nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize", (nvrtcProgram program, size_t* bytes)) \
  X(nvrtcResult, nvrtcGetProgramLog, "nvrtcGetProgramLog", (nvrtcProgram program, char* log)) \
  X(nvrtcResult, nvrtcGetCUBINSize, "nvrtcGetCUBINSize", (nvrtcProgram program, size_t* bytes)) \
  X(nvrtcResult, nvrtcGetCUBIN, "nvrtcGetCUBIN", (nvrtcProgram program, char* cubin))       \
  X(nvrtcResult, nvrtcGetPTXSize, "nvrtcGetPTXSize", (nvrtcProgram program, size_t* bytes)) \
  X(nvrtcResult, nvrtcGetPTX, "nvrtcGetPTX", (nvrtcProgram program, char* ptx))

#define GPU_DECLARE_SLOT(ret, name, symbol, params) ret(*name) params = nullptr;

// The driver's entry points, as function pointers with the API's names.
struct DriverApi {
  GPU_DRIVER_FUNCTIONS(GPU_DECLARE_SLOT)

  // "CUDA_ERROR_OUT_OF_MEMORY", or "CUDA error 2" where the driver cannot name it.
  std::string error_name(CUresult result) const;
  // Throws GpuError("<what>: <error_name>") unless the call succeeded.
  void check(CUresult result, const std::string& what) const;
};

// NVRTC's entry points. nvrtcGetErrorString returns the error's name as a C string.
struct NvrtcApi {
  GPU_NVRTC_FUNCTIONS(GPU_DECLARE_SLOT)

  std::string version() const;           // "13.0": part of every cache key of compiled kernels
  std::vector<int> architectures() const;  // what it can make a CUBIN for: {75, 80, ..., 120}
};
#undef GPU_DECLARE_SLOT

// The driver, loaded once (libcuda.so.1). Throws GpuError saying why it is not there.
const DriverApi& driver_api();

// NVRTC, loaded once (libnvrtc.so from the loader's path, $CUDA_PATH/lib64 or
// /usr/local/cuda/lib64), or null where there is none; nvrtc_missing() then says why.
const NvrtcApi* nvrtc_api();
std::string nvrtc_missing();

}  // namespace gpu

#endif  // TOOLS_GPU_CUDA_API_H_
