#include "tinyref/backends/allocator.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "tinyref/error.h"

namespace tinyref {
namespace {

constexpr size_t kMinBucket = 512;
constexpr size_t kLargeThreshold = size_t{1} << 20;  // 1 MiB
constexpr size_t kLargeGranule = size_t{2} << 20;    // 2 MiB

std::string human_bytes(size_t bytes) {
  char text[64];
  const double value = static_cast<double>(bytes);
  if (bytes >= (size_t{1} << 30)) {
    std::snprintf(text, sizeof(text), "%.2f GiB", value / (1 << 30));
  } else if (bytes >= (size_t{1} << 20)) {
    std::snprintf(text, sizeof(text), "%.2f MiB", value / (1 << 20));
  } else {
    std::snprintf(text, sizeof(text), "%zu B", bytes);
  }
  return text;
}

}  // namespace

CachingAllocator::CachingAllocator(RawMemory raw) : raw_(std::move(raw)) {
  TT_ASSERT(raw_.allocate && raw_.release);
}

CachingAllocator::~CachingAllocator() {
  // Destructors must not throw; a failing release here means the context is already gone.
  try {
    release_cache();
    for (const auto& [address, bucket] : live_) raw_.release(address);
  } catch (...) {
  }
}

size_t CachingAllocator::bucket_size(size_t bytes) {
  if (bytes <= kMinBucket) return kMinBucket;
  if (bytes <= kLargeThreshold) {
    size_t bucket = kMinBucket;
    while (bucket < bytes) bucket <<= 1;
    return bucket;
  }
  TT_CHECK(bytes <= SIZE_MAX - kLargeGranule, "alloc: " << bytes << " bytes is too large");
  return (bytes + kLargeGranule - 1) / kLargeGranule * kLargeGranule;
}

uint64_t CachingAllocator::allocate(size_t bytes) {
  const size_t bucket = bucket_size(bytes);
  if (auto list = free_lists_.find(bucket); list != free_lists_.end() && !list->second.empty()) {
    const uint64_t address = list->second.back();
    list->second.pop_back();
    stats_.cached_bytes -= bucket;
    stats_.live_bytes += bucket;
    ++stats_.reuses;
    live_.emplace(address, bucket);
    return address;
  }
  uint64_t address = raw_.allocate(bucket);
  const size_t cached_before_retry = stats_.cached_bytes;
  if (address == 0 && stats_.cached_bytes > 0) {
    // Memory sits idle in other buckets: give it back and try once more.
    release_cache();
    address = raw_.allocate(bucket);
  }
  if (address == 0) {
    std::string device = raw_.describe ? "; " + raw_.describe() : "";
    TT_CHECK(false, raw_.name << " alloc: out of memory allocating "
                        << bytes << " bytes (" << human_bytes(bytes) << ", bucket "
                        << human_bytes(bucket) << "); tinyref holds " << human_bytes(stats_.live_bytes)
                        << " in live buffers and had " << human_bytes(cached_before_retry)
                        << " cached, released before retrying" << device);
  }
  ++stats_.device_allocs;
  stats_.live_bytes += bucket;
  live_.emplace(address, bucket);
  return address;
}

void CachingAllocator::free(uint64_t address) {
  if (address == 0) return;
  auto found = live_.find(address);
  TT_CHECK(found != live_.end(), raw_.name << " free: address 0x" << std::hex << address << std::dec
                                     << " was not allocated here or is already freed");
  const size_t bucket = found->second;
  live_.erase(found);
  stats_.live_bytes -= bucket;
  stats_.cached_bytes += bucket;
  free_lists_[bucket].push_back(address);
}

void CachingAllocator::release_cache() {
  for (auto& [bucket, addresses] : free_lists_) {
    while (!addresses.empty()) {
      const uint64_t address = addresses.back();
      addresses.pop_back();
      stats_.cached_bytes -= bucket;
      ++stats_.device_frees;
      raw_.release(address);
    }
  }
  free_lists_.clear();
}

}  // namespace tinyref
