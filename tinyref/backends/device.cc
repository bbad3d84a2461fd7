#include "tinyref/backends/device.h"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tinyref/error.h"

namespace tinyref {

Buffer::~Buffer() {
  if (ptr_ == nullptr) return;
  device_->free(ptr_);
  --stats().buffers_alive;
}

Buffer::Buffer(Device& device, DType dtype, size_t numel) : device_(&device), dtype_(dtype), numel_(numel) {
  TT_CHECK(numel <= SIZE_MAX / itemsize(dtype), device.name() << ": " << numel << " " << dtype_name(dtype)
                                                              << " elements are more bytes than a size_t counts");
}

void* Buffer::ptr() {
  if (ptr_ == nullptr) {
    try {
      ptr_ = device_->alloc(nbytes());
    } catch (const std::exception& e) {  // the device's Error, or bad_alloc: say what was asked for
      TT_CHECK(false, device_->name() << ": cannot allocate " << numel_ << " " << dtype_name(dtype_) << " elements ("
                                      << nbytes() << " bytes): " << e.what());
    }
    ++stats().buffers_alive;
  }
  return ptr_;
}

// An empty buffer has no memory on any device (and memcpy may not see a null pointer).
void Buffer::copy_in(const void* host) {
  if (nbytes() != 0) device_->copy_in(ptr(), host, nbytes());
}
void Buffer::copy_out(void* host) {
  if (nbytes() != 0) device_->copy_out(host, ptr(), nbytes());
}

Stats& stats() {
  static Stats s;
  return s;
}

uint64_t host_memory_bytes() {
  static const uint64_t bytes = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(::sysconf(_SC_PAGE_SIZE));
  return bytes;
}

void check_fits_host_memory(const std::string& who, size_t bytes) {
  TT_CHECK(bytes <= host_memory_bytes(), who << ": " << bytes << " bytes are more than this machine's "
                                             << host_memory_bytes() << " bytes of memory");
}

HostDevice::HostDevice()
    : cache_(RawMemory{
          .name = "host",
          // Buckets are multiples of 512 bytes: aligned_alloc's size rule holds.
          .allocate = [](size_t bytes) { return reinterpret_cast<uint64_t>(std::aligned_alloc(64, bytes)); },
          .release = [](uint64_t address) { std::free(reinterpret_cast<void*>(address)); },
      }) {}

void* HostDevice::alloc(size_t bytes) {
  check_fits_host_memory("alloc", bytes);
  std::lock_guard<std::mutex> lock(mu_);
  return reinterpret_cast<void*>(cache_.allocate(bytes));
}
void HostDevice::free(void* ptr) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.free(reinterpret_cast<uint64_t>(ptr));
}
void HostDevice::copy_in(void* dst, const void* host_src, size_t bytes) { std::memcpy(dst, host_src, bytes); }
void HostDevice::copy_out(void* host_dst, const void* src, size_t bytes) { std::memcpy(host_dst, src, bytes); }

}  // namespace tinyref
