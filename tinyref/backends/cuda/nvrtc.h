// A thin layer over NVRTC, CUDA's run-time compiler: source text in, module image out.
//
//   NvrtcOutput out = nvrtc_compile(source, "E_4.cu", {"--gpu-architecture=sm_90"}, true);
//   if (!out.ok) std::cerr << out.status << "\n" << out.log;   // e.g. NVRTC_ERROR_COMPILATION
//   // out.image is a CUBIN (ready for cuModuleLoadData) or, for compute_XY, PTX text
//
// It knows nothing about caching or devices: compiler.h decides the architecture, caches the
// result and turns a failure into a tinyref::Error. NVRTC needs no GPU and no driver, so all of
// this runs on CI. Where the build found no toolkit, nvrtc_missing.cc stands in and
// nvrtc_available() says false.
#ifndef TINYREF_BACKENDS_CUDA_NVRTC_H_
#define TINYREF_BACKENDS_CUDA_NVRTC_H_

#include <string>
#include <vector>

namespace tinyref::cuda {

struct NvrtcOutput {
  bool ok = false;
  std::string status;  // "NVRTC_SUCCESS", "NVRTC_ERROR_COMPILATION", ...
  std::string log;     // the program log: errors and warnings, with line numbers
  std::string image;   // CUBIN bytes or PTX text (without the trailing NUL)
};

// False when tinyref was built without the CUDA toolkit.
bool nvrtc_available();

// "13.0": part of every cache key, since another compiler version makes other code.
std::string nvrtc_version();

// The real architectures NVRTC can emit a CUBIN for, as 10*major+minor: {75, 80, ..., 120}.
std::vector<int> nvrtc_supported_archs();

// Compiles `source` under `program_name` (the name its log uses for the file). With `cubin`,
// fetches the CUBIN (the options must name a real sm_XY architecture), else the PTX.
NvrtcOutput nvrtc_compile(const std::string& source, const std::string& program_name,
                          const std::vector<std::string>& options, bool cubin);

}  // namespace tinyref::cuda

#endif  // TINYREF_BACKENDS_CUDA_NVRTC_H_
