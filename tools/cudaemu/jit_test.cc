// Kernels compiled at run time: a source string in, a kernel out that runs on device memory;
// the disk cache (a second Jit finds the first one's objects), compile errors, and faults in
// generated code reported with the kernel's own line.
#include "tools/cudaemu/jit.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tools/cudaemu/runtime_api.h"

namespace cudaemu {
namespace {

// One cache for the tests that do not count compiler runs (each new cache precompiles the prelude).
std::string cache_dir(const std::string& sub = "shared") {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/jit_cache/" + sub;
}

// What a code generator prints: extern "C", pointers only, __shared__ and a barrier.
const char* kRowSums = R"(extern "C" __global__ void __launch_bounds__(64) r_4_64(float* __restrict__ data0, const float* __restrict__ data1) {
  __shared__ __align__(16) float temp0[64];
  int gidx0 = blockIdx.x;
  int lidx0 = threadIdx.x;
  temp0[lidx0] = data1[gidx0 * 64 + lidx0];
  __syncthreads();
  if (lidx0 == 0) {
    float acc0 = 0.0f;
    for (int i = 0; i < 64; i++) acc0 = acc0 + temp0[i];
    data0[gidx0] = acc0;
  }
}
)";

float* device(const std::vector<float>& host) {
  float* d = nullptr;
  EXPECT_EQ(cuda_api::cudaMalloc(&d, host.size() * sizeof(float)), cudaSuccess);
  EXPECT_EQ(cuda_api::cudaMemcpy(d, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  return d;
}

TEST(Jit, CompilesAGeneratedKernelAndRunsIt) {
  Jit jit(JitOptions{cache_dir()});
  std::shared_ptr<const JitKernel> k = jit.compile(kRowSums, "r_4_64");
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = 0.5f * (i % 64);
  float *in = device(x), *out = device(std::vector<float>(4));
  ASSERT_EQ(k->launch(dim3(4), dim3(64), 0, {out, in}), cudaSuccess) << last_report();
  std::vector<float> sums(4);
  cuda_api::cudaMemcpy(sums.data(), out, sizeof(float) * 4, cudaMemcpyDeviceToHost);
  EXPECT_EQ(sums, std::vector<float>(4, 1008.0f));  // 0.5 * (0 + ... + 63): exact
  EXPECT_EQ(k->source(), kRowSums);
  EXPECT_EQ(jit.compile(kRowSums, "r_4_64"), k) << "the second compile is the first kernel";
  cuda_api::cudaFree(in), cuda_api::cudaFree(out);
}

TEST(Jit, ASecondJitFindsTheCompiledKernelOnDisk) {
  const std::string dir = cache_dir("disk");
  Jit first(JitOptions{dir});
  first.compile(kRowSums, "r_4_64");
  EXPECT_EQ(first.compiler_runs(), 1);
  Jit second(JitOptions{dir});
  second.compile(kRowSums, "r_4_64");
  EXPECT_EQ(second.compiler_runs(), 0);
}

TEST(Jit, KernelsCompiledTogetherMayShareANameAndRunApart) {
  Jit jit(JitOptions{cache_dir("batch")});
  const std::string scale = "extern \"C\" __global__ void E_4(float* y, const float* x) { y[threadIdx.x] = %s * x[threadIdx.x]; }";
  std::vector<JitSource> sources;
  for (const char* factor : {"2.0f", "3.0f", "-1.0f"}) {
    char text[256];
    std::snprintf(text, sizeof text, scale.c_str(), factor);
    sources.push_back({text, "E_4"});
  }
  const std::vector<std::shared_ptr<const JitKernel>> kernels = jit.compile_all(sources);
  ASSERT_EQ(kernels.size(), 3u);
  EXPECT_LE(jit.compiler_runs(), 3);
  float *in = device({1, 2, 3, 4}), *out = device(std::vector<float>(4));
  const std::vector<float> factors = {2, 3, -1};
  for (size_t k = 0; k < 3; ++k) {
    ASSERT_EQ(kernels[k]->launch(dim3(1), dim3(4), 0, {out, in}), cudaSuccess) << last_report();
    std::vector<float> y(4);
    cuda_api::cudaMemcpy(y.data(), out, sizeof(float) * 4, cudaMemcpyDeviceToHost);
    EXPECT_EQ(y, (std::vector<float>{factors[k], 2 * factors[k], 3 * factors[k], 4 * factors[k]})) << "kernel " << k;
  }
  EXPECT_EQ(jit.compile(sources[1].source, "E_4"), kernels[1]) << "found among the batch's";
  cuda_api::cudaFree(in), cuda_api::cudaFree(out);
}

TEST(Jit, ACompileErrorSaysWhatAndWhere) {
  Jit jit(JitOptions{cache_dir()});
  try {
    jit.compile("extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }", "broken");
    FAIL() << "expected a JitError";
  } catch (const JitError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("compiling kernel broken failed"), std::string::npos) << what;
    EXPECT_NE(what.find("broken.cu:1"), std::string::npos) << what;
    EXPECT_NE(what.find("undefined_name"), std::string::npos) << what;
  }
}

TEST(Jit, AFaultInAGeneratedKernelIsReportedOnItsLine) {
  Jit jit(JitOptions{cache_dir()});
  std::shared_ptr<const JitKernel> k = jit.compile(kRowSums, "r_4_64");
  float *in = device(std::vector<float>(200)), *out = device(std::vector<float>(4));  // 56 short
  print_reports(false);
  EXPECT_EQ(k->launch(dim3(4), dim3(64), 0, {out, in}), cudaErrorIllegalAddress);
  print_reports(true);
  EXPECT_NE(std::string(last_report()).find("out-of-bounds read"), std::string::npos) << last_report();
  EXPECT_NE(std::string(last_report()).find("kernel r_4_64<<<(4,1,1), (64,1,1)>>>"), std::string::npos) << last_report();
  EXPECT_NE(std::string(last_report()).find("block (3,0,0), thread (8,0,0) (warp 0, lane 8), at r_4_64.cu:5"), std::string::npos)
      << last_report();
  EXPECT_EQ(cuda_api::cudaGetLastError(), cudaSuccess) << "the launch's error was returned, not left behind";
  cuda_api::cudaFree(in), cuda_api::cudaFree(out);
}

// 64 KB of dynamic shared memory, carved into two float arrays as tinyref's renderer does
// where its arrays outgrow the 48 KB a kernel may declare.
const char* kBigShared = R"(extern "C" __global__ void __launch_bounds__(64) big(float* __restrict__ data0) {
  extern __shared__ float4 tt_shared[];
  float* part0 = (float*)(tt_shared + 0);
  float* part1 = (float*)(tt_shared + 2048);
  int lidx0 = threadIdx.x;
  for (int i = lidx0; i < 8192; i += 64) part0[i] = 1.0f;
  for (int i = lidx0; i < 8192; i += 64) part1[i] = 2.0f;
  __syncthreads();
  float acc0 = 0.0f;
  for (int i = 0; i < 8192; i++) acc0 = acc0 + part0[i] + part1[i];
  data0[lidx0] = acc0;
}
)";

TEST(Jit, DynamicSharedMemoryPast48KBNeedsTheKernelsAttribute) {
  Jit jit(JitOptions{cache_dir()});
  std::shared_ptr<const JitKernel> k = jit.compile(kBigShared, "big");
  float* out = device(std::vector<float>(64));
  constexpr size_t kBytes = 64 << 10;
  print_reports(false);
  EXPECT_EQ(k->launch(dim3(1), dim3(64), kBytes, {out}), cudaErrorInvalidValue) << "as on a GPU, without opting in";
  print_reports(true);
  EXPECT_NE(std::string(last_report()).find("cudaFuncSetAttribute"), std::string::npos) << last_report();
  EXPECT_EQ(k->set_max_dynamic_shared(228 << 10), cudaErrorInvalidValue) << "past an H100's 227 KB";
  ASSERT_EQ(k->set_max_dynamic_shared(kBytes), cudaSuccess);
  ASSERT_EQ(k->launch(dim3(1), dim3(64), kBytes, {out}), cudaSuccess) << last_report();
  std::vector<float> sums(64);
  cuda_api::cudaMemcpy(sums.data(), out, sizeof(float) * 64, cudaMemcpyDeviceToHost);
  EXPECT_EQ(sums, std::vector<float>(64, 3.0f * 8192));
  cuda_api::cudaFree(out);
}

}  // namespace
}  // namespace cudaemu
