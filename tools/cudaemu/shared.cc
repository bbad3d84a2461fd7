// Shared memory: a block's __shared__ arrays laid out in one arena as threads first reach their
// declarations, and a shadow byte per byte that finds what compute-sanitizer's racecheck and
// initcheck find:
//   - a race: between two barriers (one interval), one thread writes a byte that another thread
//     reads or writes (threads of one warp separated by __syncwarp are ordered);
//   - an uninitialised read: a byte no thread of this block has written (the arena still holds
//     the previous block's data, as a GPU's shared memory does).
// Atomics on shared memory do not race with each other, but do with plain accesses.
#include <algorithm>
#include <cstdint>
#include <sstream>

#include "tools/cudaemu/block.h"

namespace cudaemu::detail {

namespace {

// Room for the largest opt-in dynamic part plus the static arrays beside it.
constexpr size_t kArenaBytes = kMaxSharedOptIn + kDefaultSharedLimit;

unsigned char* arena_base(SharedMemory& s) {
  if (s.arena.empty()) s.arena.resize(kArenaBytes + 16);
  const uintptr_t a = reinterpret_cast<uintptr_t>(s.arena.data());
  return reinterpret_cast<unsigned char*>((a + 15) / 16 * 16);
}

void grow_shadow(SharedMemory& s, size_t bytes) {
  if (s.shadow.size() >= bytes) return;
  s.shadow.resize(bytes);  // new bytes: never written
  s.lines.resize(bytes);
}

std::string who(uint16_t thread, const dim3& block) {
  if (thread == kMany) return "several threads";
  return thread_list({thread}, block);
}

std::string byte_of(const Region& r, size_t offset) {
  std::ostringstream os;
  os << "byte " << offset << " of " << describe_shared(r);
  return os.str();
}

const char* verb(Access a, bool past) {
  switch (a) {
    case Access::kRead: return past ? "read" : "reads";
    case Access::kWrite: return past ? "wrote" : "writes";
    case Access::kAtomic: return past ? "atomically updated" : "atomically updates";
  }
  return "";
}

[[noreturn]] void race(const Region& r, size_t offset, const CudaThread& t, Access access, Access other_access,
                       uint16_t other, const std::source_location& other_loc, const std::source_location& loc) {
  const dim3 dims = this_launch().spec->config.block;
  std::ostringstream os;
  os << "  " << thread_list({t.linear}, dims) << " " << verb(access, false) << " " << byte_of(r, offset) << " at "
     << where(loc) << ",\n"
     << "  and " << who(other, dims) << " " << verb(other_access, true) << " it at " << where(other_loc)
     << (other == kMany ? " (one of them)" : "") << ", with no __syncthreads() between the two\n";
  fault(cudaErrorLaunchFailure, "shared-memory race", os.str(), loc);
}

// Another thread's access in this barrier interval that no __syncwarp of the same warp orders.
bool unordered(uint32_t stamp, uint16_t thread, unsigned warp, uint32_t interval, uint16_t me, uint8_t my_warp,
               uint32_t mine) {
  return stamp >= interval && thread != me && !(warp == my_warp && stamp < mine);
}

}  // namespace

std::string describe_shared(const Region& r) {
  std::ostringstream os;
  if (r.line > 0) {
    os << "__shared__ " << r.name << " (" << r.size << " bytes, declared at line " << r.line << ")";
  } else {
    os << "the dynamic shared memory (extern __shared__, " << r.size << " bytes from the launch)";
  }
  return os.str();
}

void shared_begin_block(BlockRunner& runner, size_t dynamic_bytes) {
  SharedMemory& s = runner.shared_;
  s.declared.clear();
  unsigned char* base = arena_base(s);
  s.dynamic = Region{reinterpret_cast<uintptr_t>(base), dynamic_bytes, RegionKind::kShared, nullptr, 0, 0, "", 0};
  s.used = (dynamic_bytes + 15) / 16 * 16;
  grow_shadow(s, s.used);
}

const Region* dynamic_shared_region() { return &current_runner().shared().dynamic; }

const Region* shared_region_at(uint32_t offset, const std::source_location& loc) {
  SharedMemory& s = current_runner().shared();
  if (offset < s.dynamic.size) return &s.dynamic;
  for (const SharedMemory::Declared& d : s.declared)
    if (offset >= d.region.shadow_offset && offset - d.region.shadow_offset < d.region.size) return &d.region;
  std::ostringstream os;
  os << "  byte " << offset << " of the block's shared memory lies in none of its arrays:\n";
  if (s.dynamic.size > 0) os << "    bytes 0-" << s.dynamic.size - 1 << ": " << describe_shared(s.dynamic) << "\n";
  for (const SharedMemory::Declared& d : s.declared)
    os << "    bytes " << d.region.shadow_offset << "-" << d.region.shadow_offset + d.region.size - 1 << ": "
       << describe_shared(d.region) << "\n";
  fault(cudaErrorIllegalAddress, "no shared memory at this address", os.str(), loc);
}

const Region* shared_region(const Site& site, size_t bytes, size_t align, const std::source_location& loc) {
  BlockRunner& runner = current_runner();
  SharedMemory& s = runner.shared();
  for (SharedMemory::Declared& d : s.declared)
    if (d.site == &site) return &d.region;
  const size_t offset = (s.used + align - 1) / align * align;
  const size_t limit = runner.launch().shared_limit;
  if (offset + bytes > limit) {
    std::ostringstream os;
    os << "  __shared__ " << site.name << " (line " << site.line << ") needs " << bytes << " bytes, and the block has "
       << offset << " in use already (" << runner.launch().dynamic_shared << " of them dynamic); the limit is " << limit
       << " bytes per block" << (limit == kDefaultSharedLimit ? " (more needs cudaFuncSetAttribute)" : "") << "\n";
    fault(cudaErrorLaunchOutOfResources, "too much shared memory", os.str(), loc);
  }
  s.used = offset + bytes;
  grow_shadow(s, s.used);
  const uintptr_t base = reinterpret_cast<uintptr_t>(arena_base(s)) + offset;
  s.declared.push_back({&site, Region{base, bytes, RegionKind::kShared, nullptr, static_cast<uint32_t>(offset), 0,
                                      site.name, site.line}});
  return &s.declared.back().region;
}

void shared_access(uintptr_t addr, size_t bytes, const Region& region, Access access, const std::source_location& loc) {
  const CudaThread& t = this_thread();
  BlockRunner& runner = *t.runner;
  const uint32_t mine = runner.warp(t.warp).stamp;  // this thread's warp: its last barrier or __syncwarp
  const uint32_t interval = runner.barrier_stamp(), first = runner.block_first_stamp();
  const uint16_t me = static_cast<uint16_t>(t.linear);
  const uint8_t my_warp = static_cast<uint8_t>(t.warp);
  const size_t offset = addr - region.base, at = region.shadow_offset + offset;
  ShadowByte* shadow = runner.shared().shadow.data() + at;
  ShadowLines* lines = runner.shared().lines.data() + at;
  for (size_t i = 0; i < bytes; ++i) {
    ShadowByte& b = shadow[i];
    if (access != Access::kWrite && b.write_stamp < first && b.atomic_stamp < first) {
      std::ostringstream os;
      os << "  " << thread_list({t.linear}, this_launch().spec->config.block) << " reads " << byte_of(region, offset + i)
         << ", which no thread of this block has written yet\n"
         << "  (write shared memory before reading it, with a __syncthreads() between the write and the read)\n";
      fault(cudaErrorLaunchFailure, "read of uninitialised shared memory", os.str(), loc);
    }
    if (unordered(b.write_stamp, b.writer, b.writer / kWarpSize, interval, me, my_warp, mine))
      race(region, offset + i, t, access, Access::kWrite, b.writer, lines[i].write, loc);
    if (access != Access::kRead && unordered(b.read_stamp, b.reader, b.reader_warp, interval, me, my_warp, mine))
      race(region, offset + i, t, access, Access::kRead, b.reader, lines[i].read, loc);
    if (access != Access::kAtomic && unordered(b.atomic_stamp, b.atomic_writer, b.atomic_writer / kWarpSize, interval,
                                               me, my_warp, mine))
      race(region, offset + i, t, access, Access::kAtomic, b.atomic_writer, lines[i].atomic, loc);
    if (access == Access::kWrite) {
      b.write_stamp = mine;
      b.writer = me;
      lines[i].write = loc;
    } else if (access == Access::kAtomic) {
      if (b.atomic_stamp < interval) b.atomic_writer = me, lines[i].atomic = loc;
      else if (b.atomic_writer != me) b.atomic_writer = kMany;
      b.atomic_stamp = std::max(b.atomic_stamp, mine);
    } else if (b.read_stamp < interval) {  // the first read of this interval
      b.read_stamp = mine;
      b.reader = me;
      b.reader_warp = my_warp;
      lines[i].read = loc;
    } else {
      if (b.reader != me) b.reader = kMany;
      if (b.reader_warp != my_warp) b.reader_warp = kManyWarps;
      b.read_stamp = std::max(b.read_stamp, mine);
    }
  }
}

}  // namespace cudaemu::detail

namespace cudaemu {

uint32_t shared_offset(const ptr<const void>& p, size_t align, std::source_location loc) {
  using namespace detail;
  const Region* r = p.region();
  const uintptr_t addr = p.address();
  if (r == nullptr || r->kind != RegionKind::kShared || addr - r->base >= r->size) {
    std::ostringstream os;
    os << "  a shared-memory address was asked of a pointer to ";
    if (r == nullptr) {
      os << "memory the emulator does not know (a local array, or host memory)";
    } else if (r->kind == RegionKind::kGlobal) {
      os << describe_global(*r);
    } else if (r->kind == RegionKind::kUnknown) {
      os << describe_address(addr);
    } else {
      os << "byte " << static_cast<int64_t>(addr - r->base) << " of " << describe_shared(*r) << ", outside it";
    }
    os << "\n";
    fault(cudaErrorIllegalAddress, "not a shared-memory address", os.str(), loc);
  }
  const size_t offset = r->shadow_offset + (addr - r->base);
  if (offset % align != 0) {
    std::ostringstream os;
    os << "  byte " << addr - r->base << " of " << describe_shared(*r) << " is byte " << offset
       << " of the block's shared memory, which must be a multiple of " << align << " here\n";
    fault(cudaErrorMisalignedAddress, "misaligned shared-memory address", os.str(), loc);
  }
  return static_cast<uint32_t>(offset);
}

}  // namespace cudaemu
