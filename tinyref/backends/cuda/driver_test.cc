// The driver loader without a GPU: a missing library, the toolkit's stub library (every symbol
// present, every call failing) and the ABI constants against cuda.h.
#include "tinyref/backends/cuda/driver.h"

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "tinyref/backends/cuda/context.h"
#include "tinyref/error.h"

#ifdef TT_HAVE_CUDA_H
#include <cuda.h>
#endif

namespace tinyref::cuda {
namespace {

TEST(DriverTest, MissingLibraryIsAnErrorNamingIt) {
  try {
    Driver::load("libtinyref-no-such-driver.so.1");
    FAIL() << "expected tinyref::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cannot load libtinyref-no-such-driver.so.1"), std::string::npos)
        << message;
  }
}

TEST(DriverTest, ContextWithoutADriverThrowsAndTheProcessGoesOn) {
  ContextOptions options;
  options.driver_library = "libtinyref-no-such-driver.so.1";
  EXPECT_THROW(Context context(options), Error);
  EXPECT_THROW(Context context(options), Error);  // twice: nothing was left half-open
}

TEST(DriverTest, DescribeDecodesWithoutADriver) {
  Driver nothing_loaded;
  EXPECT_EQ(nothing_loaded.describe(2), "CUDA error 2");
  EXPECT_NE(nothing_loaded.describe(34).find("CUDA_ERROR_STUB_LIBRARY"), std::string::npos);
  try {
    nothing_loaded.check(100, "cuDeviceGetCount");
    FAIL() << "expected tinyref::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "CUDA driver: cuDeviceGetCount failed: CUDA_ERROR_NO_DEVICE (error 100)");
  }
  EXPECT_NO_THROW(nothing_loaded.check(CUDA_SUCCESS, "anything"));
}

// What this machine has: on CI (no driver) a clear Error, on a GPU machine a working context.
TEST(DriverTest, DefaultContextOpensOrSaysWhy) {
  try {
    Context context;
    EXPECT_FALSE(context.device_name().empty());
    std::printf("CUDA device: %s, compute capability %d\n", context.device_name().c_str(),
                context.compute_capability());
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("CUDA driver: ", 0), 0u) << message;
    std::printf("no CUDA driver/device (expected on CPU machines): %s\n", message.c_str());
  }
}

#ifdef TT_CUDA_STUB_LIBCUDA
TEST(DriverTest, StubLibraryHasEverySymbolWeUse) {
  if (!std::filesystem::exists(TT_CUDA_STUB_LIBCUDA)) {
    GTEST_SKIP() << "no toolkit stub at " << TT_CUDA_STUB_LIBCUDA;
  }
  std::shared_ptr<const Driver> driver = Driver::load(TT_CUDA_STUB_LIBCUDA);
  EXPECT_NE(driver->cuGraphInstantiateWithFlags, nullptr);
}

TEST(DriverTest, StubLibraryFailsInCuInitWithADecodedError) {
  if (!std::filesystem::exists(TT_CUDA_STUB_LIBCUDA)) {
    GTEST_SKIP() << "no toolkit stub at " << TT_CUDA_STUB_LIBCUDA;
  }
  ContextOptions options;
  options.driver_library = TT_CUDA_STUB_LIBCUDA;
  try {
    Context context(options);
    FAIL() << "the stub library opened a context";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cuInit failed: CUDA_ERROR_STUB_LIBRARY"), std::string::npos)
        << message;
  }
}
#endif

#ifdef TT_HAVE_CUDA_H
// driver.h declares the driver's types and constants itself; they must match cuda.h exactly.
TEST(DriverTest, AbiMatchesCudaH) {
  static_assert(sizeof(tinyref::cuda::CUdeviceptr) == sizeof(::CUdeviceptr));
  static_assert(sizeof(tinyref::cuda::CUresult) == sizeof(::CUresult));
  static_assert(sizeof(tinyref::cuda::CUdevice) == sizeof(::CUdevice));
  static_assert(sizeof(tinyref::cuda::CUstream) == sizeof(::CUstream));
  static_assert(tinyref::cuda::CUDA_ERROR_INVALID_VALUE == ::CUDA_ERROR_INVALID_VALUE);
  static_assert(tinyref::cuda::CUDA_ERROR_OUT_OF_MEMORY == ::CUDA_ERROR_OUT_OF_MEMORY);
  static_assert(tinyref::cuda::CUDA_ERROR_NO_DEVICE == ::CUDA_ERROR_NO_DEVICE);
  static_assert(tinyref::cuda::CUDA_ERROR_NOT_FOUND == ::CUDA_ERROR_NOT_FOUND);
  static_assert(::CUDA_ERROR_STUB_LIBRARY == 34);
  static_assert(tinyref::cuda::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK ==
                ::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  static_assert(tinyref::cuda::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK ==
                ::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
  static_assert(tinyref::cuda::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT ==
                ::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  static_assert(tinyref::cuda::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR ==
                ::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
  static_assert(tinyref::cuda::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR ==
                ::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  static_assert(tinyref::cuda::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK ==
                ::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  static_assert(tinyref::cuda::CU_FUNC_ATTRIBUTE_NUM_REGS == ::CU_FUNC_ATTRIBUTE_NUM_REGS);
  static_assert(tinyref::cuda::CU_STREAM_NON_BLOCKING == ::CU_STREAM_NON_BLOCKING);
  static_assert(tinyref::cuda::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL ==
                ::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  static_assert(tinyref::cuda::CU_EVENT_DEFAULT == ::CU_EVENT_DEFAULT);
  SUCCEED();
}
#endif

}  // namespace
}  // namespace tinyref::cuda
