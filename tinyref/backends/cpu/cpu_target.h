// What the CPU backend knows about the machine it runs on, and so what its kernels are tuned
// for: the widest SIMD vectors the core has, how many vector registers hold them, the L2 cache a
// streamed reduction should fit, and the threads OpenMP will run.
//
//   CpuTarget t = detect_cpu_target();
//   t.describe();   // "avx512: 64-byte vectors (16 floats), 32 vector registers, L2 1024 KiB,
//                   //  2 threads; from cpuid (avx512f); kernels built with -march=native ..."
//   TT_CPU_ISA=avx2 ./course mnist   // tune (and compile) for AVX2 on an AVX-512 machine: the
//                                    // choice an AVX2 machine gets, compared on one machine
//
// The register tile and the lanes follow from it (codegen/optimizer.cc): 14 of AVX2's 16 ymm
// registers, 30 of AVX-512's 32 zmm registers. TT_DEBUG=2 prints describe() once.
#ifndef TINYREF_BACKENDS_CPU_CPU_TARGET_H_
#define TINYREF_BACKENDS_CPU_CPU_TARGET_H_

#include <cstdint>
#include <string>

namespace tinyref {

struct CpuTarget {
  std::string isa;             // "avx512", "avx2", "sse" (x86), or "scalar" elsewhere
  int vector_bytes = 0;        // widest vector tinyref renders: 64, 32, 16, 0
  int vector_registers = 16;   // architectural vector registers of that width
  int64_t l2_bytes = 512 << 10;
  int threads = 1;
  std::string compiler_flags;  // what kernels compile with, for this isa
  std::string source;          // where the isa came from: cpuid, or $TT_CPU_ISA

  std::string describe() const;
};

// The machine's target, detected once: cpuid (through the compiler's __builtin_cpu_supports),
// the L2 size from the C library (sysconf, which reads cpuid or /sys), the threads from
// $OMP_NUM_THREADS or the cores this process may run on. $TT_CPU_ISA=avx2|sse|scalar picks a
// narrower target than the machine has (never a wider one: the code would not run).
const CpuTarget& detect_cpu_target();

// The same for a named isa on this machine (what $TT_CPU_ISA selects); an Error if the machine
// lacks it or the name is unknown.
CpuTarget cpu_target_for(const std::string& isa);

}  // namespace tinyref

#endif  // TINYREF_BACKENDS_CPU_CPU_TARGET_H_
