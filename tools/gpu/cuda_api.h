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
// The driver's function table is tinyref's (tinyref/backends/cuda/driver.h: its types,
// constants and one pointer per entry point); this layer adds the errors chapters 7 and 8 catch
// (GpuError). NVRTC's table is declared here with CUDA's own names and values (the library's
// ABI), so nothing here needs a CUDA header.
#ifndef TOOLS_GPU_CUDA_API_H_
#define TOOLS_GPU_CUDA_API_H_

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "tinyref/backends/cuda/driver.h"

namespace gpu {

// Everything that goes wrong below the chapter's code: no driver, a failed call, a kernel
// fault (with the emulator's report), a compile that cannot run.
class GpuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using tinyref::cuda::CUcontext;
using tinyref::cuda::CUdevice;
using tinyref::cuda::CUdeviceptr;
using tinyref::cuda::CUfunction;
using tinyref::cuda::CUmodule;
using tinyref::cuda::CUresult;
using tinyref::cuda::CUstream;
using tinyref::cuda::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
using tinyref::cuda::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
using tinyref::cuda::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
using tinyref::cuda::CUDA_SUCCESS;

using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram*;
inline constexpr nvrtcResult NVRTC_SUCCESS = 0;

// Return type, name, symbol, parameters: one line per entry point.
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

// The driver's entry points, as function pointers with the API's names (cu.cuInit(0)).
struct DriverApi : tinyref::cuda::Driver {
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
