// Device memory as the host's runtime API calls see it (memory.cc): allocations that kernels'
// checked pointers find, and copies that refuse what a GPU would refuse (a host pointer where
// the kind says device, a range past an allocation's end), saying why.
//
//   void* d = nullptr;
//   device_malloc(&d, 4000, /*track_init=*/true, "cudaMalloc");
//   std::string why;
//   if (device_memcpy(d, host, 8000, cudaMemcpyHostToDevice, &why) != cudaSuccess) ...
//   // why: "cudaMemcpy(..., cudaMemcpyHostToDevice): the destination range of 8000 bytes runs
//   //       past the end of allocation #1 (4000 bytes from cudaMalloc): only 4000 bytes from byte 0"
#ifndef TOOLS_CUDAEMU_MEMORY_H_
#define TOOLS_CUDAEMU_MEMORY_H_

#include <cstddef>
#include <string>

#include "tools/cudaemu/types.h"

namespace cudaemu::detail {

// track_init: remember which bytes were written (off for memory the host writes directly).
cudaError_t device_malloc(void** ptr, size_t bytes, bool track_init, const char* how);
cudaError_t device_free(void* ptr, std::string* why);
cudaError_t device_memcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, std::string* why);
cudaError_t device_memset(void* dst, int value, size_t bytes, std::string* why);
size_t device_bytes_live();

}  // namespace cudaemu::detail

#endif  // TOOLS_CUDAEMU_MEMORY_H_
