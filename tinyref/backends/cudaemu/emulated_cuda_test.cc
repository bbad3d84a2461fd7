// CUDA_EMU through tinyref's Device interface and through tensors: generated kernels run on the
// CUDA emulator and agree with the CPU; a fault in a kernel and a compile error come back as a
// tinyref::Error carrying what the emulator or the compiler said.
#include "tinyref/backends/cudaemu/emulated_cuda.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tinyref/backends/registry.h"
#include "tinyref/error.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

TEST(EmulatedCuda, BuffersAndAKernelThroughTheDeviceInterface) {
  Device& emu = get_device("CUDA_EMU");
  EXPECT_TRUE(emu.codegen_options().gpu) << "the optimizer lowers for a GPU: the same kernels as CUDA";
  const std::vector<float> x = {1, 2, 3, 4, 5};
  Buffer in(emu, DType::kFloat32, 5), out(emu, DType::kFloat32, 5);
  in.copy_in(x.data());
  auto k = compile_emulated_source(emu,
                                   "extern \"C\" __global__ void twice(float* out, const float* in) {\n"
                                   "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
                                   "  if (i < 5) out[i] = 2 * in[i];\n"
                                   "}\n",
                                   "twice", 2, 4);
  emu.launch(*k, {out.ptr(), in.ptr()});
  std::vector<float> y(5);
  out.copy_out(y.data());
  EXPECT_EQ(y, (std::vector<float>{2, 4, 6, 8, 10}));
}

TEST(EmulatedCuda, AFaultIsATinyrefErrorWithTheEmulatorsReport) {
  Device& emu = get_device("CUDA_EMU");
  Buffer in(emu, DType::kFloat32, 4), out(emu, DType::kFloat32, 8);
  const std::vector<float> x(4, 1.0f);
  in.copy_in(x.data());
  auto k = compile_emulated_source(emu,
                                   "extern \"C\" __global__ void overread(float* out, const float* in) {\n"
                                   "  out[threadIdx.x] = in[threadIdx.x];  // in has 4 floats\n"
                                   "}\n",
                                   "overread", 1, 8);
  try {
    emu.launch(*k, {out.ptr(), in.ptr()});
    FAIL() << "expected a tinyref::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("CUDA_EMU: kernel overread failed (cudaErrorIllegalAddress)"), std::string::npos) << what;
    EXPECT_NE(what.find("thread (4,0,0)"), std::string::npos) << what;
    EXPECT_NE(what.find("overread.cu:2"), std::string::npos) << what;
  }
  EXPECT_EQ(Tensor::full({4}, 2.0, DType::kFloat32, "CUDA_EMU").sum().item(), 8.0) << "the device keeps working";
}

TEST(EmulatedCuda, ACompileErrorIsATinyrefError) {
  try {
    compile_emulated_source(get_device("CUDA_EMU"), "extern \"C\" __global__ void broken(float* x) { x[0] = nope; }",
                            "broken", 1, 1);
    FAIL() << "expected a tinyref::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
}

TEST(EmulatedCuda, TensorsAgreeWithTheCpu) {
  Tensor::manual_seed(1);
  Tensor a = Tensor::randn({37, 70}, DType::kFloat32, "CPU"), b = Tensor::randn({70, 45}, DType::kFloat32, "CPU");
  const std::vector<double> want = (a.matmul(b).relu().sum({1}) + 1.0).to_doubles();
  const std::vector<double> got = (a.to("CUDA_EMU").matmul(b.to("CUDA_EMU")).relu().sum({1}) + 1.0).to_doubles();
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4 * (1 + std::abs(want[i]))) << i;
}

}  // namespace
}  // namespace tinyref
