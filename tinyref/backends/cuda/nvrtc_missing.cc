// Stands in for nvrtc.cc where the build found no CUDA toolkit: every compile fails cleanly.
#include <string>
#include <vector>

#include "tinyref/backends/cuda/nvrtc.h"

namespace tinyref::cuda {

bool nvrtc_available() { return false; }

std::string nvrtc_version() { return "none"; }

std::vector<int> nvrtc_supported_archs() { return {}; }

NvrtcOutput nvrtc_compile(const std::string&, const std::string&, const std::vector<std::string>&,
                          bool) {
  NvrtcOutput out;
  out.status = "built without the CUDA toolkit (no NVRTC found at build time)";
  return out;
}

}  // namespace tinyref::cuda
