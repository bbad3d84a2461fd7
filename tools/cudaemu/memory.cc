// Device memory: every cudaMalloc is a host allocation with a Region (and a byte per byte saying
// whether anything wrote it), kept in a table that checked pointers are looked up in. Here too:
// the slow path of every checked access, where faults are told apart and reported.
#include "tools/cudaemu/memory.h"

#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <shared_mutex>
#include <sstream>

#include "tools/cudaemu/block.h"

namespace cudaemu::detail {

const Region kNullRegion{0, 0, RegionKind::kUnknown};

namespace {

const Region kNotDeviceRegion{0, 0, RegionKind::kUnknown};

struct Allocation {
  Region region;
  void* data = nullptr;
  std::unique_ptr<uint8_t[]> init;
  const char* how = "cudaMalloc";
};

// Freed memory stays allocated a while (up to kQuarantineBytes), so that the host's allocator
// cannot hand the same addresses out again: a stale device pointer is then told apart from a
// host pointer.
constexpr size_t kQuarantineBytes = size_t{64} << 20;

struct Table {
  std::shared_mutex mu;
  std::map<uintptr_t, std::unique_ptr<Allocation>> live;  // by base address
  std::deque<Allocation> quarantine;                      // freed, oldest first
  size_t quarantine_bytes = 0;
  int64_t next_id = 1;
  size_t bytes_live = 0;
};

Table& table() {
  static Table* t = new Table;  // never destroyed: kernels may run during static destruction
  return *t;
}

const Allocation* find_locked(Table& t, uintptr_t addr) {
  auto it = t.live.upper_bound(addr);
  if (it == t.live.begin()) return nullptr;
  --it;
  const Region& r = it->second->region;
  return addr - r.base < std::max<size_t>(r.size, 1) ? it->second.get() : nullptr;
}

std::string hex(uintptr_t a) {
  std::ostringstream os;
  os << "0x" << std::hex << a;
  return os.str();
}

const char* access_name(Access a) {
  switch (a) {
    case Access::kRead: return "read";
    case Access::kWrite: return "write";
    case Access::kAtomic: return "atomic";
  }
  return "access";
}

std::string describe_region(const Region& r) {
  return r.kind == RegionKind::kShared ? describe_shared(r) : describe_global(r);
}

[[noreturn]] void out_of_bounds(uintptr_t addr, size_t bytes, const Region& r, Access access,
                                const std::source_location& loc) {
  const int64_t offset = static_cast<int64_t>(addr - r.base);
  std::ostringstream os;
  os << "  the " << bytes << "-byte " << access_name(access) << " at " << hex(addr) << " is ";
  if (offset < 0) {
    os << -offset << " bytes before the start of ";
  } else if (static_cast<size_t>(offset) >= r.size) {
    os << static_cast<size_t>(offset) - r.size << " bytes past the end of ";
  } else {
    os << "at byte " << offset << " of ";
  }
  os << describe_region(r) << "\n";
  if (offset >= 0 && offset % static_cast<int64_t>(bytes) == 0)
    os << "  (element " << offset / static_cast<int64_t>(bytes) << " of an array of " << r.size / bytes << " elements of "
       << bytes << " bytes)\n";
  fault(cudaErrorIllegalAddress, std::string("out-of-bounds ") + access_name(access), os.str(), loc);
}

}  // namespace

std::string describe_global(const Region& r) {
  std::ostringstream os;
  os << "allocation #" << r.id << " (" << r.size << " bytes from cudaMalloc)";
  return os.str();
}

const Region* find_allocation(uintptr_t addr) {
  Table& t = table();
  std::shared_lock lock(t.mu);
  const Allocation* a = find_locked(t, addr);
  return a ? &a->region : nullptr;
}

std::string describe_address(uintptr_t addr) {
  if (addr < 4096) return "a null pointer";
  Table& t = table();
  std::shared_lock lock(t.mu);
  for (const Allocation& a : t.quarantine)
    if (addr - a.region.base < std::max<size_t>(a.region.size, 1))
      return "memory already freed with cudaFree (it was " + describe_global(a.region) + ")";
  return "host memory, not memory from cudaMalloc (" + hex(addr) + ")";
}

const Region* region_of(uintptr_t addr, bool launch_argument) {
  if (addr < 4096) return &kNullRegion;
  if (!launch_argument && tls_thread == nullptr) return nullptr;  // host code: unchecked
  if (const Region* r = find_allocation(addr)) return r;
  // A kernel argument must point at device memory; inside a kernel a pointer to a local array
  // (or to a __constant__ variable, a host global here) stays unchecked.
  return launch_argument ? &kNotDeviceRegion : nullptr;
}

void access_slow(uintptr_t addr, size_t bytes, size_t align, const Region* region, Access access,
                 const std::source_location& loc) {
  if (region == nullptr || tls_thread == nullptr) return;
  if (region->kind == RegionKind::kUnknown)
    fault(cudaErrorIllegalAddress, std::string("invalid ") + access_name(access),
          addr < 4096 ? "  the pointer is null\n" : "  the pointer points at " + describe_address(addr) + "\n", loc);
  const uintptr_t offset = addr - region->base;
  if (offset > region->size || region->size - offset < bytes) out_of_bounds(addr, bytes, *region, access, loc);
  if (addr % align != 0) {
    std::ostringstream os;
    os << "  a " << bytes << "-byte access must be " << align << "-byte aligned; " << hex(addr) << " is byte "
       << offset << " of " << describe_region(*region) << " (" << addr % align << " bytes off)\n";
    fault(cudaErrorMisalignedAddress, std::string("misaligned ") + access_name(access), os.str(), loc);
  }
  if (region->kind == RegionKind::kShared) return shared_access(addr, bytes, *region, access, loc);
  if (access == Access::kAtomic) {
    BlockRunner& runner = current_runner();
    if (!runner.waited_for_lower_blocks) {
      runner.launch().wait_for_lower_blocks(runner.block());
      runner.waited_for_lower_blocks = true;
    }
  }
  if (region->init == nullptr) return;
  bool written = true;
  for (size_t i = 0; i < bytes; ++i) written = written && __atomic_load_n(region->init + offset + i, __ATOMIC_RELAXED);
  if (access != Access::kWrite && !written) {
    std::ostringstream os;
    os << "  bytes " << offset << "-" << offset + bytes - 1 << " of " << describe_global(*region)
       << " were never written: no cudaMemcpy, cudaMemset or kernel stored there before this "
       << access_name(access) << "\n";
    fault(cudaErrorLaunchFailure, "read of uninitialised device memory", os.str(), loc);
  }
  for (size_t i = 0; i < bytes; ++i) __atomic_store_n(region->init + offset + i, 1, __ATOMIC_RELAXED);
}

// ---------------------------------------------------------------- the host's calls

cudaError_t device_malloc(void** ptr, size_t bytes, bool track_init, const char* how) {
  if (ptr == nullptr) return cudaErrorInvalidValue;
  auto a = std::make_unique<Allocation>();
  const size_t rounded = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;  // CUDA aligns to 256
  a->data = std::aligned_alloc(256, rounded);
  if (a->data == nullptr) return cudaErrorMemoryAllocation;
  std::memset(a->data, 0xff, rounded);  // NaN floats, -1 ints: garbage that shows
  if (track_init) a->init.reset(new uint8_t[rounded]());
  a->how = how;
  Table& t = table();
  std::unique_lock lock(t.mu);
  a->region = Region{reinterpret_cast<uintptr_t>(a->data), bytes, RegionKind::kGlobal, a->init.get(), 0, t.next_id++, how};
  t.bytes_live += bytes;
  *ptr = a->data;
  t.live.emplace(a->region.base, std::move(a));
  return cudaSuccess;
}

cudaError_t device_free(void* ptr, std::string* why) {
  if (ptr == nullptr) return cudaSuccess;
  Table& t = table();
  std::unique_lock lock(t.mu);
  auto it = t.live.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == t.live.end()) {
    lock.unlock();
    *why = "cudaFree of " + describe_address(reinterpret_cast<uintptr_t>(ptr)) +
           " (only the pointers cudaMalloc returned can be freed, once)";
    return cudaErrorInvalidValue;
  }
  t.bytes_live -= it->second->region.size;
  t.quarantine_bytes += it->second->region.size;
  t.quarantine.push_back(std::move(*it->second));
  t.live.erase(it);
  while (t.quarantine_bytes > kQuarantineBytes) {
    t.quarantine_bytes -= t.quarantine.front().region.size;
    std::free(t.quarantine.front().data);
    t.quarantine.pop_front();
  }
  return cudaSuccess;
}

size_t device_bytes_live() {
  Table& t = table();
  std::shared_lock lock(t.mu);
  return t.bytes_live;
}

namespace {

// The allocation holding [p, p + bytes), or why there is none.
const Allocation* device_range(const void* p, size_t bytes, const char* side, std::string* why) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const Allocation* alloc = find_locked(table(), a);
  if (alloc == nullptr) {
    *why = std::string("the ") + side + " is not device memory";
    return nullptr;
  }
  const size_t offset = a - alloc->region.base;
  if (alloc->region.size - offset < bytes) {
    std::ostringstream os;
    os << "the " << side << " range of " << bytes << " bytes runs past the end of " << describe_global(alloc->region)
       << ", which has " << alloc->region.size - offset << " bytes from byte " << offset << " on";
    *why = os.str();
    return nullptr;
  }
  return alloc;
}

uint8_t* init_of(const Allocation* a, const void* p) {
  return a->init ? a->init.get() + (reinterpret_cast<uintptr_t>(p) - a->region.base) : nullptr;
}

}  // namespace

cudaError_t device_memcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, std::string* why) {
  if (bytes == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) {
    *why = "cudaMemcpy with a null pointer";
    return cudaErrorInvalidValue;
  }
  Table& t = table();
  std::shared_lock lock(t.mu);
  const bool src_device = find_locked(t, reinterpret_cast<uintptr_t>(src)) != nullptr;
  const bool dst_device = find_locked(t, reinterpret_cast<uintptr_t>(dst)) != nullptr;
  if (kind == cudaMemcpyDefault)
    kind = src_device ? (dst_device ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost)
                      : (dst_device ? cudaMemcpyHostToDevice : cudaMemcpyHostToHost);
  const bool want_src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  const bool want_dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  static const char* kNames[] = {"cudaMemcpyHostToHost", "cudaMemcpyHostToDevice", "cudaMemcpyDeviceToHost",
                                 "cudaMemcpyDeviceToDevice"};
  if (kind < 0 || kind > 3) {
    *why = "cudaMemcpy with an unknown kind";
    return cudaErrorInvalidValue;
  }
  const std::string call = std::string("cudaMemcpy(..., ") + kNames[kind] + "): ";
  if (!want_src_device && src_device) {
    *why = call + "the source is device memory, but the kind says host (swapped arguments?)";
    return cudaErrorInvalidValue;
  }
  if (!want_dst_device && dst_device) {
    *why = call + "the destination is device memory, but the kind says host (swapped arguments?)";
    return cudaErrorInvalidValue;
  }
  const Allocation* s = want_src_device ? device_range(src, bytes, "source", why) : nullptr;
  const Allocation* d = want_dst_device ? device_range(dst, bytes, "destination", why) : nullptr;
  if ((want_src_device && s == nullptr) || (want_dst_device && d == nullptr)) {
    *why = call + *why;
    return cudaErrorInvalidValue;
  }
  std::memmove(dst, src, bytes);
  if (uint8_t* dinit = d ? init_of(d, dst) : nullptr) {
    const uint8_t* sinit = s ? init_of(s, src) : nullptr;
    if (sinit) std::memmove(dinit, sinit, bytes);
    else std::memset(dinit, 1, bytes);
  }
  return cudaSuccess;
}

cudaError_t device_memset(void* dst, int value, size_t bytes, std::string* why) {
  if (bytes == 0) return cudaSuccess;
  Table& t = table();
  std::shared_lock lock(t.mu);
  const Allocation* d = device_range(dst, bytes, "destination", why);
  if (d == nullptr) {
    *why = "cudaMemset: " + *why;
    return cudaErrorInvalidValue;
  }
  std::memset(dst, value, bytes);
  if (uint8_t* init = init_of(d, dst)) std::memset(init, 1, bytes);
  return cudaSuccess;
}

}  // namespace cudaemu::detail
