#include "tools/gpu/gpu.h"

#include <cstdlib>
#include <string>

namespace gpu {

std::shared_ptr<Gpu> open_gpu() {
  const char* env = std::getenv("COURSE_GPU");
  const std::string choice = env != nullptr ? env : "";
  if (choice == "native") return open_native_gpu();
  if (choice == "emulated") return open_emulated_gpu();
  if (!choice.empty()) throw GpuError("COURSE_GPU=" + choice + ": say native, emulated, or leave it unset");
  return native_gpu_available() ? open_native_gpu() : open_emulated_gpu();
}

void check_dims(const std::string& kernel, LaunchDims dims) {
  if (dims.blocks < 1 || dims.blocks > 2147483647 || dims.threads < 1 || dims.threads > 1024) {
    throw GpuError("launch " + kernel + ": " + std::to_string(dims.blocks) + " blocks of " + std::to_string(dims.threads) +
                   " threads; a GPU launches 1 to 2^31-1 blocks of 1 to 1024 threads");
  }
}

}  // namespace gpu
