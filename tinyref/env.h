// tinyref's environment variables: the one list of them (kEnvVars, below) and the one way they
// are read. A value that makes no sense is an Error naming the variable, never a quiet default.
//
//   TT_DEBUG=2 ./train          env_int("TT_DEBUG", 0) == 2
//   TT_NOOPT=1 ./train          env_flag("TT_NOOPT", false) == true (0 or 1; unset or empty:
//                               the fallback)
//   TT_NOOPT=yes ./train        Error: "$TT_NOOPT is 0 or 1, not 'yes'"
//   ./train                     env_string("TT_DEVICE", "CPU") == "CPU" (unset or empty)
//
// The course's own variables are read where they belong, outside tinyref: TT_SEEDS
// (tests/testing/testing.h) and TT_DATASET (datasets/mnist.h).
//
// Reading a variable that kEnvVars does not list is an InternalError: a new variable is listed
// (and so documented) before it is read. Values are read on every call, never cached, so a test
// may setenv() between calls.
#ifndef TINYREF_ENV_H_
#define TINYREF_ENV_H_

#include <optional>
#include <string>

namespace tinyref {

struct EnvVar {
  const char* name;
  const char* kind;     // "flag" (0 or 1), "int", "string" or "path"
  const char* fallback; // what unset (or empty) means
  const char* what;
};

inline constexpr EnvVar kEnvVars[] = {
    {"TT_DEVICE", "string", "CPU", "the default device: INTERP, CPU, CUDA or CUDA_EMU"},
    {"TT_DEBUG", "int", "0",
     "what realize() prints on stderr: 2 a line per kernel with its time, 3 also its optimizations, "
     "4 its source, 5 its AST"},
    {"TT_NOOPT", "flag", "0", "1: every kernel as plain loops, no optimization (CPU and GPU)"},
    {"TT_SEARCH", "flag", "1 on a GPU", "time a few variants of each kernel and keep the fastest"},
    {"TT_GRAPH", "flag", "1", "0: a replayed step launches kernel by kernel even where the device has graphs"},
    {"TT_VIZ", "flag", "0", "1: draw every schedule realized, into $TT_VIZ_DIR (schedule/viz.h)"},
    {"TT_VIZ_DIR", "path", "/tmp/tinyref_viz", "where TT_VIZ's pictures go"},
    {"TT_TF32", "flag", "convolutions",
     "1: float32 matmuls and convolutions on a GPU's TF32 tensor cores; 0: never; unset: a convolution's "
     "kernels where the search finds them faster, as PyTorch lets cuDNN (codegen/options.h)"},
    {"TT_ASYNC", "flag", "1",
     "0: a GPU's search leaves out the staged kernels whose copies run on cp.async (compute capability "
     "8.0 on; codegen/staging.h), which it tries by default"},
    {"TT_WGMMA", "flag", "0",
     "1: a GPU's search (compute capability 9.0, and the emulator) also tries tensor-core kernels whose "
     "warpgroups issue wgmma (codegen/kernel.h: TensorCoreDims); off until a GPU has run them correct"},
    {"TT_CPU_ISA", "string", "the widest from cpuid",
     "avx512, avx2, sse or scalar: tune and compile the CPU's kernels for that machine"},
    {"TT_CXX", "string", "g++", "the compiler of the CPU's kernels"},
    {"TT_CACHE_DIR", "path", "$XDG_CACHE_HOME/tinyref, else ~/.cache/tinyref", "the CPU's kernel cache"},
    {"XDG_CACHE_HOME", "path", "$HOME/.cache", "under which tinyref's caches go (disk_cache.h)"},
    {"HOME", "path", "none: no disk caches", "the user's home, for ~/.cache"},
};

// The value of `name`, or `fallback` when it is unset or empty.
std::string env_string(const char* name, const std::string& fallback);
// 0 or 1; `fallback` when unset or empty; Error otherwise.
bool env_flag(const char* name, bool fallback);
// A whole number; `fallback` when unset or empty; Error otherwise.
int env_int(const char* name, int fallback);

// Sets an environment variable (nullptr: unsets it) until the end of the scope, then puts back
// what it was: a test, or a benchmark timing two settings, leaves the value it was started with.
//   { ScopedEnv tf32("TT_TF32", "0"); ... }   // TT_TF32 as before after the brace
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  void set(const char* value);

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// $TT_DEBUG: how much realize() and the kernel search print.
inline int debug_level() { return env_int("TT_DEBUG", 0); }

}  // namespace tinyref

#endif  // TINYREF_ENV_H_
