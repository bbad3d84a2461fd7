#include "tests/07_cuda_by_hand/device.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <exception>
#include <stdexcept>

namespace device {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

}  // namespace

std::string unavailable() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return std::string("no CUDA device: ") + cudaGetErrorString(status);
  if (count == 0) return "no CUDA device";
  return "";
}

std::string name() {
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "an unknown device";
  return prop.name;
}

Floats::Floats(const std::vector<float>& host) : size_(host.size()) {
  check(cudaMalloc(&data_, size_ * sizeof(float)), "cudaMalloc");
  check(cudaMemcpy(data_, host.data(), size_ * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy to the device");
}

Floats::Floats(size_t n, float fill) : Floats(std::vector<float>(n, fill)) {}

Floats::~Floats() { cudaFree(data_); }

std::vector<float> Floats::read() const {
  std::vector<float> host(size_);
  check(cudaMemcpy(host.data(), data_, size_ * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
  return host;
}

// What the emulator reported during one launch (its report names the kernel, the block, the
// thread, the line and what went wrong); "" natively, and when it reported nothing.
class EmulatorReports {
 public:
#ifdef CUDAEMU
  EmulatorReports() : faults_(cudaemu::fault_count()), report_(cudaemu::last_report()) {}
  std::string since() const {
    const std::string now = cudaemu::last_report();
    if (cudaemu::fault_count() == faults_ && now == report_) return "";
    return "\nThe CUDA emulator's report:\n" + now;
  }

 private:
  long faults_;
  std::string report_;
#else
  std::string since() const { return ""; }
#endif
};

::testing::AssertionResult run(const std::function<void()>& launch, const std::string& what) {
  const EmulatorReports reports;
  try {
    launch();
  } catch (const std::exception& e) {
    cudaDeviceSynchronize();  // a failed launcher may have queued work before throwing
    cudaGetLastError();       // and must not leave its error to the next case
    return ::testing::AssertionFailure() << what << ": threw " << e.what() << reports.since();
  }
  cudaError_t status = cudaDeviceSynchronize();
  if (status == cudaSuccess) status = cudaGetLastError();
  if (status != cudaSuccess) {
    return ::testing::AssertionFailure() << what << ": CUDA reported " << cudaGetErrorName(status) << " ("
                                         << cudaGetErrorString(status) << ")" << reports.since();
  }
  return ::testing::AssertionSuccess();
}

void DeviceTest::SetUp() {
  static const std::string why = unavailable();
  if (!why.empty()) GTEST_SKIP() << why << ": chapter 7's kernels cannot run natively here (the emulated "
                                           "build of the same test runs everywhere)";
  static const bool said = [] {
    std::printf("chapter 7's kernels run on %s\n", name().c_str());
    return true;
  }();
  (void)said;
#ifdef CUDAEMU
  // Counted by ./course test as emulated (tools/report): the case ran CUDA without a GPU.
  ::testing::Test::RecordProperty("emulated", "cudaemu");
#endif
}

}  // namespace device
