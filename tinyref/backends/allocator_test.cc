// The caching allocator against a fake device that counts real allocations and can run out.
#include "tinyref/backends/allocator.h"

#include <cstdint>
#include <set>
#include <unordered_map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tinyref/error.h"

namespace tinyref {
namespace {

// Hands out fake addresses from a budget; 0 when it is spent, like CUDA_ERROR_OUT_OF_MEMORY.
struct FakeDevice {
  size_t capacity = size_t{1} << 30;
  size_t used = 0;
  uint64_t next = 0x1000;
  std::unordered_map<uint64_t, size_t> blocks;

  RawMemory raw() {
    return RawMemory{
        .allocate = [this](size_t bytes) -> uint64_t {
          if (used + bytes > capacity) return 0;
          used += bytes;
          const uint64_t address = next;
          next += bytes;
          blocks[address] = bytes;
          return address;
        },
        .release =
            [this](uint64_t address) {
              ASSERT_EQ(blocks.count(address), 1u) << "released twice or never allocated";
              used -= blocks[address];
              blocks.erase(address);
            },
        .describe = [this] { return "fake device has " + std::to_string(capacity - used) + " free"; },
    };
  }
};

TEST(AllocatorTest, BucketSizes) {
  EXPECT_EQ(CachingAllocator::bucket_size(0), 512u);
  EXPECT_EQ(CachingAllocator::bucket_size(1), 512u);
  EXPECT_EQ(CachingAllocator::bucket_size(512), 512u);
  EXPECT_EQ(CachingAllocator::bucket_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::bucket_size(3000), 4096u);
  EXPECT_EQ(CachingAllocator::bucket_size(1 << 20), 1u << 20);
  EXPECT_EQ(CachingAllocator::bucket_size((1 << 20) + 1), 2u << 20);
  EXPECT_EQ(CachingAllocator::bucket_size(5u << 20), 6u << 20);
}

TEST(AllocatorTest, FreedBufferIsReusedForTheSameBucket) {
  FakeDevice device;
  CachingAllocator allocator(device.raw());
  const uint64_t a = allocator.allocate(1000);
  allocator.free(a);
  const uint64_t b = allocator.allocate(700);  // 1024 bucket again
  EXPECT_EQ(a, b);
  EXPECT_EQ(allocator.stats().device_allocs, 1);
  EXPECT_EQ(allocator.stats().reuses, 1);
  const uint64_t c = allocator.allocate(5000);  // another bucket: a real allocation
  EXPECT_NE(c, b);
  EXPECT_EQ(allocator.stats().device_allocs, 2);
  EXPECT_EQ(allocator.stats().live_bytes, 1024u + 8192u);
}

// What a training step does: temporaries of the same sizes every step.
TEST(AllocatorTest, RepeatedStepsDoNotGrowDeviceAllocations) {
  FakeDevice device;
  CachingAllocator allocator(device.raw());
  const std::vector<size_t> sizes = {4, 3136, 100352, 3136, 40, 2359296, 4};
  std::vector<int64_t> allocs_after_step;
  for (int step = 0; step < 10; ++step) {
    std::vector<uint64_t> buffers;
    for (size_t size : sizes) buffers.push_back(allocator.allocate(size));
    std::set<uint64_t> distinct(buffers.begin(), buffers.end());
    ASSERT_EQ(distinct.size(), buffers.size()) << "two live buffers share an address";
    for (uint64_t buffer : buffers) allocator.free(buffer);
    allocs_after_step.push_back(allocator.stats().device_allocs);
  }
  EXPECT_EQ(allocs_after_step.front(), static_cast<int64_t>(sizes.size()));
  EXPECT_EQ(allocs_after_step.back(), allocs_after_step.front());
  EXPECT_EQ(allocator.stats().live_bytes, 0u);
}

TEST(AllocatorTest, OutOfMemoryReleasesTheCacheAndRetries) {
  FakeDevice device;
  device.capacity = 4 << 20;
  CachingAllocator allocator(device.raw());
  allocator.free(allocator.allocate(3 << 20));  // 4 MiB bucket, now cached: device is full
  const uint64_t big = allocator.allocate(2 << 20);  // another bucket: needs the cache back
  EXPECT_NE(big, 0u);
  EXPECT_EQ(allocator.stats().device_frees, 1);
  EXPECT_EQ(allocator.stats().cached_bytes, 0u);
}

TEST(AllocatorTest, OutOfMemoryErrorNamesTheRequestedSize) {
  FakeDevice device;
  device.capacity = 1 << 20;
  CachingAllocator allocator(device.raw());
  const uint64_t held = allocator.allocate(1000);
  try {
    allocator.allocate(size_t{3} << 30);
    FAIL() << "expected tinyref::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("out of memory allocating 3221225472 bytes (3.00 GiB"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("fake device has"), std::string::npos) << message;
  }
  allocator.free(held);  // still usable after the error
  EXPECT_EQ(allocator.allocate(1000), held);
}

TEST(AllocatorTest, FreeingWhatWasNotAllocatedIsAnError) {
  FakeDevice device;
  CachingAllocator allocator(device.raw());
  EXPECT_THROW(allocator.free(0xdead), Error);
  const uint64_t a = allocator.allocate(10);
  allocator.free(a);
  EXPECT_THROW(allocator.free(a), Error);  // double free
  EXPECT_NO_THROW(allocator.free(0));      // like free(NULL)
}

TEST(AllocatorTest, DestructorReturnsEverythingToTheDevice) {
  FakeDevice device;
  {
    CachingAllocator allocator(device.raw());
    allocator.allocate(100);                    // still live
    allocator.free(allocator.allocate(5000));   // cached
    EXPECT_EQ(device.blocks.size(), 2u);
  }
  EXPECT_EQ(device.blocks.size(), 0u);
  EXPECT_EQ(device.used, 0u);
}

}  // namespace
}  // namespace tinyref
