// The Gpu layer on both implementations: the emulator everywhere, the native GPU where one
// answers (elsewhere those cases skip, counted, saying why).
#include "tools/gpu/gpu.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace {

const char* kScale = R"(extern "C" __global__ void scale(float* __restrict__ out, const float* __restrict__ in) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < 1000) out[i] = 2.0f * in[i];
}
)";

// NVRTC's PTX for a source, or "" where this machine has no NVRTC (the emulator needs none).
std::string ptx_of(const std::string& source, const std::string& name) {
  const gpu::NvrtcApi* rtc = gpu::nvrtc_api();
  if (rtc == nullptr) return "";
  gpu::nvrtcProgram p = nullptr;
  EXPECT_EQ(rtc->nvrtcCreateProgram(&p, source.c_str(), (name + ".cu").c_str(), 0, nullptr, nullptr), gpu::NVRTC_SUCCESS);
  const char* options[] = {"--gpu-architecture=compute_90"};
  EXPECT_EQ(rtc->nvrtcCompileProgram(p, 1, options), gpu::NVRTC_SUCCESS);
  size_t size = 0;
  rtc->nvrtcGetPTXSize(p, &size);
  std::string ptx(size, '\0');
  rtc->nvrtcGetPTX(p, ptx.data());
  rtc->nvrtcDestroyProgram(&p);
  return ptx;
}

class GpuTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "native") {
      std::string why;
      if (!gpu::native_gpu_available(&why)) GTEST_SKIP() << "no native GPU: " << why;
      if (gpu::nvrtc_api() == nullptr) GTEST_SKIP() << gpu::nvrtc_missing();
      g_ = gpu::open_native_gpu();
    } else {
      std::string why;
      if (!gpu::emulator_available(&why)) GTEST_SKIP() << why;
      g_ = gpu::open_emulated_gpu();
    }
  }
  std::shared_ptr<gpu::Gpu> g_;
};

TEST_P(GpuTest, CopiesAndRunsAKernel) {
  std::vector<float> in(1000), out(1000, -1.0f);
  for (int i = 0; i < 1000; ++i) in[i] = 0.5f * i;
  const uint64_t din = g_->alloc(4000), dout = g_->alloc(4000);
  g_->copy_in(din, in.data(), 4000);
  auto k = g_->load({"scale", kScale, ptx_of(kScale, "scale")});
  g_->launch(*k, {.blocks = 4, .threads = 256}, {dout, din});
  g_->copy_out(out.data(), dout, 4000);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(out[i], 1.0f * i) << "element " << i << " on " << g_->name();
  EXPECT_EQ(g_->load({"scale", kScale, ptx_of(kScale, "scale")}).get(), k.get()) << "the same code twice: one kernel";
  const gpu::Stats& s = g_->stats();
  EXPECT_EQ(s.allocations, 2);
  EXPECT_EQ(s.copies_in, 1);
  EXPECT_EQ(s.bytes_in, 4000);
  EXPECT_EQ(s.copies_out, 1);
  EXPECT_EQ(s.launches, 1);
  EXPECT_EQ(s.kernels_loaded, 1);
  g_->free(din);
  g_->free(dout);
  EXPECT_EQ(g_->stats().frees, 2);
}

TEST_P(GpuTest, RefusesDimsNoGpuLaunches) {
  auto k = g_->load({"scale", kScale, ptx_of(kScale, "scale")});
  const uint64_t d = g_->alloc(4000);
  try {
    g_->launch(*k, {.blocks = 1, .threads = 2048}, {d, d});
    FAIL() << "2048 threads a block launched";
  } catch (const gpu::GpuError& e) {
    EXPECT_NE(std::string(e.what()).find("scale"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2048"), std::string::npos) << e.what();
  }
  EXPECT_THROW(g_->launch(*k, {.blocks = 0, .threads = 32}, {d, d}), gpu::GpuError);
  g_->free(d);
}

INSTANTIATE_TEST_SUITE_P(Gpus, GpuTest, ::testing::Values("emulated", "native"));

class EmulatedGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!gpu::emulator_available(&why)) GTEST_SKIP() << why;
  }
};

TEST_F(EmulatedGpu, ReportsAnOutOfBoundsReadWithTheKernelAndLine) {
  auto g = gpu::open_emulated_gpu();
  const char* source = R"(extern "C" __global__ void overrun(float* out, const float* in) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i + 1];
}
)";
  const uint64_t a = g->alloc(256 * 4), b = g->alloc(256 * 4);
  std::vector<float> zeros(256, 0.0f);
  g->copy_in(b, zeros.data(), zeros.size() * 4);
  auto k = g->load({"overrun", source, ""});
  try {
    g->launch(*k, {.blocks = 2, .threads = 128}, {a, b});
    FAIL() << "reading in[256] of 256 floats went unreported";
  } catch (const gpu::GpuError& e) {
    const std::string report = e.what();
    EXPECT_NE(report.find("overrun"), std::string::npos) << report;
    EXPECT_NE(report.find("overrun.cu:3"), std::string::npos) << "the report names the line\n" << report;
  }
  // The emulator keeps working after a fault.
  auto scale = g->load({"scale", kScale, ""});
  EXPECT_NO_THROW(g->launch(*scale, {.blocks = 1, .threads = 32}, {a, b}));
}

TEST_F(EmulatedGpu, ACompileErrorNamesTheKernelAndKeepsItsSource) {
  auto g = gpu::open_emulated_gpu();
  try {
    g->load({"broken", "extern \"C\" __global__ void broken(float* out) { out[0] = undeclared_name; }\n", ""});
    FAIL() << "a kernel that does not compile loaded";
  } catch (const gpu::GpuError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("broken"), std::string::npos) << message;
    EXPECT_NE(message.find("undeclared_name"), std::string::npos) << "the compiler's own words\n" << message;
    EXPECT_NE(message.find(".cc"), std::string::npos) << "where the source was kept\n" << message;
  }
}

TEST(OpenGpu, FollowsCourseGpu) {
  testing_util::ScopedEnv course_gpu("COURSE_GPU", "emulated");
  EXPECT_TRUE(gpu::open_gpu()->emulated());
  course_gpu.set("quantum");
  try {
    gpu::open_gpu();
    FAIL() << "COURSE_GPU=quantum opened a GPU";
  } catch (const gpu::GpuError& e) {
    EXPECT_NE(std::string(e.what()).find("quantum"), std::string::npos) << e.what();
  }
  course_gpu.set(nullptr);
  std::string why;
  EXPECT_EQ(gpu::open_gpu()->emulated(), !gpu::native_gpu_available(&why)) << why;
}

TEST(Nvrtc, CompilesWhereTheToolkitIsInstalled) {
  if (gpu::nvrtc_api() == nullptr) GTEST_SKIP() << gpu::nvrtc_missing();
  EXPECT_NE(gpu::nvrtc_api()->version(), "unknown");
  const std::vector<int> archs = gpu::nvrtc_api()->architectures();
  EXPECT_FALSE(archs.empty());
  EXPECT_NE(ptx_of(kScale, "scale").find(".entry scale"), std::string::npos);
}

}  // namespace
