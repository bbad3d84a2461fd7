// CPU: renders each kernel as C++ (codegen/cpp_renderer.h), compiles it with the system
// compiler into a shared object and calls it through dlopen. Compiled objects are cached on
// disk, keyed by a hash of the source and the flags, so a second run compiles nothing.
//
//   Device& cpu = get_device("CPU");
//   auto k = cpu.compile(program);   // g++ -O3 -march=native -fopenmp (cpu_target.h), or the cache
//   cpu.launch(*k, {out, in});
//
// Cache folder: $TT_CACHE_DIR, else $XDG_CACHE_HOME/tinyref, else ~/.cache/tinyref, else
// /tmp/tinyref-cache. Each kernel's source is written next to its .so, so a compile error can
// name the file. The compiler is $TT_CXX if set, else g++.
#ifndef TINYREF_BACKENDS_CPU_CPU_H_
#define TINYREF_BACKENDS_CPU_CPU_H_

#include <memory>
#include <string>

#include "tinyref/backends/device.h"

namespace tinyref {

std::unique_ptr<Device> make_cpu_device();

// The cache folder the CPU backend uses (created on first use).
std::string cpu_cache_dir();

}  // namespace tinyref

#endif  // TINYREF_BACKENDS_CPU_CPU_H_
