#include "tinyref/backends/device.h"

#include <algorithm>
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

void* Buffer::ptr() {
  if (ptr_ == nullptr) {
    ptr_ = device_->alloc(nbytes());
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

void* host_alloc(size_t bytes) {
  // At least one line so every buffer has a distinct address, rounded up for aligned_alloc.
  const size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  TT_CHECK(p != nullptr, "alloc: out of host memory allocating " << bytes << " bytes");
  return p;
}

void host_free(void* ptr) { std::free(ptr); }

}  // namespace tinyref
