// CudaDevice through the Device interface: tinyref's Buffer on the GPU, a hand-rendered kernel.
#include "tinyref/backends/cuda/cuda_device.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "tinyref/backends/device.h"
#include "tinyref/error.h"

namespace tinyref::cuda {
namespace {

TEST(CudaDeviceTest, BuffersAndAKernelThroughTheDeviceInterface) {
  std::unique_ptr<CudaDevice> gpu;
  try {
    gpu = std::make_unique<CudaDevice>();
  } catch (const Error& e) {
    GTEST_SKIP() << "no CUDA driver/device: " << e.what();
  }
  Device& device = *gpu;
  EXPECT_EQ(device.name(), "CUDA");
  const int n = 1000;
  std::vector<float> host(n);
  for (int i = 0; i < n; ++i) host[i] = 0.25f * i - 7.0f;
  Buffer in(device, DType::kFloat32, n), out(device, DType::kFloat32, n);
  in.copy_in(host.data());

  CudaSource spec;
  spec.kernel_name = "E_1000";
  spec.source =
      "extern \"C\" __global__ void E_1000(float* data0, const float* data1) {\n"
      "  int gidx0 = blockIdx.x * blockDim.x + threadIdx.x; /* 1000 */\n"
      "  if (gidx0 < 1000) data0[gidx0] = fmaxf(data1[gidx0], 0.0f);\n"
      "}\n";
  spec.grid = {4};
  spec.block = {256};
  std::shared_ptr<CompiledKernel> kernel = gpu->compile_source(spec);
  EXPECT_EQ(kernel->source(), spec.source);
  device.launch(*kernel, {out.ptr(), in.ptr()});
  device.synchronize();
  std::vector<float> result(n);
  out.copy_out(result.data());
  for (int i = 0; i < n; ++i) ASSERT_EQ(result[i], host[i] > 0 ? host[i] : 0.0f) << i;
}

TEST(CudaDeviceTest, NoDeviceMeansAnErrorNotACrash) {
  ContextOptions options;
  options.driver_library = "libtinyref-no-such-driver.so.1";
  EXPECT_THROW(CudaDevice device(options), Error);
}

}  // namespace
}  // namespace tinyref::cuda
