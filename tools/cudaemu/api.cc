// The CUDA runtime API over the emulator, and its error state: per host thread, as CUDA keeps
// it. A fault sets both the error cudaGetLastError returns (and clears) and the one the next
// synchronising call returns (and clears), so either check finds it, once.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tools/cudaemu/memory.h"
#include "tools/cudaemu/runtime.h"

namespace cudaemu {

namespace detail {
namespace {

thread_local cudaError_t tls_last_error = cudaSuccess;   // cudaGetLastError
thread_local cudaError_t tls_async_error = cudaSuccess;  // the next synchronisation
thread_local std::string tls_report;
std::atomic<long> faults{0};

bool& printing() {
  static bool on = [] {
    const char* q = std::getenv("CUDAEMU_QUIET");
    return q == nullptr || *q == '\0' || *q == '0';
  }();
  return on;
}

// An API call's own error: returned now, and remembered for cudaGetLastError.
cudaError_t api_error(cudaError_t code, const std::string& why) {
  if (code != cudaSuccess) {
    tls_last_error = code;
    publish_report("cudaemu: " + why + "\n");
  }
  return code;
}

cudaError_t take_async_error() {
  const cudaError_t e = tls_async_error;
  tls_async_error = cudaSuccess;
  return e;
}

}  // namespace

void publish_report(const std::string& report) {
  tls_report = report;
  if (printing()) std::fprintf(stderr, "%s", report.c_str());
}

cudaError_t set_launch_error(cudaError_t code) {
  tls_last_error = code;
  if (code != cudaErrorInvalidConfiguration && code != cudaErrorInvalidValue) tls_async_error = code;
  return code;
}

void note_fault() { ++faults; }

}  // namespace detail

const char* last_report() { return detail::tls_report.c_str(); }
void print_reports(bool on) { detail::printing() = on; }
long fault_count() { return detail::faults.load(); }

namespace cuda_api {

using detail::api_error;

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  return api_error(detail::device_malloc(ptr, bytes, true, "cudaMalloc"), "cudaMalloc failed");
}
cudaError_t cudaMallocManaged(void** ptr, size_t bytes, unsigned) {
  return api_error(detail::device_malloc(ptr, bytes, false, "cudaMallocManaged"), "cudaMallocManaged failed");
}
cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  if (ptr == nullptr) return api_error(cudaErrorInvalidValue, "cudaMallocHost with a null pointer");
  *ptr = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  return api_error(*ptr ? cudaSuccess : cudaErrorMemoryAllocation, "cudaMallocHost failed");
}
cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
  std::string why;
  const cudaError_t e = detail::device_free(ptr, &why);
  return api_error(e, why);
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (const cudaError_t e = detail::take_async_error(); e != cudaSuccess) return e;
  std::string why;
  const cudaError_t e = detail::device_memcpy(dst, src, bytes, kind, &why);
  return api_error(e, why);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  std::string why;
  const cudaError_t e = detail::device_memcpy(dst, src, bytes, kind, &why);
  return api_error(e, why);
}
cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  std::string why;
  const cudaError_t e = detail::device_memset(dst, value, bytes, &why);
  return api_error(e, why);
}
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t) { return cudaMemset(dst, value, bytes); }
cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  const size_t pages = static_cast<size_t>(::sysconf(_SC_PHYS_PAGES)), page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  if (total) *total = pages * page;
  if (free) *free = pages * page - detail::device_bytes_live();
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return detail::take_async_error(); }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return detail::take_async_error(); }
cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  if (stream) *stream = nullptr;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaGetLastError() {
  const cudaError_t e = detail::tls_last_error;
  detail::tls_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return detail::tls_last_error; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidDeviceFunction: return "cudaErrorInvalidDeviceFunction";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorAssert: return "cudaErrorAssert";
    case cudaErrorIllegalInstruction: return "cudaErrorIllegalInstruction";
    case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorAssert: return "device-side assert triggered";
    case cudaErrorIllegalInstruction: return "an illegal instruction was encountered";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorLaunchFailure: return "unspecified launch failure (the emulator's report says which)";
  }
  return "unknown error";
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (count) *count = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  return api_error(device == 0 ? cudaSuccess : cudaErrorInvalidDevice, "cudaSetDevice: the emulator has device 0 only");
}
cudaError_t cudaGetDevice(int* device) {
  if (device) *device = 0;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (p == nullptr || device != 0) return api_error(cudaErrorInvalidDevice, "cudaGetDeviceProperties: device 0 only");
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "cudaemu (CUDA emulated on the CPU, sm_90 limits)");
  cudaMemGetInfo(nullptr, &p->totalGlobalMem);
  p->sharedMemPerBlock = detail::kDefaultSharedLimit;
  p->sharedMemPerBlockOptin = detail::kMaxSharedOptIn;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = 1024, p->maxThreadsDim[1] = 1024, p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647, p->maxGridSize[1] = 65535, p->maxGridSize[2] = 65535;
  p->multiProcessorCount = static_cast<int>(detail::worker_count());
  p->major = 9, p->minor = 0;
  p->maxThreadsPerMultiProcessor = 2048;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  if (value == nullptr || cudaGetDeviceProperties(&p, device) != cudaSuccess) return cudaErrorInvalidValue;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
  }
  return cudaSuccess;
}
cudaError_t cudaDeviceReset() {
  detail::tls_last_error = detail::tls_async_error = cudaSuccess;
  return cudaSuccess;
}

// An event is the host's clock when it was recorded.
struct EventRecord {
  std::chrono::steady_clock::time_point at;
};
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  if (event == nullptr) return cudaErrorInvalidValue;
  *event = reinterpret_cast<cudaEvent_t>(new EventRecord{std::chrono::steady_clock::now()});
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<EventRecord*>(event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (event == nullptr) return cudaErrorInvalidResourceHandle;
  reinterpret_cast<EventRecord*>(event)->at = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return detail::take_async_error(); }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr || start == nullptr || end == nullptr) return cudaErrorInvalidValue;
  const auto d = reinterpret_cast<EventRecord*>(end)->at - reinterpret_cast<EventRecord*>(start)->at;
  *ms = std::chrono::duration<float, std::milli>(d).count();
  return cudaSuccess;
}

long long clock64() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace cuda_api
}  // namespace cudaemu
