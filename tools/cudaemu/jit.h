// CUDA source made at run time (a code generator's) compiled for the emulator: the rewriter, the
// host compiler into a shared object, dlopen. What NVRTC plus cuModuleLoad are on a GPU.
//
//   cudaemu::Jit jit;                                            // cache: $CUDAEMU_CACHE_DIR, ...
//   std::shared_ptr<const cudaemu::JitKernel> k = jit.compile(source, "E_4096");
//   std::vector<void*> args = {out, in};                         // device pointers (cudaMalloc)
//   cudaError_t e = k->launch(dim3(16), dim3(256), 0, args);     // runs it; a fault: its code,
//   if (e != cudaSuccess) puts(cudaemu::last_report());          // and the report
//
// The kernel must be `extern "C" __global__` and take only pointers. Compiled objects are cached
// on disk by their source (the cached .cc is compared whole, so a hash collision cannot serve the
// wrong kernel) and in memory; the compiler's errors come back as JitError with the source's
// path. A binary that uses Jit exports the emulator's symbols, which the objects link against.
// compile_all builds many kernels in few compiler runs (a kernel alone: about 0.25 s of CPU).
#ifndef TOOLS_CUDAEMU_JIT_H_
#define TOOLS_CUDAEMU_JIT_H_

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/cudaemu/types.h"

namespace cudaemu {

class JitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JitKernel {
 public:
  using Entry = int (*)(const void* config, void* const* args);  // returns a cudaError_t
  JitKernel(std::string name, std::string source, Entry entry, const void* address)
      : name_(std::move(name)), source_(std::move(source)), entry_(entry), address_(address) {}
  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }  // the CUDA source as given
  // Runs the kernel to completion; cudaSuccess, or the fault's code (cudaemu::last_report()).
  cudaError_t launch(dim3 grid, dim3 block, size_t shared_bytes, const std::vector<void*>& args) const;
  // cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes): launches
  // may then ask for up to `bytes` of dynamic shared memory (48 KB without). cudaErrorInvalidValue
  // past what a GPU allows.
  cudaError_t set_max_dynamic_shared(int bytes) const;

 private:
  std::string name_, source_;
  Entry entry_;
  const void* address_;  // the kernel function in its object: its identity for attributes
};

struct JitSource {
  std::string source;  // CUDA C with an extern "C" __global__ kernel taking only pointers
  std::string name;    // the kernel's name
};

struct JitOptions {
  std::string cache_dir;          // "": $CUDAEMU_CACHE_DIR, $XDG_CACHE_HOME/cudaemu, ~/.cache/cudaemu, /tmp
  std::string compiler = "g++";   // or $CUDAEMU_CXX
  std::string flags = "-std=c++20 -O1 -fPIC -ffp-contract=off -w";
};

class Jit {
 public:
  explicit Jit(JitOptions options = {});
  // Thread-safe. Throws JitError.
  std::shared_ptr<const JitKernel> compile(const std::string& cuda_source, const std::string& kernel_name);
  // Several kernels, a few to a compiler run and the runs side by side (most of a run is the
  // compiler starting and reading the prelude): what a code generator's batch wants.
  std::vector<std::shared_ptr<const JitKernel>> compile_all(const std::vector<JitSource>& sources);
  int compiler_runs() const { return compiler_runs_; }  // cache misses so far

 private:
  std::string prelude_path();  // the prelude and its precompiled header, made once
  std::string command(const std::string& out, const std::string& in, const std::string& extra) const;
  struct Loaded {
    JitKernel::Entry entry;
    const void* address;
  };
  std::vector<Loaded> build(const std::vector<JitSource>& sources, const std::vector<std::string>& units,
                                      const std::vector<size_t>& which, const std::string& prelude);

  JitOptions options_;
  std::mutex mu_;
  std::string prelude_;
  std::map<std::string, std::shared_ptr<const JitKernel>> loaded_;  // by the rewritten source
  int compiler_runs_ = 0;
};

}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_JIT_H_
