// The host side: the part of CUDA's runtime API that the course's code calls (memory, copies,
// launches, synchronisation, errors, events, device properties), and the launch that the
// rewriter turns `kernel<<<grid, block, shared>>>(args)` into.
//
//   float* d = nullptr;
//   cudaMalloc(&d, n * sizeof(float));
//   cudaMemcpy(d, host, n * sizeof(float), cudaMemcpyHostToDevice);
//   scale<<<(n + 255) / 256, 256>>>(d, n);       // rewritten: cudaemu::launch("scale", scale,
//                                                //   cudaemu::config((n + 255) / 256, 256), d, n)
//   cudaError_t err = cudaDeviceSynchronize();    // a fault in the kernel: its code, once;
//   if (err != cudaSuccess) puts(cudaemu::last_report());            // and what went wrong
//
// A launch runs to completion before it returns (the emulator has one in-order queue; streams
// are accepted and ignored). Errors are not sticky: after a fault the emulator keeps working,
// where a GPU would need a new process.
#ifndef TOOLS_CUDAEMU_RUNTIME_API_H_
#define TOOLS_CUDAEMU_RUNTIME_API_H_

#include <cstddef>
#include <cstring>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tools/cudaemu/checked.h"
#include "tools/cudaemu/types.h"

namespace cudaemu {

struct LaunchConfig {
  dim3 grid, block;
  size_t shared_bytes;
  std::source_location loc;  // the line of the <<< >>>
};
inline LaunchConfig config(dim3 grid, dim3 block, size_t shared_bytes = 0, cudaStream_t = nullptr,
                           std::source_location loc = std::source_location::current()) {
  return {grid, block, shared_bytes, loc};
}

namespace detail {
struct KernelLaunch {
  const char* name;
  const void* kernel;                    // its identity, for cudaFuncSetAttribute
  LaunchConfig config;
  void (*run_thread)(const void* state);  // runs the kernel in the current CUDA thread
  const void* state;
};
// Runs every block, then records the outcome (for cudaGetLastError and the next sync) and
// returns it.
cudaError_t launch(const KernelLaunch& launch);
void set_max_dynamic_shared(const void* kernel, int bytes);

template <class P, class A>
P to_param(A&& a) {
  if constexpr (requires { P::launch_argument(a); } && std::is_pointer_v<std::decay_t<A>>) {
    return P::launch_argument(a);
  } else {
    return std::forward<A>(a);
  }
}
}  // namespace detail

// kernel<<<config>>>(args...): converts the arguments to the kernel's parameter types once, then
// every CUDA thread runs the kernel on its own copy of them. Returns the launch's outcome (which
// a <<< >>> statement drops, as CUDA's does).
template <class... P, class... A>
cudaError_t launch(const char* name, void (*kernel)(P...), const LaunchConfig& config, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "the launch passes a different number of arguments than the kernel takes");
  struct State {
    void (*kernel)(P...);
    std::tuple<P...> params;
  };
  const State state{kernel, std::tuple<P...>(detail::to_param<P>(std::forward<A>(args))...)};
  detail::KernelLaunch l{name, reinterpret_cast<const void*>(kernel), config,
                         [](const void* s) {
                           const State& st = *static_cast<const State*>(s);
                           std::tuple<P...> params = st.params;
                           std::apply(st.kernel, params);
                         },
                         &state};
  return detail::launch(l);
}

namespace detail {
template <class P>
struct pointee {};
template <class T>
struct pointee<ptr<T>> {
  using type = T;
};
}  // namespace detail

// A kernel whose parameters are all pointers, launched with them as an array (what a code
// generator's launcher has: jit.h's entry point).
template <class... P>
cudaError_t launch_with_arguments(const char* name, void (*kernel)(P...), const LaunchConfig& config, void* const* args) {
  return [&]<size_t... I>(std::index_sequence<I...>) {
    return launch(name, kernel, config, static_cast<typename detail::pointee<P>::type*>(args[I])...);
  }(std::index_sequence_for<P...>{});
}

// The full report of the last fault of a kernel or an API call on this host thread ("" if none);
// valid until the next report. (A C string: the prelude stays free of <string>, which would
// double what every kernel compiled at run time parses.)
const char* last_report();
// Whether reports are also printed to stderr as they happen (the default; CUDAEMU_QUIET=1 off).
void print_reports(bool on);
// How many kernel launches have faulted in this process (tests of the diagnostics count them).
long fault_count();

inline namespace cuda_api {

enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};

cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaMallocManaged(void** ptr, size_t bytes, unsigned flags = 1);
cudaError_t cudaMallocHost(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaFreeHost(void* ptr);
template <class T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
template <class T>
cudaError_t cudaMallocManaged(T** ptr, size_t bytes, unsigned flags = 1) {
  return cudaMallocManaged(reinterpret_cast<void**>(ptr), bytes, flags);
}
template <class T>
cudaError_t cudaMallocHost(T** ptr, size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaMemGetInfo(size_t* free, size_t* total);

// __constant__ and __device__ variables are host globals here: copying to one is a memcpy.
template <class T>
cudaError_t cudaMemcpyToSymbol(T& symbol, const void* src, size_t bytes, size_t offset = 0,
                               cudaMemcpyKind = cudaMemcpyHostToDevice) {
  if (offset + bytes > sizeof(T)) return cudaErrorInvalidValue;
  std::memcpy(reinterpret_cast<char*>(&symbol) + offset, src, bytes);
  return cudaSuccess;
}
template <class T>
cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t bytes, size_t offset = 0,
                                 cudaMemcpyKind = cudaMemcpyDeviceToHost) {
  if (offset + bytes > sizeof(T)) return cudaErrorInvalidValue;
  std::memcpy(dst, reinterpret_cast<const char*>(&symbol) + offset, bytes);
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize();
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t error);
const char* cudaGetErrorName(cudaError_t error);

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceReset();

// Events time the host's clock: the numbers say nothing about a GPU.
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

template <class... P>
cudaError_t cudaFuncSetAttribute(void (*kernel)(P...), cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > 227 * 1024) return cudaErrorInvalidValue;
    detail::set_max_dynamic_shared(reinterpret_cast<const void*>(kernel), value);
  }
  return cudaSuccess;
}

}  // namespace cuda_api
}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_RUNTIME_API_H_
