// One check for every CUDA runtime call a launcher makes: a failure becomes an exception that
// names the kernel and says what CUDA answered, instead of a result nobody wrote.
//
//   saxpy_naive_kernel<<<blocks, launch.block>>>(n, alpha, x, y);
//   cuda_check(cudaGetLastError(), "saxpy_naive: launch");
//   // throws std::runtime_error "saxpy_naive: launch: invalid configuration argument" when,
//   // say, blocks is 0 or launch.block is 2000
//
// A launch returns before the kernel runs: what goes wrong inside the kernel (an access out of
// bounds) surfaces later, at the next synchronizing call (the tests' cudaDeviceSynchronize).
#ifndef CH07_CUDA_CHECK_CUH_
#define CH07_CUDA_CHECK_CUH_

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace ch07 {

inline void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

}  // namespace ch07

#endif  // CH07_CUDA_CHECK_CUH_
