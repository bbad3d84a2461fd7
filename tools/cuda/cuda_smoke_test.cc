// Proves the CUDA half of the build: nvcc through cuda_library, NVRTC linked. NVRTC needs no
// GPU, so its test runs on CI; the kernel launch skips (counted) where there is no device.
#include <nvrtc.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tools/cuda/vector_add.h"

namespace {

TEST(CudaSmokeTest, NvrtcCompilesAKernelToPtx) {
  const char* source =
      "extern \"C\" __global__ void E_4(float* data0, const float* data1) {\n"
      "  int gidx0 = blockIdx.x * blockDim.x + threadIdx.x; /* 4 */\n"
      "  if (gidx0 < 4) data0[gidx0] = data1[gidx0] * 2.0f;\n"
      "}\n";
  nvrtcProgram program;
  ASSERT_EQ(nvrtcCreateProgram(&program, source, "E_4.cu", 0, nullptr, nullptr), NVRTC_SUCCESS);
  const char* options[] = {"--gpu-architecture=compute_90"};
  const nvrtcResult compiled = nvrtcCompileProgram(program, 1, options);
  size_t log_size = 0;
  nvrtcGetProgramLogSize(program, &log_size);
  std::string log(log_size, '\0');
  nvrtcGetProgramLog(program, log.data());
  ASSERT_EQ(compiled, NVRTC_SUCCESS) << "NVRTC log:\n" << log;
  size_t ptx_size = 0;
  nvrtcGetPTXSize(program, &ptx_size);
  std::string ptx(ptx_size, '\0');
  nvrtcGetPTX(program, ptx.data());
  nvrtcDestroyProgram(&program);
  EXPECT_NE(ptx.find(".entry E_4"), std::string::npos) << ptx.substr(0, 400);
}

TEST(CudaSmokeTest, NvccKernelMatchesCpu) {
  const int n = 1000;
  std::vector<float> a(n), b(n), out(n, -1.0f);
  for (int i = 0; i < n; ++i) {
    a[i] = 0.5f * i;
    b[i] = 3.0f - i;
  }
  const std::string error = vector_add_on_device(a.data(), b.data(), out.data(), n);
  if (error == "no CUDA device") GTEST_SKIP() << "no CUDA device: the kernel launch is not tested here";
  ASSERT_EQ(error, "");
  for (int i = 0; i < n; ++i) ASSERT_EQ(out[i], a[i] + b[i]) << "index " << i;  // exact: one add
}

}  // namespace
