// The emulator's insides, shared by its .cc files (device code never sees this header): a
// launch and its blocks, the per-OS-thread BlockRunner that runs one block's CUDA threads as
// fibers, device memory, and faults.
//
//   launch.cc   Launch: config checks, blocks over the worker threads, block-order gate, result
//   block.cc    BlockRunner: a fiber per CUDA thread, the scheduler loop, __syncthreads
//   warp.cc     warp collectives (__shfl_*_sync, __ballot_sync, __syncwarp, ...)
//   shared.cc   __shared__ storage and its shadow: races and uninitialised reads
//   memory.cc   device allocations, copies, and the checks of global accesses
//   fault.cc    reports: what, where (kernel, block, thread, line), and the memory involved
//   api.cc      the CUDA runtime API over all of the above
//
// A CUDA thread's life: BlockRunner::run_block makes a fiber for it and resumes it; it runs the
// kernel until it reaches a barrier or a warp collective (it yields back to the scheduler), a
// fault (KernelFault unwinds it), or its end.
#ifndef TOOLS_CUDAEMU_RUNTIME_H_
#define TOOLS_CUDAEMU_RUNTIME_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <source_location>
#include <string>
#include <vector>

#include "tools/cudaemu/region.h"
#include "tools/cudaemu/runtime_api.h"
#include "tools/cudaemu/types.h"

namespace cudaemu::detail {

inline constexpr size_t kDefaultSharedLimit = 48 * 1024;  // per block, without opting in
inline constexpr size_t kMaxSharedOptIn = 227 * 1024;     // an H100's most, with cudaFuncSetAttribute
inline constexpr unsigned kWarpSize = 32;

// One kernel launch, shared by the workers that run its blocks.
struct Launch {
  const KernelLaunch* spec = nullptr;
  uint64_t blocks = 0;
  unsigned threads_per_block = 0;
  size_t dynamic_shared = 0;
  size_t shared_limit = kDefaultSharedLimit;
  std::atomic<uint64_t> next_block{0};

  // The reported fault is the one of the lowest faulting block: the same on every run, however
  // the blocks were spread over the workers. Blocks above it are skipped.
  std::atomic<uint64_t> first_fault_block{UINT64_MAX};
  std::mutex mu;
  cudaError_t fault_code = cudaSuccess;
  std::string fault_report;
  void record_fault(uint64_t block, cudaError_t code, std::string report);

  // Block order for global atomics: block b's first atomic waits until blocks 0..b-1 are done.
  std::condition_variable done_cv;
  std::vector<bool> done;
  uint64_t done_prefix = 0;  // blocks 0..done_prefix-1 are all done
  void block_finished(uint64_t block);
  void wait_for_lower_blocks(uint64_t block);
};

// What the scheduler knows about one CUDA thread.
struct CudaThread;

// The current CUDA thread's launch (valid only inside a kernel); block.h has this_thread().
const Launch& this_launch();
uint64_t this_block();

// "(3,0,0)"
std::string dim_str(const uint3& d);
std::string dim_str(const dim3& d);
// "vector_add.cu:17" (or "an unknown line" where the emulator could not tell).
std::string where(const std::source_location& loc);

// Faults inside a CUDA thread: records the report (kernel, block, thread, line, then `details`)
// and unwinds the thread. Never returns.
[[noreturn]] void fault(cudaError_t code, const std::string& title, const std::string& details,
                        const std::source_location& loc);
// A fault of the whole block, found by the scheduler (a divergent barrier, a deadlock).
std::string block_report(const Launch& launch, uint64_t block, const std::string& title, const std::string& details);
// The report's first lines: the kernel and its launch.
std::string kernel_line(const Launch& launch);

// Device memory (memory.cc).
const Region* find_allocation(uintptr_t addr);
std::string describe_address(uintptr_t addr);  // "host memory", "inside freed allocation #3 (...)"
std::string describe_global(const Region& r);  // "allocation #3 (cudaMalloc, 4000 bytes)"
// Shared memory (shared.cc); shared_access (region.h) is its bookkeeping of every access.
std::string describe_shared(const Region& r);  // "__shared__ tile (line 12, 4224 bytes)"

// Reports of API calls (a bad cudaMemcpy) and launches: kept for last_report, printed unless quiet.
void publish_report(const std::string& report);
cudaError_t set_launch_error(cudaError_t code);  // what cudaGetLastError and the next sync return
void note_fault();                                 // counts a faulted launch (fault_count)

// The emulator's worker threads (CUDAEMU_THREADS, default: every core).
unsigned worker_count();

}  // namespace cudaemu::detail

#endif  // TOOLS_CUDAEMU_RUNTIME_H_
