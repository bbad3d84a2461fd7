#include "tinyref/backends/cuda/nvrtc.h"

#include <nvrtc.h>

#include <string>
#include <vector>

namespace tinyref::cuda {
namespace {

// Destroys the program on every path out of nvrtc_compile.
class Program {
 public:
  Program() = default;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  ~Program() {
    if (program_ != nullptr) nvrtcDestroyProgram(&program_);
  }
  nvrtcProgram* address() { return &program_; }
  nvrtcProgram get() const { return program_; }

 private:
  nvrtcProgram program_ = nullptr;
};

std::string read_log(nvrtcProgram program) {
  size_t size = 0;
  if (nvrtcGetProgramLogSize(program, &size) != NVRTC_SUCCESS || size <= 1) return "";
  std::string log(size, '\0');
  if (nvrtcGetProgramLog(program, log.data()) != NVRTC_SUCCESS) return "";
  log.resize(size - 1);  // the size counts the terminating NUL
  return log;
}

}  // namespace

bool nvrtc_available() { return true; }

std::string nvrtc_version() {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS) return "unknown";
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<int> nvrtc_supported_archs() {
  int count = 0;
  if (nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0) return {};
  std::vector<int> archs(count);
  if (nvrtcGetSupportedArchs(archs.data()) != NVRTC_SUCCESS) return {};
  return archs;
}

NvrtcOutput nvrtc_compile(const std::string& source, const std::string& program_name,
                          const std::vector<std::string>& options, bool cubin) {
  NvrtcOutput out;
  Program program;
  nvrtcResult result = nvrtcCreateProgram(program.address(), source.c_str(),
                                          program_name.c_str(), 0, nullptr, nullptr);
  if (result != NVRTC_SUCCESS) {
    out.status = nvrtcGetErrorString(result);
    return out;
  }
  std::vector<const char*> argv;
  for (const std::string& option : options) argv.push_back(option.c_str());
  result = nvrtcCompileProgram(program.get(), static_cast<int>(argv.size()), argv.data());
  out.status = nvrtcGetErrorString(result);
  // Read the log even on success: it carries warnings a curious student may want.
  out.log = read_log(program.get());
  if (result != NVRTC_SUCCESS) return out;

  size_t size = 0;
  result = cubin ? nvrtcGetCUBINSize(program.get(), &size) : nvrtcGetPTXSize(program.get(), &size);
  if (result == NVRTC_SUCCESS) {
    out.image.assign(size, '\0');
    result = cubin ? nvrtcGetCUBIN(program.get(), out.image.data())
                   : nvrtcGetPTX(program.get(), out.image.data());
  }
  out.status = nvrtcGetErrorString(result);
  if (result != NVRTC_SUCCESS) return out;
  // PTX is text and its size counts a NUL; keep the image a plain string of its bytes.
  if (!cubin && !out.image.empty() && out.image.back() == '\0') out.image.pop_back();
  out.ok = true;
  return out;
}

}  // namespace tinyref::cuda
