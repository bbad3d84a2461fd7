// parallel_for: the one thread pool tinyref needs, for work that is few and coarse (compiling
// kernels: a compiler process each on the CPU backend, an NVRTC run each on CUDA).
//
//   std::vector<std::string> out(sources.size());
//   parallel_for(sources.size(), [&](size_t i) { out[i] = compile(sources[i]); });
//
// Items are handed out one at a time from a shared counter, so a slow item does not hold up a
// whole slice. The calling thread works too. `body` must not throw: catch inside and keep the
// exception with the item, so that the caller reports it in the item's order.
#ifndef TINYREF_PARALLEL_H_
#define TINYREF_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace tinyref {

template <typename Body>
void parallel_for(size_t n, const Body& body) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) body(i);
  };
  const size_t threads = std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(worker);
    } catch (const std::system_error&) {
      break;  // no more threads to be had (a process limit): the ones running share the rest
    }
  }
  worker();
  for (std::thread& t : pool) t.join();
}

}  // namespace tinyref

#endif  // TINYREF_PARALLEL_H_
