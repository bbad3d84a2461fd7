#include "ch08/cuda_compiler.h"

#include <algorithm>

#include "tools/gpu/cuda_api.h"
#include "tools/gpu/disk_cache.h"

namespace ch08 {

namespace {

const gpu::NvrtcApi& nvrtc() {
  const gpu::NvrtcApi* api = gpu::nvrtc_api();
  if (api == nullptr) throw gpu::GpuError(gpu::nvrtc_missing());
  return *api;
}

// NVRTC's program, destroyed on every way out of compile().
class NvrtcProgram {
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

bool CudaCompiler::cubin() const {
  const std::vector<int> known = nvrtc().architectures();
  return std::find(known.begin(), known.end(), arch_) != known.end();
}

std::vector<std::string> CudaCompiler::options() const {
  std::string target = "sm_" + std::to_string(arch_);
  if (!cubin()) {
    int newest = 0;
    for (int a : nvrtc().architectures()) {
      if (a <= arch_) newest = std::max(newest, a);
    }
    if (newest == 0) {
      throw gpu::GpuError("NVRTC " + nvrtc().version() + " knows no architecture at or below sm_" + std::to_string(arch_));
    }
    target = "compute_" + std::to_string(newest);
  }
  // --fmad=false: every operation rounded on its own, as chapter 5's interpreter rounds it, so a
  // value recomputed in two kernels comes out the same in both (README, "One value, one rounding").
  return {"--gpu-architecture=" + target, "--fmad=false"};
}

std::string CudaCompiler::cache_key(const std::string& source) const {
  std::string key = nvrtc().version();
  for (const std::string& o : options()) key += '\0' + o;
  return gpu::hash_hex(key + '\0' + source);
}

const std::string& CudaCompiler::compile(const std::string& kernel, const std::string& source) {
  const std::string key = cache_key(source);
  if (auto it = compiled_.find(key); it != compiled_.end()) {
    ++stats_.memory_hits;
    return it->second;
  }
  const bool machine_code = cubin();
  const std::string file = cache_dir_.empty() ? "" : cache_dir_ + "/" + kernel + "_" + key + (machine_code ? ".cubin" : ".ptx");
  if (!file.empty()) {
    if (std::optional<std::string> image = gpu::read_file(file)) {
      ++stats_.disk_hits;
      return compiled_[key] = std::move(*image);
    }
  }

  NvrtcProgram program(source, kernel + ".cu");
  const std::vector<std::string> opts = options();
  std::vector<const char*> argv;
  for (const std::string& o : opts) argv.push_back(o.c_str());
  ++stats_.nvrtc_runs;
  const gpu::nvrtcResult r = nvrtc().nvrtcCompileProgram(program.get(), static_cast<int>(argv.size()), argv.data());
  if (r != gpu::NVRTC_SUCCESS) {
    const std::string saved = (cache_dir_.empty() ? std::string("/tmp") : cache_dir_) + "/" + kernel + "_" + key + ".cu";
    gpu::write_file_atomically(saved, source);
    throw CudaCompileError("NVRTC cannot compile kernel " + kernel + " (" + nvrtc().nvrtcGetErrorString(r) +
                               "; its source is saved as " + saved + "):\n" + program.log(),
                           kernel, saved);
  }
  size_t size = 0;
  std::string image;
  if (machine_code) {
    nvrtc().nvrtcGetCUBINSize(program.get(), &size);
    image.resize(size);
    nvrtc().nvrtcGetCUBIN(program.get(), image.data());
  } else {
    nvrtc().nvrtcGetPTXSize(program.get(), &size);
    image.resize(size);
    nvrtc().nvrtcGetPTX(program.get(), image.data());
    if (!image.empty() && image.back() == '\0') image.pop_back();
  }
  if (!file.empty()) gpu::write_file_atomically(file, image);
  return compiled_[key] = std::move(image);
}

}  // namespace ch08
