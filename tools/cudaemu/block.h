// One block of CUDA threads on one OS thread: a fiber per CUDA thread, run in thread order
// until each reaches a barrier, a warp collective or its end; then the waits are resolved (a
// barrier that every thread reached opens, one that some thread skipped is a fault) and the
// loop goes on. Deterministic: the same schedule on every run.
//
//   BlockRunner& runner = BlockRunner::here();   // one per OS thread, reused block after block
//   runner.run_block(launch, 7);                 // runs block 7 of the launch to its end (or fault)
//
// A CUDA thread that waits calls runner.yield(thread); the scheduler resumes it once its
// barrier opens or its warp collective completes.
#ifndef TOOLS_CUDAEMU_BLOCK_H_
#define TOOLS_CUDAEMU_BLOCK_H_

#include <boost/context/fiber.hpp>
#include <cstdint>
#include <deque>
#include <source_location>
#include <string>
#include <vector>

#include "tools/cudaemu/device.h"
#include "tools/cudaemu/runtime.h"

namespace cudaemu::detail {

enum class ThreadState : uint8_t { kRunnable, kBarrier, kWarp, kDone };

// Fiber stacks, mapped once and reused (a guard page below each catches an overflow).
class StackPool {
 public:
  explicit StackPool(size_t bytes) : bytes_(bytes) {}
  ~StackPool();
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sc);
  size_t stack_bytes() const { return bytes_; }

 private:
  size_t bytes_;
  std::vector<void*> free_;  // the tops of unused stacks
  std::vector<void*> mapped_;
};

class BlockRunner;

struct CudaThread {
  ThreadInfo info;  // threadIdx & co; info.runtime points back here
  BlockRunner* runner = nullptr;
  unsigned linear = 0, warp = 0, lane = 0;
  ThreadState state = ThreadState::kRunnable;
  std::source_location wait_loc;  // the barrier or collective it waits at
  bool abort = false;             // resumed only to unwind (the block faulted)
  bool started = false;           // its fiber exists (made at its first turn, so that threads
                                  // that never wait run one after another on one warm stack)
  // __syncthreads_count & co
  Barrier barrier_kind = Barrier::kPlain;
  int predicate = 0, barrier_result = 0;
  // warp collectives (warp.cc)
  uint64_t warp_value = 0, warp_result = 0;
  int warp_arg = 0;
  int bad_source_lane = -1;  // a shuffle read a lane that did not take part: faults on resume
  boost::context::fiber fiber;      // the suspended thread, seen from the scheduler
  boost::context::fiber scheduler;  // the scheduler, seen from the thread
  void* asan_fake_stack = nullptr;
  const void* stack_bottom = nullptr;
  size_t stack_size = 0;
};

// A warp collective waiting for its lanes: the lanes of `mask` that have not exited must all
// arrive at the same call (same op, same line).
struct WarpGroup {
  WarpOp op;
  unsigned mask, arrived;
  int width;
  std::source_location loc;
};
struct Warp {
  std::vector<WarpGroup> pending;
  unsigned live = 0;   // its lanes that exist (the last warp may be short) and have not exited
  uint32_t stamp = 0;  // the runner's stamp at the warp's last barrier or __syncwarp
};

// Who last wrote and who read each byte of shared memory, and when, as stamps: a runner's stamp
// grows at every barrier and every __syncwarp, so an access stamped at or after the last
// barrier's stamp is in the current barrier interval, and two accesses of one warp with
// different stamps have a __syncwarp between them. Plain writes, reads and atomics are kept
// apart (atomics conflict with plain accesses, not with each other). 20 bytes per byte; the
// lines of the accesses (needed only for reports) sit in a separate, colder array.
struct ShadowByte {
  uint32_t write_stamp = 0, read_stamp = 0, atomic_stamp = 0;  // 0: never (stamps start at 1)
  uint16_t writer = 0, reader = 0, atomic_writer = 0;          // thread ids, or kMany
  uint8_t reader_warp = 0;                                     // kManyWarps: several warps read
};
struct ShadowLines {
  std::source_location write, read, atomic;
};
inline constexpr uint16_t kMany = 0xffff;
inline constexpr uint8_t kManyWarps = 0xff;

// The block's shared memory: the dynamic part first, then each __shared__ declaration in the
// order threads reach them; a shadow byte per byte.
struct SharedMemory {
  std::vector<unsigned char> arena;
  std::vector<ShadowByte> shadow;
  std::vector<ShadowLines> lines;
  struct Declared {
    const Site* site;
    Region region;
  };
  std::deque<Declared> declared;  // a deque: the Regions stay put while threads hold them
  Region dynamic;
  size_t used = 0;
};

class BlockRunner {
 public:
  static BlockRunner& here();
  BlockRunner();
  ~BlockRunner();

  void run_block(Launch& launch, uint64_t block);
  // Called by a waiting CUDA thread: back to the scheduler until resumed. Throws Unwind when
  // resumed only to end (the block faulted).
  void yield(CudaThread& t);

  Launch& launch() { return *launch_; }
  uint64_t block() const { return block_; }
  std::vector<CudaThread>& threads() { return threads_; }
  Warp& warp(unsigned w) { return warps_[w]; }
  unsigned thread_count() const { return count_; }
  uint32_t barrier_stamp() const { return barrier_stamp_; }    // at the last barrier
  uint32_t block_first_stamp() const { return block_first_stamp_; }
  void stamp_warp(unsigned w);  // a __syncwarp completed in warp w
  SharedMemory& shared() { return shared_; }
  uint64_t serial() const { return serial_; }  // cudaemu::block_serial()
  bool waited_for_lower_blocks = false;  // the atomics gate opened for this block

 private:
  struct Unwind {};
  void start_thread(CudaThread& t);
  void resume(CudaThread& t);
  bool resolve_waits();  // false: the block faulted
  void release_barrier();
  void abort_block();
  uint32_t next_stamp();
  void escaped(const std::string& what);  // an exception left the kernel

  StackPool stacks_;
  std::vector<CudaThread> threads_;
  std::vector<Warp> warps_;
  unsigned count_ = 0, done_ = 0;
  Launch* launch_ = nullptr;
  uint64_t block_ = 0;
  bool faulted_ = false;
  uint32_t stamp_ = 0, barrier_stamp_ = 0, block_first_stamp_ = 0;
  uint64_t serial_ = 0;
  SharedMemory shared_;
  // ASan: the scheduler's own stack, for the switches back to it
  void* asan_fake_stack_ = nullptr;
  const void* asan_stack_bottom_ = nullptr;
  size_t asan_stack_size_ = 0;
  friend void shared_begin_block(BlockRunner&, size_t);
};

// The runner of the block this OS thread is running.
BlockRunner& current_runner();
inline CudaThread& this_thread() { return *static_cast<CudaThread*>(tls_thread->runtime); }
// shared.cc: reset the block's shared memory (dynamic part sized by the launch).
void shared_begin_block(BlockRunner& runner, size_t dynamic_bytes);
// warp.cc: a lane exited; collectives that waited only for it may complete.
void warp_lane_exited(BlockRunner& runner, CudaThread& t);
// "threads (0,0,0)-(31,0,0) and (64,0,0)": a list of linear thread ids, compressed into ranges.
std::string thread_list(const std::vector<unsigned>& linear, const dim3& block);

}  // namespace cudaemu::detail

#endif  // TOOLS_CUDAEMU_BLOCK_H_
