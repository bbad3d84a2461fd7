// CUDA's value types as the emulator defines them: dim3 and uint3, the vector types with their
// alignment (a float4 is 16-byte aligned, so a misaligned float4 access is caught as on a GPU),
// the make_* helpers, and the runtime API's enums. The prelude brings them into the global
// namespace, where CUDA code expects them.
//
//   dim3 grid((n + 255) / 256), block(256);      // y and z default to 1
//   float4 v = make_float4(1, 2, 3, 4);          // v.x == 1, alignof(float4) == 16
//   cudaError_t err = cudaSuccess;               // the same numbers as CUDA's (700: illegal address)
#ifndef TOOLS_CUDAEMU_TYPES_H_
#define TOOLS_CUDAEMU_TYPES_H_

#include <cstddef>
#include <cstdint>

namespace cudaemu {
// CUDA's own names; the prelude brings this namespace (only) into the global one.
inline namespace cuda_api {

// The vector types: CUDA aligns each to its whole size (up to 16 bytes), which is what makes a
// float4 load one 128-bit instruction, and a float4 access at a 4-byte offset a fault.
#define CUDAEMU_VECTOR_TYPES(T, name)                                                          \
  struct alignas(sizeof(T)) name##1 { T x; };                                                  \
  struct alignas(2 * sizeof(T)) name##2 { T x, y; };                                           \
  struct name##3 { T x, y, z; };                                                               \
  struct alignas(4 * sizeof(T) > 16 ? 16 : 4 * sizeof(T)) name##4 { T x, y, z, w; };          \
  inline constexpr name##1 make_##name##1(T x) { return {x}; }                                 \
  inline constexpr name##2 make_##name##2(T x, T y) { return {x, y}; }                         \
  inline constexpr name##3 make_##name##3(T x, T y, T z) { return {x, y, z}; }                 \
  inline constexpr name##4 make_##name##4(T x, T y, T z, T w) { return {x, y, z, w}; }
CUDAEMU_VECTOR_TYPES(float, float)
CUDAEMU_VECTOR_TYPES(double, double)
CUDAEMU_VECTOR_TYPES(int, int)
CUDAEMU_VECTOR_TYPES(unsigned, uint)
CUDAEMU_VECTOR_TYPES(signed char, char)
CUDAEMU_VECTOR_TYPES(unsigned char, uchar)
CUDAEMU_VECTOR_TYPES(short, short)
CUDAEMU_VECTOR_TYPES(unsigned short, ushort)
CUDAEMU_VECTOR_TYPES(long long, longlong)
CUDAEMU_VECTOR_TYPES(unsigned long long, ulonglong)
#undef CUDAEMU_VECTOR_TYPES

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return {x, y, z}; }
};

// The runtime API's error codes, numbered as CUDA numbers them.
enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorAssert = 710,
  cudaErrorIllegalInstruction = 715,
  cudaErrorMisalignedAddress = 716,
  cudaErrorLaunchFailure = 719,
};
using cudaError_t = cudaError;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9,
};

struct StreamTag;
struct EventTag;
using cudaStream_t = StreamTag*;  // every stream is the one in-order queue: work runs at launch
using cudaEvent_t = EventTag*;

// What cudaGetDeviceProperties reports: an H100-shaped device (the limits the emulator checks).
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;        // 48 KB without opting in
  size_t sharedMemPerBlockOptin;   // 227 KB with cudaFuncSetAttribute
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int multiProcessorCount;         // the emulator's worker threads
  int major, minor;
  int clockRate;
  int memoryClockRate;
  int memoryBusWidth;
  int l2CacheSize;
  int maxThreadsPerMultiProcessor;
  int concurrentKernels;
};

}  // namespace cuda_api
}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_TYPES_H_
