// A launch: the configuration checked as a GPU checks it, then the grid's blocks handed out in
// order to the worker threads (each runs whole blocks, one at a time), then the outcome: the
// fault of the lowest faulting block, if any, for cudaGetLastError and the next synchronisation.
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "tools/cudaemu/block.h"

namespace cudaemu::detail {

void Launch::record_fault(uint64_t block, cudaError_t code, std::string report) {
  std::lock_guard lock(mu);
  if (block >= first_fault_block.load()) return;
  first_fault_block = block;
  fault_code = code;
  fault_report = std::move(report);
}

void Launch::block_finished(uint64_t block) {
  std::lock_guard lock(mu);
  done[block] = true;
  while (done_prefix < blocks && done[done_prefix]) ++done_prefix;
  done_cv.notify_all();
}

// Blocks are handed out in order, so every block below this one is running or done: the wait
// ends (the lowest unfinished block never waits).
void Launch::wait_for_lower_blocks(uint64_t block) {
  std::unique_lock lock(mu);
  done_cv.wait(lock, [&] { return done_prefix >= block; });
}

unsigned worker_count() {
  static const unsigned n = [] {
    if (const char* e = std::getenv("CUDAEMU_THREADS"); e != nullptr && std::atoi(e) > 0) return static_cast<unsigned>(std::atoi(e));
    return std::max(1u, std::thread::hardware_concurrency());
  }();
  return n;
}

namespace {

void run_blocks(Launch& launch) {
  BlockRunner& runner = BlockRunner::here();
  for (;;) {
    const uint64_t b = launch.next_block.fetch_add(1);
    if (b >= launch.blocks) return;
    if (b < launch.first_fault_block.load()) runner.run_block(launch, b);
    launch.block_finished(b);
  }
}

// worker_count() - 1 threads that help the launching thread run a launch's blocks.
class Pool {
 public:
  static Pool& get() {
    static Pool* pool = new Pool(worker_count() - 1);  // never destroyed: idle threads at exit
    return *pool;
  }
  void run(Launch& launch) {
    {
      std::lock_guard lock(mu_);
      current_ = &launch;
      ++generation_;
      busy_ = static_cast<unsigned>(threads_.size());
    }
    start_.notify_all();
    run_blocks(launch);
    std::unique_lock lock(mu_);
    finished_.wait(lock, [&] { return busy_ == 0; });
    current_ = nullptr;
  }

 private:
  explicit Pool(unsigned helpers) {
    for (unsigned i = 0; i < helpers; ++i) threads_.emplace_back([this] { loop(); }).detach();
  }
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      Launch* launch;
      {
        std::unique_lock lock(mu_);
        start_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        launch = current_;
      }
      run_blocks(*launch);
      std::lock_guard lock(mu_);
      if (--busy_ == 0) finished_.notify_all();
    }
  }
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_, finished_;
  Launch* current_ = nullptr;
  uint64_t generation_ = 0;
  unsigned busy_ = 0;
};

std::mutex& attributes_mutex() {
  static std::mutex m;
  return m;
}
std::map<const void*, int>& max_dynamic_shared() {
  static auto* m = new std::map<const void*, int>;
  return *m;
}

// Why a GPU would refuse this configuration ("" if it would not).
std::string config_problem(const KernelLaunch& spec, size_t shared_limit) {
  const dim3 g = spec.config.grid, b = spec.config.block;
  std::ostringstream os;
  const uint64_t threads = uint64_t{b.x} * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || g.x == 0 || g.y == 0 || g.z == 0)
    os << "a grid or block dimension is 0";
  else if (threads > 1024)
    os << "the block " << dim_str(b) << " has " << threads << " threads; a block has at most 1024";
  else if (b.x > 1024 || b.y > 1024 || b.z > 64)
    os << "the block " << dim_str(b) << " is too large in one dimension (at most 1024, 1024, 64)";
  else if (g.x > 2147483647u || g.y > 65535 || g.z > 65535)
    os << "the grid " << dim_str(g) << " is too large (at most 2^31-1, 65535, 65535)";
  else if (spec.config.shared_bytes > shared_limit)
    os << spec.config.shared_bytes << " bytes of dynamic shared memory; the limit is " << shared_limit
       << (shared_limit == kDefaultSharedLimit ? " without cudaFuncSetAttribute(kernel, "
                                                 "cudaFuncAttributeMaxDynamicSharedMemorySize, bytes)"
                                               : "");
  return os.str();
}

}  // namespace

void set_max_dynamic_shared(const void* kernel, int bytes) {
  std::lock_guard lock(attributes_mutex());
  max_dynamic_shared()[kernel] = bytes;
}

cudaError_t launch(const KernelLaunch& spec) {
  static std::mutex one_at_a_time;  // one in-order queue, as CUDA's default stream
  std::lock_guard serial(one_at_a_time);
  size_t limit = kDefaultSharedLimit;
  {
    std::lock_guard lock(attributes_mutex());
    if (auto it = max_dynamic_shared().find(spec.kernel); it != max_dynamic_shared().end())
      limit = std::max<size_t>(limit, static_cast<size_t>(it->second));
  }
  if (const std::string problem = config_problem(spec, limit); !problem.empty()) {
    const LaunchConfig& c = spec.config;
    const bool shared = c.shared_bytes > limit;
    publish_report("cudaemu: invalid launch configuration\n  kernel " + std::string(spec.name) + "<<<" + dim_str(c.grid) +
                   ", " + dim_str(c.block) + ">>>" + (c.loc.line() ? " at " + where(c.loc) : "") + "\n  " + problem +
                   "\n");
    return set_launch_error(shared ? cudaErrorInvalidValue : cudaErrorInvalidConfiguration);
  }
  Launch l;
  l.spec = &spec;
  const LaunchConfig& c = spec.config;
  l.blocks = uint64_t{c.grid.x} * c.grid.y * c.grid.z;
  l.threads_per_block = c.block.x * c.block.y * c.block.z;
  l.dynamic_shared = c.shared_bytes;
  l.shared_limit = limit;
  l.done.assign(l.blocks, false);
  if (l.blocks == 1 || worker_count() == 1) {
    run_blocks(l);
  } else {
    Pool::get().run(l);
  }
  if (l.fault_code != cudaSuccess) {
    note_fault();
    publish_report(l.fault_report);
    set_launch_error(l.fault_code);
  }
  return l.fault_code;
}

}  // namespace cudaemu::detail
