#include "tools/cudaemu/block.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define CUDAEMU_ASAN 1
#endif

namespace cudaemu::detail {

thread_local ThreadInfo* tls_thread = nullptr;

namespace {

thread_local BlockRunner* tls_runner = nullptr;

bool same_place(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() &&
         (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

size_t stack_bytes_from_env() {
  // A CUDA thread's locals live on its fiber's stack; ASan's redzones make frames larger.
#if defined(CUDAEMU_ASAN)
  size_t kb = 512;
#else
  size_t kb = 128;
#endif
  if (const char* e = std::getenv("CUDAEMU_STACK_KB"); e != nullptr && std::atoi(e) >= 16) kb = std::atoi(e);
  return kb * 1024;
}

// Switches between the scheduler's stack and a fiber's, told to ASan so that it does not take
// the jump for a stack overflow (no-ops without ASan).
void asan_start(void** fake_stack_save, const void* bottom, size_t size) {
#if defined(CUDAEMU_ASAN)
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}
void asan_finish(void* fake_stack, const void** old_bottom, size_t* old_size) {
#if defined(CUDAEMU_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack, old_bottom, old_size);
#else
  (void)fake_stack, (void)old_bottom, (void)old_size;
#endif
}

// Hands boost a stack from the pool and notes where it lies (ASan needs the bounds).
struct PoolAllocator {
  StackPool* pool;
  CudaThread* thread;
  boost::context::stack_context allocate() {
    boost::context::stack_context sc = pool->allocate();
    thread->stack_bottom = static_cast<char*>(sc.sp) - sc.size;
    thread->stack_size = sc.size;
    return sc;
  }
  void deallocate(boost::context::stack_context& sc) { pool->deallocate(sc); }
};

}  // namespace

StackPool::~StackPool() {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  for (void* m : mapped_) ::munmap(m, bytes_ + page);
}

boost::context::stack_context StackPool::allocate() {
  if (free_.empty()) {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    void* m = ::mmap(nullptr, bytes_ + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    ::mprotect(m, page, PROT_NONE);  // the guard page below the stack
    mapped_.push_back(m);
    free_.push_back(static_cast<char*>(m) + page + bytes_);
  }
  boost::context::stack_context sc;
  sc.sp = free_.back();
  sc.size = bytes_;
  free_.pop_back();
  return sc;
}

void StackPool::deallocate(boost::context::stack_context& sc) { free_.push_back(sc.sp); }

BlockRunner& BlockRunner::here() {
  // One per OS thread, for the thread's lifetime (stacks and shadow are reused block to block).
  thread_local std::unique_ptr<BlockRunner> runner = std::make_unique<BlockRunner>();
  return *runner;
}

BlockRunner::BlockRunner() : stacks_(stack_bytes_from_env()) {}
BlockRunner::~BlockRunner() = default;

uint32_t BlockRunner::next_stamp() { return ++stamp_; }

void BlockRunner::stamp_warp(unsigned w) { warps_[w].stamp = next_stamp(); }

void BlockRunner::run_block(Launch& launch, uint64_t block) {
  const KernelLaunch& spec = *launch.spec;
  const dim3 grid = spec.config.grid, dims = spec.config.block;
  launch_ = &launch;
  block_ = block;
  faulted_ = false;
  waited_for_lower_blocks = false;
  count_ = launch.threads_per_block;
  if (stamp_ >= 0xf0000000u) {  // stamps about to wrap: forget every old record (between blocks)
    std::fill(shared_.shadow.begin(), shared_.shadow.end(), ShadowByte{});
    stamp_ = 0;
  }
  block_first_stamp_ = barrier_stamp_ = next_stamp();
  static std::atomic<uint64_t> serials{0};
  serial_ = ++serials;
  shared_begin_block(*this, launch.dynamic_shared);

  const uint3 block_idx{static_cast<unsigned>(block % grid.x), static_cast<unsigned>((block / grid.x) % grid.y),
                        static_cast<unsigned>(block / (uint64_t{grid.x} * grid.y))};
  threads_.resize(count_);  // reused block after block; every field is set below
  warps_.resize((count_ + kWarpSize - 1) / kWarpSize);
  for (size_t w = 0; w < warps_.size(); ++w) {
    const unsigned lanes = std::min<unsigned>(kWarpSize, count_ - static_cast<unsigned>(w) * kWarpSize);
    warps_[w].pending.clear();
    warps_[w].live = lanes == kWarpSize ? ~0u : (1u << lanes) - 1;
    warps_[w].stamp = barrier_stamp_;
  }
  done_ = 0;
  for (unsigned i = 0; i < count_; ++i) {
    CudaThread& t = threads_[i];
    t.runner = this;
    t.state = ThreadState::kRunnable;
    t.started = t.abort = false;
    t.bad_source_lane = -1;
    t.predicate = t.barrier_result = 0;
    t.barrier_kind = Barrier::kPlain;
    t.linear = i;
    t.warp = i / kWarpSize;
    t.lane = i % kWarpSize;
    t.info = {{i % dims.x, (i / dims.x) % dims.y, i / (dims.x * dims.y)}, block_idx, dims, grid, &t};
  }
  BlockRunner* outer = tls_runner;
  tls_runner = this;
  for (;;) {
    bool any_runnable = false;
    for (CudaThread& t : threads_) {
      if (t.state != ThreadState::kRunnable) continue;
      any_runnable = true;
      resume(t);
      if (faulted_) break;
    }
    if (faulted_ || done_ == count_) break;
    if (!any_runnable && !resolve_waits()) break;
  }
  if (faulted_) abort_block();
  tls_runner = outer;
}

void BlockRunner::start_thread(CudaThread& t) {
  t.fiber = boost::context::fiber(std::allocator_arg, PoolAllocator{&stacks_, &t}, [this, &t](boost::context::fiber&& sched) {
    t.scheduler = std::move(sched);
    asan_finish(t.asan_fake_stack, &asan_stack_bottom_, &asan_stack_size_);
    if (!t.abort) {
      try {
        launch_->spec->run_thread(launch_->spec->state);
      } catch (const KernelFault&) {
        faulted_ = true;
      } catch (const Unwind&) {
      } catch (const std::exception& e) {
        escaped(e.what());
      } catch (...) {
        escaped("an exception that is not a std::exception");
      }
    }
    t.state = ThreadState::kDone;
    warps_[t.warp].live &= ~(1u << t.lane);
    ++done_;
    if (!faulted_ && !t.abort) warp_lane_exited(*this, t);
    asan_start(nullptr, asan_stack_bottom_, asan_stack_size_);  // this stack is done for good
    return std::move(t.scheduler);
  });
}

void BlockRunner::escaped(const std::string& what) {
  launch_->record_fault(block_, cudaErrorLaunchFailure,
                        block_report(*launch_, block_, "a C++ exception escaped the kernel", "  " + what + "\n"));
  faulted_ = true;
}

void BlockRunner::resume(CudaThread& t) {
  if (!t.started) {
    t.started = true;
    start_thread(t);
  }
  tls_thread = &t.info;
  // The fiber's stack bottom is unknown until boost lays it out; ASan accepts it learnt later.
  asan_start(&asan_fake_stack_, t.stack_bottom, t.stack_size);
  t.fiber = std::move(t.fiber).resume();
  asan_finish(asan_fake_stack_, nullptr, nullptr);
  tls_thread = nullptr;
}

void BlockRunner::yield(CudaThread& t) {
  asan_start(&t.asan_fake_stack, asan_stack_bottom_, asan_stack_size_);
  t.scheduler = std::move(t.scheduler).resume();
  asan_finish(t.asan_fake_stack, &asan_stack_bottom_, &asan_stack_size_);
  tls_thread = &t.info;
  if (t.abort) throw Unwind{};
  if (t.state == ThreadState::kRunnable && t.bad_source_lane >= 0) {
    const int lane = t.bad_source_lane;
    t.bad_source_lane = -1;
    fault(cudaErrorLaunchFailure, "warp shuffle reads a lane that does not take part",
          "  lane " + std::to_string(t.lane) + " of warp " + std::to_string(t.warp) + " reads lane " + std::to_string(lane) +
              ", which is not in the shuffle (not named in the mask, exited, or past the end of the block);\n"
              "  on a GPU the value it gets is undefined\n",
          t.wait_loc);
  }
}

void BlockRunner::abort_block() {
  for (CudaThread& t : threads_) {
    if (t.state == ThreadState::kDone) continue;
    t.abort = true;
    if (t.started) resume(t);  // unwinds it from where it waits
  }
}

// Every live thread waits. If all wait at one __syncthreads, it opens; otherwise the block can
// never go on, and that is the fault.
bool BlockRunner::resolve_waits() {
  const CudaThread& first = threads_.front();
  const bool one_barrier = done_ == 0 && std::all_of(threads_.begin(), threads_.end(), [&](const CudaThread& t) {
    return t.state == ThreadState::kBarrier && same_place(t.wait_loc, first.wait_loc);
  });
  if (one_barrier) {
    release_barrier();
    return true;
  }
  std::map<std::string, std::vector<unsigned>> barriers, collectives;  // where -> threads
  std::vector<unsigned> done;
  for (const CudaThread& t : threads_) {
    if (t.state == ThreadState::kDone) done.push_back(t.linear);
    if (t.state == ThreadState::kBarrier) barriers[where(t.wait_loc)].push_back(t.linear);
    if (t.state == ThreadState::kWarp) collectives[where(t.wait_loc)].push_back(t.linear);
  }
  const dim3 dims = launch_->spec->config.block;
  std::string details;
  for (const auto& [at, ids] : barriers) details += "  " + thread_list(ids, dims) + " wait at __syncthreads() at " + at + "\n";
  for (const auto& [at, ids] : collectives)
    details += "  " + thread_list(ids, dims) + " wait at a warp collective at " + at + " for lanes that never arrive\n";
  if (!done.empty()) details += "  " + thread_list(done, dims) + " have returned\n";
  const char* title;
  if (!collectives.empty()) {
    title = "deadlock: a warp collective waits for lanes that are elsewhere";
  } else if (!done.empty()) {
    title = "divergent __syncthreads(): some threads of the block returned without reaching it";
    details += "  every thread of a block must reach each __syncthreads(); a GPU may hang or go on silently\n";
  } else {
    title = "divergent __syncthreads(): threads of one block wait at different barriers";
    details += "  every thread of a block must reach the same __syncthreads() (a barrier inside a branch that "
               "not all threads take)\n";
  }
  launch_->record_fault(block_, cudaErrorLaunchFailure, block_report(*launch_, block_, title, details));
  faulted_ = true;
  return false;
}

void BlockRunner::release_barrier() {
  int count = 0, all = 1, any = 0;
  for (const CudaThread& t : threads_) {
    count += t.predicate != 0;
    all &= t.predicate != 0;
    any |= t.predicate != 0;
  }
  barrier_stamp_ = next_stamp();
  for (Warp& w : warps_) w.stamp = barrier_stamp_;
  for (CudaThread& t : threads_) {
    switch (t.barrier_kind) {
      case Barrier::kPlain: t.barrier_result = 0; break;
      case Barrier::kCount: t.barrier_result = count; break;
      case Barrier::kAnd: t.barrier_result = all; break;
      case Barrier::kOr: t.barrier_result = any; break;
    }
    t.state = ThreadState::kRunnable;
  }
}

const Launch& this_launch() { return tls_runner->launch(); }
uint64_t this_block() { return tls_runner->block(); }

int barrier(Barrier kind, int predicate, const std::source_location& loc) {
  CudaThread& t = this_thread();
  t.state = ThreadState::kBarrier;
  t.wait_loc = loc;
  t.barrier_kind = kind;
  t.predicate = predicate;
  tls_runner->yield(t);
  return t.barrier_result;
}

BlockRunner& current_runner() { return *tls_runner; }

std::string thread_list(const std::vector<unsigned>& linear, const dim3& block) {
  auto tid = [&](unsigned i) {
    return dim_str(uint3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)});
  };
  std::string out = linear.size() == 1 ? "thread " : "threads ";
  for (size_t i = 0; i < linear.size();) {
    size_t j = i;
    while (j + 1 < linear.size() && linear[j + 1] == linear[j] + 1) ++j;
    if (i > 0) out += ", ";
    out += tid(linear[i]);
    if (j > i) out += "-" + tid(linear[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace cudaemu::detail

namespace cudaemu {

uint64_t block_serial() { return detail::current_runner().serial(); }

}  // namespace cudaemu
