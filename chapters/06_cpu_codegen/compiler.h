// From C++ text to a function you can call: the system compiler turns a kernel's source into a
// shared object, dlopen loads it into this process and dlsym finds the kernel's entry point.
// Running g++ costs a tenth of a second per kernel, so shared objects are cached on disk under
// a hash of everything that decides what the compiler produces: the source, the compiler and
// its flags. A second run (or a second Compiler) compiles nothing.
//
//   ch06::Compiler compiler;                          // g++, default_compiler_flags(), the cache
//   ch06::KernelFunction f = compiler.compile("E_8", source);
//   //   source defines  extern "C" void E_8_entry(void** buffers)  (entry_point("E_8"))
//   void* bufs[] = {out.data(), in.data()};
//   f(bufs);                                          // runs the compiled kernel
//   compiler.stats().compiler_runs                    // 1; the same source again: still 1
//
// A source the compiler rejects throws CompileError, which names the kernel, keeps the source
// on disk and quotes the compiler's own message.
#ifndef CH06_COMPILER_H_
#define CH06_COMPILER_H_

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ch06 {

// What every compiled kernel exports: one function taking the buffers' addresses, the output
// first, in the order of ch05::Kernel::buffers.
using KernelFunction = void (*)(void** buffers);

// The name of that function for a kernel named `kernel_name`: "<kernel_name>_entry".
std::string entry_point(const std::string& kernel_name);

// -O3 -march=native -fopenmp -shared -fPIC -fno-tree-loop-vectorize (compiler.cc says why the
// last), and, in a build under a sanitizer (bazel
// --config=asan or --config=ubsan), the same -fsanitize flags: the tests' sanitizer pass then
// checks the generated code as well as ours.
std::vector<std::string> default_compiler_flags();
// $CH06_CXX if set, else "g++".
std::string default_compiler();
// $CH06_CACHE_DIR if set, else $XDG_CACHE_HOME/course-ch06, else $HOME/.cache/course-ch06,
// else /tmp/course-ch06.
std::string default_cache_dir();

// The compiler refused a kernel (or could not be run, or its output could not be loaded).
class CompileError : public std::runtime_error {
 public:
  CompileError(const std::string& message, std::string kernel, std::string source_path)
      : std::runtime_error(message), kernel_(std::move(kernel)), source_path_(std::move(source_path)) {}
  const std::string& kernel() const { return kernel_; }
  const std::string& source_path() const { return source_path_; }  // the source, kept on disk

 private:
  std::string kernel_;
  std::string source_path_;
};

struct CompilerStats {
  int64_t compiler_runs = 0;  // times the system compiler ran (cache misses)
  int64_t disk_hits = 0;      // shared objects found in the cache folder and loaded
  int64_t memory_hits = 0;    // sources this Compiler had loaded already
};

class Compiler {
 public:
  explicit Compiler(std::string cache_dir = default_cache_dir(), std::string cxx = default_compiler(),
                    std::vector<std::string> flags = default_compiler_flags());
  ~Compiler();
  Compiler(const Compiler&) = delete;
  Compiler& operator=(const Compiler&) = delete;

  // The kernel's entry point, compiled from `source` or found in the cache. Throws CompileError.
  KernelFunction compile(const std::string& kernel_name, const std::string& source);

  // 16 hex digits: a hash of the source, the compiler and every flag. Files in the cache folder
  // are named <kernel_name>_<cache_key>.{cc,so}.
  std::string cache_key(const std::string& source) const;

  const std::string& cache_dir() const { return cache_dir_; }
  const std::vector<std::string>& flags() const { return flags_; }
  const CompilerStats& stats() const { return stats_; }

 private:
  // Runs the compiler on `cc`, leaving the shared object at `so`; throws CompileError.
  void run_compiler(const std::string& kernel_name, const std::string& cc, const std::string& so);
  KernelFunction load(const std::string& kernel_name, const std::string& so, const std::string& cc);

  std::string cache_dir_;
  std::string cxx_;
  std::vector<std::string> flags_;
  CompilerStats stats_;
  std::map<std::string, KernelFunction> loaded_;  // cache key -> entry point
  std::vector<void*> handles_;                    // dlopen handles, closed by the destructor
};

}  // namespace ch06

#endif  // CH06_COMPILER_H_
