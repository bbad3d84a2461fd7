// Kernel search, tinygrad's BEAM made small: for each big kernel on a GPU, compile the
// optimizer's few choices (codegen/optimizer.h: optimize_gpu's variants: block sizes, register
// tiles), time each on scratch buffers, keep the fastest. The choice is cached in memory and
// on disk, so only a kernel's first run anywhere pays for the search.
//
//   TT_SEARCH=0 ./course mnist --device cuda     # every kernel takes variant 0, no timing
//   TT_DEBUG=2 ...                               # prints each variant's time as it is searched
//
// Searched: GPU devices, kernels of at least 2^16 iterations (small ones are launch bound; a
// better tile cannot help them). The disk cache is $XDG_CACHE_HOME/tinyref/search (else
// ~/.cache/tinyref/search): one file per kernel, named by a hash of the device, the AST and the
// buffer sizes, holding the variant's number.
#ifndef TINYREF_ENGINE_SEARCH_H_
#define TINYREF_ENGINE_SEARCH_H_

#include <string>
#include <vector>

#include "tinyref/backends/device.h"
#include "tinyref/codegen/uops.h"
#include "tinyref/schedule/schedule.h"

namespace tinyref {

// Whether compile-time search runs for this device ($TT_SEARCH, default on for GPUs; off on the
// CUDA emulator, whose timings say nothing of a GPU's and which checks the scratch buffers'
// reads: each variant would be a g++ run that faults on uninitialised memory).
bool search_enabled(const Device& device);

// Every variant optimize_gpu offers for the kernel, lowered, in variant order (options.variant
// is ignored; the rest of options is the device's).
std::vector<Program> lower_variants(const ScheduleItem& item, CodegenOptions options);

// Each kernel's program: the fastest variant where the kernel is searched, the cached choice
// where it was searched before, variant 0 where it is too small to search. keys[i] names
// items[i] (device, AST, buffer sizes). The variants of all the kernels are compiled together
// first (Device::compile_ahead: every core busy with NVRTC), then timed kernel by kernel.
std::vector<Program> search_programs(const std::vector<const ScheduleItem*>& items,
                                     const std::vector<std::string>& keys, Device& device);

}  // namespace tinyref

#endif  // TINYREF_ENGINE_SEARCH_H_
