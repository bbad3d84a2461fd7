#include "tests/06_cpu_codegen/guarded_memory.h"

#include <omp.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace guarded_memory {

namespace {

sigjmp_buf g_jump;
void* volatile g_fault = nullptr;

void on_fault(int, siginfo_t* info, void*) {
  g_fault = info->si_addr;
  siglongjmp(g_jump, 1);
}

// One buffer's pages: a guard page, the data pages, a guard page; the data kSlack bytes from the
// guard page after it (at_end) or before it, the slack on both sides filled with NaN.
constexpr size_t kSlack = 64;
constexpr size_t kGuardPages = 16;  // 64 KB that may not be touched on each side
struct Region {
  char* base = nullptr;
  size_t total = 0;
  char* data = nullptr;
  size_t nbytes = 0;
};

size_t page_size() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

Region allocate(size_t nbytes, bool at_end) {
  const size_t page = page_size();
  Region r;
  r.nbytes = nbytes;
  const size_t guard = kGuardPages * page;
  r.total = (nbytes + 2 * kSlack + page - 1) / page * page + 2 * guard;
  void* p = ::mmap(nullptr, r.total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return r;
  r.base = static_cast<char*>(p);
  ::mprotect(r.base, guard, PROT_NONE);
  ::mprotect(r.base + r.total - guard, guard, PROT_NONE);
  r.data = at_end ? r.base + r.total - guard - kSlack - nbytes : r.base + guard + kSlack;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (char* p = r.base + guard; p + 4 <= r.base + r.total - guard; p += 4) std::memcpy(p, &nan, 4);
  return r;
}

std::string where(const std::vector<Region>& regions, const char* addr) {
  const size_t guard = kGuardPages * page_size();
  for (size_t i = 0; i < regions.size(); ++i) {
    const Region& r = regions[i];
    if (addr >= r.base && addr < r.base + guard) {
      return std::to_string(r.data - addr) + " bytes before the start of buffer " + std::to_string(i);
    }
    if (addr >= r.base + r.total - guard && addr < r.base + r.total) {
      return std::to_string(addr - (r.data + r.nbytes)) + " bytes past the end of buffer " + std::to_string(i);
    }
  }
  return "outside every buffer";
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

std::string run(KernelFunction f, const std::vector<bool>& is_double, std::vector<std::vector<double>>& buffers) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  std::vector<std::vector<double>> outputs;
  std::string error;
  for (bool at_end : {true, false}) {
    std::vector<Region> regions;
    std::vector<void*> pointers;
    for (size_t i = 0; i < buffers.size(); ++i) {
      const size_t item = is_double[i] ? 8 : 4;
      regions.push_back(allocate(buffers[i].size() * item, at_end));
      if (regions.back().base == nullptr) {
        error = "mmap failed";
        break;
      }
      char* d = regions.back().data;
      for (size_t j = 0; j < buffers[i].size(); ++j) {
        const double v = i == 0 ? std::numeric_limits<double>::quiet_NaN() : buffers[i][j];
        if (is_double[i]) {
          std::memcpy(d + 8 * j, &v, 8);
        } else {
          const float x = static_cast<float>(v);
          std::memcpy(d + 4 * j, &x, 4);
        }
      }
      pointers.push_back(d);
    }
    if (error.empty()) {
      struct sigaction action {}, old_segv{}, old_bus{};
      action.sa_sigaction = on_fault;
      action.sa_flags = SA_SIGINFO;
      sigemptyset(&action.sa_mask);
      ::sigaction(SIGSEGV, &action, &old_segv);
      ::sigaction(SIGBUS, &action, &old_bus);
      if (sigsetjmp(g_jump, 1) == 0) {
        f(pointers.data());
      } else {
        error = std::string("the kernel touched memory ") + where(regions, static_cast<char*>(g_fault)) +
                (at_end ? " (buffers placed just before a guard page)" : " (buffers placed just after a guard page)") +
                ": a load or store outside its buffer (a padded load that still reads, or a tail that is not guarded)";
      }
      ::sigaction(SIGSEGV, &old_segv, nullptr);
      ::sigaction(SIGBUS, &old_bus, nullptr);
    }
    for (size_t i = 0; error.empty() && i < regions.size(); ++i) {
      const float nan = std::numeric_limits<float>::quiet_NaN();
      const char* lo = regions[i].data - kSlack;
      const char* hi = regions[i].data + regions[i].nbytes;
      for (size_t b = 0; b + 4 <= kSlack && error.empty(); b += 4) {
        if (std::memcmp(lo + b, &nan, 4) != 0 || std::memcmp(hi + b, &nan, 4) != 0) {
          error = "the kernel wrote outside buffer " + std::to_string(i) + " (within " + std::to_string(kSlack) +
                  " bytes of its " + (std::memcmp(lo + b, &nan, 4) != 0 ? "start" : "end") +
                  "): a store without its guard, or a tail that is not checked";
        }
      }
    }
    if (error.empty()) {
      std::vector<double> out(buffers[0].size());
      for (size_t j = 0; j < out.size(); ++j) {
        if (is_double[0]) {
          std::memcpy(&out[j], regions[0].data + 8 * j, 8);
        } else {
          float x;
          std::memcpy(&x, regions[0].data + 4 * j, 4);
          out[j] = x;
        }
      }
      outputs.push_back(std::move(out));
    }
    for (const Region& r : regions) {
      if (r.base != nullptr) ::munmap(r.base, r.total);
    }
    if (!error.empty()) break;
  }
  omp_set_num_threads(threads);
  if (!error.empty()) return error;
  for (size_t j = 0; j < outputs[0].size(); ++j) {
    if (!same(outputs[0][j], outputs[1][j])) {
      return "two runs on the same inputs disagree at output " + std::to_string(j) + " (" +
             std::to_string(outputs[0][j]) + " then " + std::to_string(outputs[1][j]) +
             "): the kernel reads memory it never wrote (an accumulator not initialized?)";
    }
  }
  buffers[0] = outputs[1];
  return "";
}

}  // namespace guarded_memory
