// The CUDA runtime on a real GPU: kernels against CPU references, the allocator's reuse, the
// module cache across contexts and processes, replay, and the errors. Where no driver or device
// exists every test here skips, counted, with "no CUDA driver/device: <why>".
#include "tinyref/backends/cuda/context.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tinyref/error.h"

namespace tinyref::cuda {
namespace {

namespace fs = std::filesystem;

// out = a * b + sqrt(|a|), elementwise.
const char kElementwise[] =
    "extern \"C\" __global__ void __launch_bounds__(256) E_n(float* data0, const float* data1,\n"
    "                                                      const float* data2, int n) {\n"
    "  int gidx0 = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  if (gidx0 < n) data0[gidx0] = data1[gidx0] * data2[gidx0] + sqrtf(fabsf(data1[gidx0]));\n"
    "}\n";

// Two-pass sum: each block reduces its slice in shared memory into one partial; the same kernel
// run with one block then sums the partials. Dynamic shared memory: blockDim.x floats.
const char kReduce[] =
    "extern \"C\" __global__ void r_sum(float* data0, const float* data1, int n) {\n"
    "  extern __shared__ float temp[];\n"
    "  float acc0 = 0.0f;\n"
    "  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)\n"
    "    acc0 += data1[i];\n"
    "  temp[threadIdx.x] = acc0;\n"
    "  __syncthreads();\n"
    "  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {\n"
    "    if (threadIdx.x < stride) temp[threadIdx.x] += temp[threadIdx.x + stride];\n"
    "    __syncthreads();\n"
    "  }\n"
    "  if (threadIdx.x == 0) data0[blockIdx.x] = temp[0];\n"
    "}\n";

// x = x * 0.5 + y: one "optimizer update" of a toy training step.
const char kUpdate[] =
    "extern \"C\" __global__ void E_update(float* data0, const float* data1, int n) {\n"
    "  int gidx0 = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  if (gidx0 < n) data0[gidx0] = data0[gidx0] * 0.5f + data1[gidx0];\n"
    "}\n";

fs::path test_dir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  fs::path dir = fs::path(tmp ? tmp : fs::temp_directory_path().string()) / name;
  fs::remove_all(dir);
  return dir;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> out(n);
  for (float& x : out) x = uniform(rng);
  return out;
}

unsigned blocks_for(int n, unsigned block) { return (static_cast<unsigned>(n) + block - 1) / block; }

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ContextOptions options;
    options.cache_dir = test_dir(std::string("cuda_cache_") +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    cache_dir_ = options.cache_dir;
    try {
      gpu_ = std::make_unique<Context>(options);
    } catch (const Error& e) {
      GTEST_SKIP() << "no CUDA driver/device: " << e.what();
    }
  }
  std::unique_ptr<Context> gpu_;
  fs::path cache_dir_;
};

TEST_F(ContextTest, DescribesTheDevice) {
  EXPECT_FALSE(gpu_->device_name().empty());
  EXPECT_GE(gpu_->compute_capability(), 50);
  EXPECT_GT(gpu_->multiprocessors(), 0);
  EXPECT_GT(gpu_->total_memory(), size_t{1} << 30);
  std::printf("device %s, sm_%d, %d SMs, %.1f GiB; NVRTC target %s\n",
              gpu_->device_name().c_str(), gpu_->compute_capability(), gpu_->multiprocessors(),
              gpu_->total_memory() / double(1 << 30), gpu_->compiler().arch().c_str());
}

TEST_F(ContextTest, ElementwiseKernelMatchesCpu) {
  const int n = 100003;  // not a multiple of the block: the bounds check matters
  const std::vector<float> a = random_floats(n, 1), b = random_floats(n, 2);
  const size_t bytes = n * sizeof(float);
  const uint64_t da = gpu_->alloc(bytes), db = gpu_->alloc(bytes), dout = gpu_->alloc(bytes);
  gpu_->copy_in(da, a.data(), bytes);
  gpu_->copy_in(db, b.data(), bytes);
  const Function f = gpu_->compile(kElementwise, "E_n");
  EXPECT_LE(f.max_threads_per_block, 256);  // __launch_bounds__ caps it
  gpu_->launch(f, {blocks_for(n, 256)}, {256}, 0,
               {KernelArg::ptr(dout), KernelArg::ptr(da), KernelArg::ptr(db), KernelArg::i32(n)});
  std::vector<float> out(n);
  gpu_->copy_out(out.data(), dout, bytes);
  for (int i = 0; i < n; ++i) {
    const float expected = a[i] * b[i] + std::sqrt(std::fabs(a[i]));
    // NVCC contracts a*b+c into one fma (one rounding instead of two): allow an ulp or two.
    ASSERT_NEAR(out[i], expected, 1e-6f * (1.0f + std::fabs(expected))) << "index " << i;
  }
}

TEST_F(ContextTest, ReductionMatchesCpu) {
  const int n = (1 << 20) + 3;
  const std::vector<float> x = random_floats(n, 3);
  const unsigned block = 256, blocks = 120;
  const uint64_t dx = gpu_->alloc(n * sizeof(float));
  const uint64_t partial = gpu_->alloc(blocks * sizeof(float));
  const uint64_t total = gpu_->alloc(sizeof(float));
  gpu_->copy_in(dx, x.data(), n * sizeof(float));
  const Function sum = gpu_->compile(kReduce, "r_sum");
  gpu_->launch(sum, {blocks}, {block}, block * sizeof(float),
               {KernelArg::ptr(partial), KernelArg::ptr(dx), KernelArg::i32(n)});
  gpu_->launch(sum, {1}, {block}, block * sizeof(float),
               {KernelArg::ptr(total), KernelArg::ptr(partial), KernelArg::i32(blocks)});
  float result = 0;
  gpu_->copy_out(&result, total, sizeof(float));
  double expected = 0, magnitude = 0;
  for (float v : x) {
    expected += v;
    magnitude += std::fabs(v);
  }
  // float accumulation in a different order: the error scales with sum |x|, not with the sum.
  EXPECT_NEAR(result, expected, 1e-6 * magnitude) << "sum of |x| = " << magnitude;
}

TEST_F(ContextTest, RepeatedStepsReuseDeviceMemory) {
  const int n = 4096;
  const Function update = gpu_->compile(kUpdate, "E_update");
  const std::vector<float> ones(n, 1.0f);
  std::vector<int64_t> device_allocs;
  for (int step = 0; step < 8; ++step) {
    // A step's temporaries: allocated, used, freed, every step the same sizes.
    const uint64_t x = gpu_->alloc(n * sizeof(float));
    const uint64_t y = gpu_->alloc(n * sizeof(float));
    const uint64_t scratch = gpu_->alloc(3 * n);
    gpu_->copy_in(x, ones.data(), n * sizeof(float));
    gpu_->copy_in(y, ones.data(), n * sizeof(float));
    gpu_->launch(update, {blocks_for(n, 128)}, {128}, 0,
                 {KernelArg::ptr(x), KernelArg::ptr(y), KernelArg::i32(n)});
    gpu_->free(scratch);
    gpu_->free(y);
    gpu_->free(x);
    device_allocs.push_back(gpu_->allocator_stats().device_allocs);
  }
  gpu_->synchronize();
  EXPECT_EQ(device_allocs.front(), 3);
  EXPECT_EQ(device_allocs.back(), device_allocs.front()) << "allocations grew across steps";
  EXPECT_EQ(gpu_->allocator_stats().reuses, 3 * 7);
}

TEST_F(ContextTest, ModuleCacheServesASecondContext) {
  gpu_->compile(kElementwise, "E_n");
  gpu_->compile(kElementwise, "E_n");
  EXPECT_EQ(gpu_->compiler_stats().compiles, 1);
  EXPECT_EQ(gpu_->compiler_stats().memory_hits, 1);
  EXPECT_EQ(gpu_->modules_loaded(), 1);

  ContextOptions options;
  options.cache_dir = cache_dir_;
  Context second(options);
  const Function f = second.compile(kElementwise, "E_n");
  EXPECT_EQ(second.compiler_stats().compiles, 0);
  EXPECT_EQ(second.compiler_stats().disk_hits, 1);
  // And the cached module really runs.
  const int n = 300;
  const std::vector<float> a = random_floats(n, 4), b = random_floats(n, 5);
  const uint64_t da = second.alloc(n * 4), db = second.alloc(n * 4), dout = second.alloc(n * 4);
  second.copy_in(da, a.data(), n * 4);
  second.copy_in(db, b.data(), n * 4);
  second.launch(f, {blocks_for(n, 256)}, {256}, 0,
                {KernelArg::ptr(dout), KernelArg::ptr(da), KernelArg::ptr(db), KernelArg::i32(n)});
  std::vector<float> out(n);
  second.copy_out(out.data(), dout, n * 4);
  for (int i = 0; i < n; ++i) {
    ASSERT_NEAR(out[i], a[i] * b[i] + std::sqrt(std::fabs(a[i])), 1e-5f) << i;
  }
}

// Across processes: the device script runs this binary twice with the same XDG_CACHE_HOME and
// TT_EXPECT_WARM_CACHE=1 the second time.
TEST_F(ContextTest, DefaultCacheDirWarmInASecondProcess) {
  ContextOptions options;  // the default cache dir
  Context context(options);
  context.compile(kReduce, "r_sum");
  const CompilerStats& stats = context.compiler_stats();
  std::printf("default cache %s: compiles=%d disk_hits=%d\n",
              context.compiler().cache_dir().c_str(), stats.compiles, stats.disk_hits);
  if (std::getenv("TT_EXPECT_WARM_CACHE") != nullptr) {
    EXPECT_EQ(stats.compiles, 0);
    EXPECT_EQ(stats.disk_hits, 1);
  }
}

// A toy training step: three launches over persistent buffers, then its result read back.
struct Step {
  Function update, sum;
  int n;
  uint64_t x, y, partial, total;
  void run(Context& gpu) const {
    gpu.launch(update, {blocks_for(n, 256)}, {256}, 0,
               {KernelArg::ptr(x), KernelArg::ptr(y), KernelArg::i32(n)});
    gpu.launch(sum, {32}, {256}, 256 * 4,
               {KernelArg::ptr(partial), KernelArg::ptr(x), KernelArg::i32(n)});
    gpu.launch(sum, {1}, {256}, 256 * 4,
               {KernelArg::ptr(total), KernelArg::ptr(partial), KernelArg::i32(32)});
  }
};

TEST_F(ContextTest, ReplayAndGraphGiveTheSameResultsAsEagerLaunches) {
  const int n = 50000, steps = 6;
  const std::vector<float> x0 = random_floats(n, 6), y = random_floats(n, 7);
  auto make_step = [&] {
    Step s{gpu_->compile(kUpdate, "E_update"), gpu_->compile(kReduce, "r_sum"), n,
           gpu_->alloc(n * 4), gpu_->alloc(n * 4), gpu_->alloc(32 * 4), gpu_->alloc(4)};
    gpu_->copy_in(s.x, x0.data(), n * 4);
    gpu_->copy_in(s.y, y.data(), n * 4);
    return s;
  };
  auto read = [&](const Step& s) {
    std::vector<float> out(n + 1);
    gpu_->copy_out(out.data(), s.x, n * 4);
    gpu_->copy_out(&out[n], s.total, 4);
    return out;
  };
  const Step eager = make_step(), replayed = make_step(), graphed = make_step();
  for (int i = 0; i < steps; ++i) eager.run(*gpu_);

  gpu_->start_recording();
  replayed.run(*gpu_);  // step 1 runs and is recorded
  const LaunchList list = gpu_->stop_recording();
  ASSERT_EQ(list.size(), 3u);
  for (int i = 1; i < steps; ++i) gpu_->replay(list);

  gpu_->start_recording();
  graphed.run(*gpu_);
  const LaunchList graph_list = gpu_->stop_recording();
  const int64_t launches_before = gpu_->launches();
  const GraphId graph = gpu_->capture_graph(graph_list);
  EXPECT_EQ(gpu_->launches(), launches_before) << "capturing must not count as running";
  for (int i = 1; i < steps; ++i) gpu_->launch_graph(graph);

  const std::vector<float> expected = read(eager);
  EXPECT_EQ(read(replayed), expected);  // the same kernels in the same order: bit for bit
  EXPECT_EQ(read(graphed), expected);
  gpu_->destroy_graph(graph);
  EXPECT_THROW(gpu_->launch_graph(graph), Error);
}

// Past 48 KB, a kernel's dynamic shared memory must be allowed first (cuFuncSetAttribute): the
// context does that on the kernel's first such launch, up to the device's opt-in limit.
TEST_F(ContextTest, DynamicSharedMemoryPast48KBIsOptedIntoOnLaunch) {
  EXPECT_GT(gpu_->max_shared_bytes_opt_in(), 48 << 10) << "compute capability 7.0 on";
  const int n = 1 << 16;
  const std::vector<float> x(n, 0.5f);
  const uint64_t dx = gpu_->alloc(n * sizeof(float)), partial = gpu_->alloc(8 * sizeof(float)), total = gpu_->alloc(sizeof(float));
  gpu_->copy_in(dx, x.data(), n * sizeof(float));
  const Function sum = gpu_->compile(kReduce, "r_sum");
  const unsigned bytes = 96 << 10;  // more than the kernel needs; the launch must still be allowed
  for (int repeat = 0; repeat < 2; ++repeat) {
    gpu_->launch(sum, {8}, {256}, bytes, {KernelArg::ptr(partial), KernelArg::ptr(dx), KernelArg::i32(n)});
    gpu_->launch(sum, {1}, {256}, bytes, {KernelArg::ptr(total), KernelArg::ptr(partial), KernelArg::i32(8)});
  }
  float result = 0;
  gpu_->copy_out(&result, total, sizeof(float));
  EXPECT_EQ(result, 0.5f * n);  // sums of halves: exact
}

TEST_F(ContextTest, BadLaunchesAreErrorsAndTheContextSurvives) {
  const Function f = gpu_->compile(kUpdate, "E_update");
  const uint64_t x = gpu_->alloc(1024 * 4), y = gpu_->alloc(1024 * 4);
  const std::vector<KernelArg> args = {KernelArg::ptr(x), KernelArg::ptr(y), KernelArg::i32(1024)};
  try {
    gpu_->launch(f, {1}, {2048}, 0, args);
    FAIL() << "a 2048-thread block was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel 'E_update'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2048 threads per block"), std::string::npos) << e.what();
  }
  try {
    gpu_->launch(f, {1}, {256}, 1u << 30, args);  // a GiB of shared memory
    FAIL() << "a launch with 1 GiB of shared memory was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("kernel 'E_update'"), std::string::npos) << message;
    EXPECT_NE(message.find("has at most " + std::to_string(gpu_->max_shared_bytes_opt_in()) + " bytes of shared memory"),
              std::string::npos)
        << message;
  }
  try {
    gpu_->launch(f, {1, 70000, 1}, {256}, 0, args);  // a grid's y is at most 65535
    FAIL() << "a grid of 70000 rows was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cuLaunchKernel (kernel 'E_update'"), std::string::npos) << message;
    EXPECT_NE(message.find("CUDA_ERROR_"), std::string::npos) << message;
    std::printf("driver said: %s\n", message.c_str());
  }
  EXPECT_THROW(gpu_->launch(f, {0}, {256}, 0, args), Error);
  EXPECT_THROW(gpu_->compile(kUpdate, "no_such_kernel"), Error);
  // Still works.
  std::vector<float> ones(1024, 1.0f), out(1024);
  gpu_->copy_in(x, ones.data(), 4096);
  gpu_->copy_in(y, ones.data(), 4096);
  gpu_->launch(f, {4}, {256}, 0, args);
  gpu_->copy_out(out.data(), x, 4096);
  EXPECT_EQ(out[1023], 1.5f);
}

TEST_F(ContextTest, OutOfMemoryNamesTheSizeAndTheContextSurvives) {
  const size_t huge = size_t{1} << 46;  // 64 TiB
  try {
    gpu_->alloc(huge);
    FAIL() << "64 TiB was allocated";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("out of memory allocating 70368744177664 bytes"), std::string::npos)
        << message;
    EXPECT_NE(message.find(gpu_->device_name()), std::string::npos) << message;
    std::printf("%s\n", message.c_str());
  }
  const uint64_t small = gpu_->alloc(100);
  EXPECT_NE(small, 0u);
  gpu_->free(small);
}

TEST_F(ContextTest, TimedLaunchReportsGpuTime) {
  const int n = 1 << 22;
  const Function f = gpu_->compile(kUpdate, "E_update");
  const uint64_t x = gpu_->alloc(n * 4), y = gpu_->alloc(n * 4);
  gpu_->fill_zero(x, n * 4);
  gpu_->fill_zero(y, n * 4);
  const double seconds = gpu_->launch_timed(f, {blocks_for(n, 256)}, {256}, 0,
                                            {KernelArg::ptr(x), KernelArg::ptr(y), KernelArg::i32(n)});
  EXPECT_GT(seconds, 0.0);
  EXPECT_LT(seconds, 1.0);
  std::printf("E_update over %d floats: %.1f us (%.0f GB/s)\n", n, seconds * 1e6,
              3.0 * n * 4 / seconds / 1e9);
}

}  // namespace
}  // namespace tinyref::cuda
