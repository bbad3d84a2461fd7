// Compiles CUDA C source for one GPU architecture with NVRTC, and caches the result twice:
// in memory (a repeated kernel in this process) and on disk (the same kernel in the next run).
//
//   Compiler compiler(90);                       // compute capability 9.0 (H100, H200)
//   const CompiledModule& m = compiler.compile(source, "E_4");
//   // m.image: a CUBIN for sm_90a, ready for cuModuleLoadData; m.cubin says which kind
//   compiler.stats().compiles     // 1 on a cold cache, 0 when the disk cache already had it
//
// Architecture: NVRTC can emit a CUBIN (machine code) only for the real architectures it knows
// (nvrtc_supported_archs()). For those we ask for sm_XY, so the driver loads it with no JIT
// step (for 9.0 sm_90a: wgmma, Hopper's warpgroup MMA, is in no other target). For a GPU newer
// than NVRTC we emit PTX for the newest virtual architecture at or below the device's
// (compute_XY), which the driver compiles on load: PTX runs forward, never back.
//
// The cache key is everything that changes the output: NVRTC's version, the options (the
// architecture among them) and the source, byte for byte. On disk each module is one file,
// named by a 64-bit hash of that key, that also stores the whole key: a load compares it, so a
// hash collision or a truncated file costs a recompile, never a wrong kernel.
//
// A failed compile throws tinyref::Error with NVRTC's log, after saving the source to a file
// whose path the message names, so the student can open the line the log points at.
#ifndef TINYREF_BACKENDS_CUDA_COMPILER_H_
#define TINYREF_BACKENDS_CUDA_COMPILER_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "tinyref/backends/cuda/nvrtc.h"

namespace tinyref::cuda {

struct CompiledModule {
  std::string image;      // CUBIN bytes or PTX text
  bool cubin = false;     // true: machine code for the exact device; false: PTX for the JIT
  std::string log;        // NVRTC's warnings, if any (empty on a disk-cache hit)
  std::string hash;       // 16 hex digits of the cache key: the disk file's name
};

// A source and the name its compile goes by (the kernel's name).
struct NamedSource {
  std::string source;
  std::string name;
};

struct CompilerStats {
  int compiles = 0;     // NVRTC actually ran
  int memory_hits = 0;  // served from this Compiler's memory
  int disk_hits = 0;    // served from the disk cache (a compile saved by an earlier process)
};

class Compiler {
 public:
  // compute_capability is 10*major+minor (90 for an H100). cache_dir empty: no disk cache.
  // extra_options are appended to NVRTC's command line (e.g. "-lineinfo"); they join the key.
  explicit Compiler(int compute_capability,
                    std::filesystem::path cache_dir = default_cache_dir(),
                    std::vector<std::string> extra_options = {});

  // Compiles (or finds) `source`; `name` names the program in NVRTC's log and the saved file
  // on failure (the kernel's name is a good choice). The reference stays valid as long as the
  // Compiler. Throws tinyref::Error on a compile failure, with the log.
  const CompiledModule& compile(const std::string& source, const std::string& name);

  // Compiles the sources that neither cache holds, several NVRTC runs at once (NVRTC is
  // thread-safe), so that compile() then finds them in memory. A search's 15 variants of a
  // kernel, 0.1-0.3 s of NVRTC each, take about one run's time on 16 cores. A source that fails
  // is left out: compile() runs NVRTC on it again and throws with the log.
  void compile_ahead(const std::vector<NamedSource>& sources);

  // The 16-hex-digit FNV-1a hash of NVRTC's version, the options and the source.
  std::string cache_key(const std::string& source) const;

  const std::vector<std::string>& options() const { return options_; }
  bool emits_cubin() const { return cubin_; }
  const std::string& arch() const { return arch_; }  // "sm_90a", "sm_80" or "compute_90"
  const std::filesystem::path& cache_dir() const { return cache_dir_; }
  const CompilerStats& stats() const { return stats_; }

  // $XDG_CACHE_HOME/tinyref/cuda, else $HOME/.cache/tinyref/cuda, else empty (no disk cache).
  static std::filesystem::path default_cache_dir();

 private:
  std::string full_key(const std::string& source) const;
  // From the memory or the disk cache, counting the hit; null when neither has it. A disk hit
  // moves `key` into the memory cache.
  const CompiledModule* find_cached(std::string& key);
  const CompiledModule& keep(std::string key, NvrtcOutput out);
  bool load_from_disk(const std::string& key, CompiledModule& module) const;
  void store_to_disk(const std::string& key, const CompiledModule& module) const;
  std::filesystem::path save_failed_source(const std::string& source, const std::string& hash,
                                           const std::string& name) const;

  std::string arch_;
  bool cubin_ = false;
  std::vector<std::string> options_;
  std::filesystem::path cache_dir_;
  std::string version_;
  // Keyed by the full key text, not the hash: equal keys mean equal output, with no collisions.
  std::unordered_map<std::string, CompiledModule> memory_;
  CompilerStats stats_;
};

}  // namespace tinyref::cuda

#endif  // TINYREF_BACKENDS_CUDA_COMPILER_H_
