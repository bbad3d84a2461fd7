// Device memory and launches for chapter 7's tests, the same source for both builds: through
// the CUDA emulator (every machine; the default) and natively with nvcc on a GPU.
//
//   using Task1SaxpyNaive = device::DeviceTest;     // skips, loudly, where no device can run
//   TEST_F(Task1SaxpyNaive, Tails) {
//     device::Floats x(host_x), y(host_y);          // cudaMalloc + cudaMemcpy
//     ASSERT_TRUE(device::run([&] { ch07::saxpy_naive(n, 2.0f, x.get(), y.get()); },
//                             "saxpy_naive(n 1000, block 96)"));
//     std::vector<float> got = y.read();
//   }
//
// device::run fails (instead of throwing) when the launcher throws, when CUDA reports an error
// at the launch or at the synchronize after it, and on the emulator when it reports an access
// out of bounds, a race on shared memory, a barrier not every thread reached or a read of
// shared memory nobody wrote: a kernel with a race fails even when its numbers come out right.
#ifndef TESTS_07_CUDA_BY_HAND_DEVICE_H_
#define TESTS_07_CUDA_BY_HAND_DEVICE_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace device {

// "" where kernels can run, else why not ("no CUDA device: ...").
std::string unavailable();

// What runs the kernels: the GPU's name, or the emulator's.
std::string name();

// n floats of device memory, freed at the end of the scope.
class Floats {
 public:
  explicit Floats(const std::vector<float>& host);  // a copy of host
  Floats(size_t n, float fill);                     // n copies of fill
  ~Floats();
  Floats(const Floats&) = delete;
  Floats& operator=(const Floats&) = delete;

  float* get() const { return data_; }
  size_t size() const { return size_; }
  std::vector<float> read() const;  // waits for the device, then copies back

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
};

// Calls launch (a chapter launcher), then waits for the device. Fails with `what` and the
// reason when launch throws or CUDA (or the emulator) reports an error.
::testing::AssertionResult run(const std::function<void()>& launch, const std::string& what);

// The fixture of every chapter 7 test: skips with the reason where no device can run kernels.
class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override;
};

}  // namespace device

#endif  // TESTS_07_CUDA_BY_HAND_DEVICE_H_
