// A caching allocator: memory handed back by free() is kept in size-bucketed free lists and
// handed out again, so a training loop that allocates the same buffers every step stops calling
// the driver (or the C library) after its first step.
//
//   CachingAllocator allocator({.name = "CUDA", .allocate = raw_alloc, .release = raw_free});
//   uint64_t a = allocator.allocate(1000);   // rounds up to a 1024-byte bucket: a real alloc
//   allocator.free(a);                        // goes to the 1024 free list, not to the driver
//   uint64_t b = allocator.allocate(700);    // same bucket: reuses a, no driver call
//   allocator.stats().device_allocs          // 1
//
// Why: cuMemAlloc and cuMemFree are slow (cuMemFree synchronizes the whole device), and a
// step of MNIST training makes hundreds of temporary buffers. On the CPU (HostDevice in
// backends/device.h) a buffer past glibc's mmap threshold (32 MiB at most) is a fresh mmap each
// time, and every page of it faults on first touch: MNIST's largest CPU buffers (51 MB) were
// written at 0.4 GB/s. PyTorch's CUDACachingAllocator and tinygrad's LRUAllocator do the same.
// Reuse is safe without events because every kernel and copy of a device runs in order (one
// CUDA stream; the CPU runs kernels one after another): a later kernel cannot start before the
// earlier one that used the freed memory has finished.
//
// When the device is out of memory, the allocator returns its whole cache to the driver and
// tries once more; if that fails too it throws tinyref::Error naming the requested size.
//
// It is written against two callbacks, not a driver, so tests exercise it without a GPU.
#ifndef TINYREF_BACKENDS_ALLOCATOR_H_
#define TINYREF_BACKENDS_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace tinyref {

struct RawMemory {
  std::string name = "device";  // in error messages: "CUDA alloc: out of memory ..."
  // Returns a device address, or 0 when the device is out of memory; throws tinyref::Error
  // for any other failure.
  std::function<uint64_t(size_t bytes)> allocate;
  std::function<void(uint64_t address)> release;
  // Optional: appended to the out-of-memory message ("device has 1.2 GiB free of 80 GiB").
  std::function<std::string()> describe = nullptr;
};

struct AllocatorStats {
  int64_t device_allocs = 0;  // real allocations made through RawMemory::allocate
  int64_t device_frees = 0;   // real releases
  int64_t reuses = 0;         // allocate() served from a free list
  size_t live_bytes = 0;      // handed out and not yet freed (bucket sizes)
  size_t cached_bytes = 0;    // sitting in the free lists
};

class CachingAllocator {
 public:
  explicit CachingAllocator(RawMemory raw);
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;
  ~CachingAllocator();  // releases everything, the cache and buffers still live

  // At least `bytes` (0 counts as 1) of device memory; never returns 0.
  uint64_t allocate(size_t bytes);
  // Returns the buffer to its free list. free(0) does nothing; an address this allocator did
  // not hand out (or already freed) throws tinyref::Error.
  void free(uint64_t address);
  // Gives every cached (free) buffer back to the device.
  void release_cache();

  const AllocatorStats& stats() const { return stats_; }

  // The size actually reserved for a request: powers of two up to 1 MiB (few buckets for the
  // many small tensors), then multiples of 2 MiB (the driver's large-page size, so rounding
  // wastes nothing the driver would not waste anyway).
  static size_t bucket_size(size_t bytes);

 private:
  RawMemory raw_;
  std::map<size_t, std::vector<uint64_t>> free_lists_;  // bucket size -> cached addresses
  std::unordered_map<uint64_t, size_t> live_;           // address -> bucket size
  AllocatorStats stats_;
};

}  // namespace tinyref

#endif  // TINYREF_BACKENDS_ALLOCATOR_H_
