#include "tinyref/backends/cpu/cpu_target.h"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tinyref/env.h"
#include "tinyref/error.h"

namespace tinyref {

namespace {

bool machine_has(const std::string& isa) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == "avx512") return __builtin_cpu_supports("avx512f");
  if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == "sse") return __builtin_cpu_supports("sse4.2");
#endif
  return isa == "scalar";
}

// The widest the machine has, in the order tried.
std::string widest_isa() {
  for (const char* isa : {"avx512", "avx2", "sse"}) {
    if (machine_has(isa)) return isa;
  }
  return "scalar";
}

int64_t l2_cache_bytes() {
  const long n = ::sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (n > 0) return n;
  std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index2/size");  // "1024K"
  int64_t kib = 0;
  if (in >> kib && kib > 0) return kib << 10;
  return 512 << 10;  // a Zen 3 or Skylake core's
}

int thread_count() {
  if (const char* e = std::getenv("OMP_NUM_THREADS"); e != nullptr && std::atoi(e) > 0) return std::atoi(e);
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace

CpuTarget cpu_target_for(const std::string& isa) {
  TT_CHECK(isa == "avx512" || isa == "avx2" || isa == "sse" || isa == "scalar",
           "CPU: unknown isa '" << isa << "' (TT_CPU_ISA takes avx512, avx2, sse or scalar)");
  TT_CHECK(machine_has(isa), "CPU: this machine has no " << isa << " (its widest is " << widest_isa() << ")");
  CpuTarget t;
  t.isa = isa;
  t.l2_bytes = l2_cache_bytes();
  t.threads = thread_count();
  // -march=native lets GCC use everything the core has; a narrower isa takes the wider
  // instructions away again, so its kernels are what that machine would run. Auto-vectorized
  // loops stay 256-bit even on AVX-512: GCC 12's 512-bit auto-vectorization miscompiled masked
  // loads of padded views (fuzz_test's Regressions); tinyref's own vectors are explicit.
  const std::string base = "-O3 -march=native -fopenmp -shared -fPIC";
  if (isa == "avx512") {
    t.vector_bytes = 64, t.vector_registers = 32;
    t.compiler_flags = base + " -mprefer-vector-width=256";
  } else if (isa == "avx2") {
    t.vector_bytes = 32, t.vector_registers = 16;
    t.compiler_flags = base + " -mno-avx512f -mprefer-vector-width=256";
  } else if (isa == "sse") {
    t.vector_bytes = 16, t.vector_registers = 16;
    t.compiler_flags = base + " -mno-avx";
  } else {
    t.vector_bytes = 0, t.vector_registers = 16;
    t.compiler_flags = base;
  }
  return t;
}

const CpuTarget& detect_cpu_target() {
  static const CpuTarget target = [] {
    const std::string chosen = env_string("TT_CPU_ISA", "");
    CpuTarget t = cpu_target_for(!chosen.empty() ? chosen : widest_isa());
    t.source = !chosen.empty() ? "$TT_CPU_ISA" : "cpuid";
    return t;
  }();
  return target;
}

std::string CpuTarget::describe() const {
  return isa + ": " + std::to_string(vector_bytes) + "-byte vectors (" + std::to_string(vector_bytes / 4) +
         " floats), " + std::to_string(vector_registers) + " vector registers, L2 " + std::to_string(l2_bytes >> 10) +
         " KiB, " + std::to_string(threads) + " threads; isa from " + source + "; kernels built with " +
         compiler_flags;
}

}  // namespace tinyref
