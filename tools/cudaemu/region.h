// What a checked pointer knows about the memory it points into, and the one check every
// emulated load and store passes through. The inline fast path handles an in-bounds, aligned
// global access; everything else (shared memory's race and init bookkeeping, and every fault)
// goes out of line into the runtime.
//
//   const Region* r = ...;                        // a cudaMalloc'd block, a __shared__ array, ...
//   check_access<float>(addr, r, Access::kRead, loc);   // returns, or reports and unwinds
//
// A fault never returns: it records the report (kernel, block, thread, source line, address
// and allocation) and throws KernelFault, which the scheduler catches at the bottom of the
// CUDA thread's fiber. Outside a kernel (host code calling a __host__ __device__ function)
// pointers carry no region and nothing is checked.
#ifndef TOOLS_CUDAEMU_REGION_H_
#define TOOLS_CUDAEMU_REGION_H_

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <type_traits>

#include "tools/cudaemu/types.h"

namespace cudaemu {

enum class Access : uint8_t { kRead, kWrite, kAtomic };

enum class RegionKind : uint8_t {
  kGlobal,   // cudaMalloc / cudaMallocManaged
  kShared,   // a __shared__ array or variable, or the block's dynamic shared memory
  kUnknown,  // a pointer into no device allocation (host memory, freed memory, null)
};

struct Region {
  uintptr_t base = 0;
  size_t size = 0;
  RegionKind kind = RegionKind::kUnknown;
  uint8_t* init = nullptr;      // global: one byte per byte, 1 once written (host copies too)
  uint32_t shadow_offset = 0;   // shared: where base sits in the block's shadow
  int64_t id = 0;               // global: the n-th cudaMalloc of the process
  const char* name = "";        // shared: the array's name; global: ""
  int line = 0;                 // shared: the declaration's line
};

// Thrown (only) by the runtime when a kernel faults; caught where the fiber starts.
struct KernelFault {};

namespace detail {

// The CUDA thread running on this OS thread: its built-in variables, read by threadIdx & co.
struct ThreadInfo {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
  void* runtime;  // the scheduler's own record of this thread
};
ThreadInfo* current_thread();

// The out-of-line part of every check: shared-memory bookkeeping, uninitialised reads and
// faults. Returns only when the access is fine.
void access_slow(uintptr_t addr, size_t bytes, size_t align, const Region* region, Access access,
                 const std::source_location& loc);
// An in-bounds, aligned access of shared memory: the race and init bookkeeping.
void shared_access(uintptr_t addr, size_t bytes, const Region& region, Access access, const std::source_location& loc);

// Whether all `bytes` init bytes are set (a word at a time where the access is a whole word).
template <size_t kBytes>
inline bool all_set(const uint8_t* init) {
  if constexpr (kBytes == 4 || kBytes == 8) {
    using Word = std::conditional_t<kBytes == 4, uint32_t, uint64_t>;
    if (reinterpret_cast<uintptr_t>(init) % kBytes == 0)
      return __atomic_load_n(reinterpret_cast<const Word*>(init), __ATOMIC_RELAXED) == static_cast<Word>(0x0101010101010101ull);
  }
  for (size_t i = 0; i < kBytes; ++i)
    if (__atomic_load_n(init + i, __ATOMIC_RELAXED) == 0) return false;
  return true;
}
template <size_t kBytes>
inline void set_all(uint8_t* init) {
  if constexpr (kBytes == 4 || kBytes == 8) {
    using Word = std::conditional_t<kBytes == 4, uint32_t, uint64_t>;
    if (reinterpret_cast<uintptr_t>(init) % kBytes == 0)
      return __atomic_store_n(reinterpret_cast<Word*>(init), static_cast<Word>(0x0101010101010101ull), __ATOMIC_RELAXED);
  }
  for (size_t i = 0; i < kBytes; ++i) __atomic_store_n(init + i, 1, __ATOMIC_RELAXED);
}

}  // namespace detail

// Checks one access of sizeof(T) bytes at addr; the caller then copies the bytes.
template <class T>
inline void check_access(uintptr_t addr, const Region* region, Access access, const std::source_location& loc) {
  if (region == nullptr) return;  // outside a kernel: unchecked
  const uintptr_t offset = addr - region->base;
  const bool plain = offset <= region->size && region->size - offset >= sizeof(T) && addr % alignof(T) == 0 &&
                     access != Access::kAtomic;
  if (plain && region->kind == RegionKind::kShared) return detail::shared_access(addr, sizeof(T), *region, access, loc);
  if (!plain || region->kind != RegionKind::kGlobal) return detail::access_slow(addr, sizeof(T), alignof(T), region, access, loc);
  if (region->init == nullptr) return;
  if (access == Access::kRead) {
    if (!detail::all_set<sizeof(T)>(region->init + offset))
      detail::access_slow(addr, sizeof(T), alignof(T), region, access, loc);
  } else {
    detail::set_all<sizeof(T)>(region->init + offset);
  }
}

}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_REGION_H_
