// From CUDA source to what a GPU's driver loads, inside this process: NVRTC, CUDA's compiler
// as a library. No nvcc, no files, about a tenth of a second a kernel, and no GPU needed (so
// CI compiles every kernel the tests generate, and a typo in the renderer fails there).
//
//   CudaCompiler nvrtc(90);                            // for compute capability 9.0 (H100)
//   nvrtc.options()                                    // {"--gpu-architecture=sm_90", "--fmad=false"}
//   const std::string& cubin = nvrtc.compile("E_4", source);
//   gpu->load({"E_4", source, cubin});
//   nvrtc.stats().nvrtc_runs                           // 1; the same source again: still 1
//
// NVRTC's C API, five calls (gpu::nvrtc_api() holds them, loaded at run time):
//   nvrtcCreateProgram(&prog, source, "E_4.cu", 0, nullptr, nullptr)
//   nvrtcCompileProgram(prog, n, options)           // NVRTC_SUCCESS, or see the log
//   nvrtcGetProgramLogSize / nvrtcGetProgramLog     // errors with line numbers, and warnings
//   nvrtcGetCUBINSize / nvrtcGetCUBIN               // machine code for sm_XY (or ...PTX... for
//                                                   // compute_XY: text the driver compiles)
//   nvrtcDestroyProgram(&prog)
//
// A CUBIN is machine code for one architecture. NVRTC makes one only for the architectures it
// knows (gpu::NvrtcApi::architectures()); for a newer GPU it emits PTX for the newest one it
// knows, which the driver compiles when it loads it (PTX runs on later GPUs, never earlier).
//
// Results are cached twice, like chapter 6's compiler: in memory, and on disk (files named
// <kernel>_<cache_key>.cubin or .ptx in cache_dir) so that the next run compiles nothing.
#ifndef CH08_CUDA_COMPILER_H_
#define CH08_CUDA_COMPILER_H_

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ch08 {

// NVRTC refused a kernel. The message names the kernel and quotes NVRTC's log, and the source
// is saved where the message says, so the line numbers of the log can be looked up.
class CudaCompileError : public std::runtime_error {
 public:
  CudaCompileError(const std::string& message, std::string kernel, std::string source_path)
      : std::runtime_error(message), kernel_(std::move(kernel)), source_path_(std::move(source_path)) {}
  const std::string& kernel() const { return kernel_; }
  const std::string& source_path() const { return source_path_; }

 private:
  std::string kernel_, source_path_;
};

struct CudaCompilerStats {
  int64_t nvrtc_runs = 0;   // NVRTC compiled (cache misses)
  int64_t memory_hits = 0;  // sources this CudaCompiler had compiled already
  int64_t disk_hits = 0;    // found in the cache folder
};

class CudaCompiler {
 public:
  // arch: compute capability as 10 * major + minor. cache_dir: "" for no disk cache.
  explicit CudaCompiler(int arch = 90, std::string cache_dir = default_cache_dir());

  // Whether NVRTC is on this machine; why_not() says why not.
  static bool available();
  static std::string why_not();
  static std::string default_cache_dir();  // gpu::cache_folder("nvrtc")

  // ch08.6: NVRTC's options for this architecture: "--gpu-architecture=sm_<arch>" where NVRTC
  // knows it (a CUBIN), else "--gpu-architecture=compute_<newest it knows below arch>" (PTX);
  // then "--fmad=false": no multiply and add fused into one rounding behind our back, so a value
  // recomputed in two kernels is the same in both (README, "One value, one rounding").
  std::vector<std::string> options() const;
  // ch08.6: whether options() asks for a CUBIN (true) or PTX.
  bool cubin() const;

  // ch08.6: 16 hex digits (gpu::hash_hex) of everything that decides the result: NVRTC's
  // version, the options and the source.
  std::string cache_key(const std::string& source) const;

  // ch08.6: the CUBIN (or PTX) for `source`, whose kernel is named `kernel`: from memory, from
  // disk, or compiled now (and then kept in both). Throws CudaCompileError where NVRTC refuses
  // it, gpu::GpuError where there is no NVRTC. The reference lives as long as the compiler.
  const std::string& compile(const std::string& kernel, const std::string& source);

  int arch() const { return arch_; }
  const std::string& cache_dir() const { return cache_dir_; }
  const CudaCompilerStats& stats() const { return stats_; }

 private:
  int arch_;
  std::string cache_dir_;
  CudaCompilerStats stats_;
  std::map<std::string, std::string> compiled_;  // cache key -> image
};

}  // namespace ch08

#endif  // CH08_CUDA_COMPILER_H_
