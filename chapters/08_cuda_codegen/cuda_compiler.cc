// Your NVRTC compiler: task ch08.6. README.md, "Task 6", walks through it.
#include "ch08/cuda_compiler.h"

#include <algorithm>

#include "chapters/course.h"
#include "tools/gpu/cuda_api.h"
#include "tools/gpu/disk_cache.h"

namespace ch08 {

namespace {

// Given: NVRTC's entry points, or GpuError saying why there are none.
const gpu::NvrtcApi& nvrtc() {
  const gpu::NvrtcApi* api = gpu::nvrtc_api();
  if (api == nullptr) throw gpu::GpuError(gpu::nvrtc_missing());
  return *api;
}

// Given: NVRTC's program, destroyed on every way out of compile().
//   NvrtcProgram program(source, "E_4.cu");
//   nvrtc().nvrtcCompileProgram(program.get(), n, options);   // NVRTC_SUCCESS or not
//   program.log()                                            // NVRTC's messages
class [[maybe_unused]] NvrtcProgram {
 public:
  NvrtcProgram(const std::string& source, const std::string& name) {
    const gpu::nvrtcResult r = nvrtc().nvrtcCreateProgram(&program_, source.c_str(), name.c_str(), 0, nullptr, nullptr);
    if (r != gpu::NVRTC_SUCCESS) throw gpu::GpuError("nvrtcCreateProgram(" + name + "): " + nvrtc().nvrtcGetErrorString(r));
  }
  ~NvrtcProgram() { nvrtc().nvrtcDestroyProgram(&program_); }
  NvrtcProgram(const NvrtcProgram&) = delete;
  NvrtcProgram& operator=(const NvrtcProgram&) = delete;
  gpu::nvrtcProgram get() const { return program_; }

  std::string log() const {
    size_t size = 0;
    if (nvrtc().nvrtcGetProgramLogSize(program_, &size) != gpu::NVRTC_SUCCESS || size <= 1) return "";
    std::string log(size, '\0');
    nvrtc().nvrtcGetProgramLog(program_, log.data());
    log.resize(size - 1);  // the size counts the final NUL
    return log;
  }

 private:
  gpu::nvrtcProgram program_ = nullptr;
};

}  // namespace

CudaCompiler::CudaCompiler(int arch, std::string cache_dir) : arch_(arch), cache_dir_(std::move(cache_dir)) {}

bool CudaCompiler::available() { return gpu::nvrtc_api() != nullptr; }
std::string CudaCompiler::why_not() { return gpu::nvrtc_missing(); }
std::string CudaCompiler::default_cache_dir() { return gpu::cache_folder("nvrtc"); }

// TODO(ch08.6): whether NVRTC knows arch_ (nvrtc().architectures()).
bool CudaCompiler::cubin() const { throw course::NotImplemented("ch08.6: CudaCompiler::cubin"); }

// TODO(ch08.6): sm_<arch> where NVRTC knows it, else compute_<the newest it knows below>;
// then "--fmad=false" (README, "One value, one rounding").
std::vector<std::string> CudaCompiler::options() const {
  throw course::NotImplemented("ch08.6: CudaCompiler::options");
}

// TODO(ch08.6): gpu::hash_hex of NVRTC's version (nvrtc().version()), the options and the
// source, kept apart by a separator no option holds (a '\0').
std::string CudaCompiler::cache_key(const std::string& source) const {
  throw course::NotImplemented("ch08.6: CudaCompiler::cache_key");
}

// TODO(ch08.6): memory (compiled_), then disk (gpu::read_file), then NVRTC: an NvrtcProgram,
// nvrtcCompileProgram with options(), and on failure the source saved (gpu::write_file_atomically)
// and a CudaCompileError with the log; on success nvrtcGetCUBINSize/nvrtcGetCUBIN (or the PTX
// pair, without its final NUL), written to disk, kept in compiled_. Count each way in stats_.
const std::string& CudaCompiler::compile(const std::string& kernel, const std::string& source) {
  throw course::NotImplemented("ch08.6: CudaCompiler::compile");
}

}  // namespace ch08
