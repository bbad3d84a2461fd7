// Devices by name. TT_DEVICE picks the default; an unknown name throws tinyref::Error.
//
//   Device& d = get_device("INTERP");
//   default_device_name()        // $TT_DEVICE if set, else "CPU"
//   device_names()               // {"CPU", "CUDA", "CUDA_EMU", "INTERP"}: CUDA throws on first use
//                                // without a GPU; CUDA_EMU runs CUDA's kernels on the CUDA emulator
//   cuda_or_emulator()           // "CUDA" where a GPU answers, else "CUDA_EMU" (for the GPU tests)
#ifndef TINYREF_BACKENDS_REGISTRY_H_
#define TINYREF_BACKENDS_REGISTRY_H_

#include <string>
#include <vector>

#include "tinyref/backends/device.h"

namespace tinyref {

Device& get_device(const std::string& name);
std::string default_device_name();
std::vector<std::string> device_names();
std::string cuda_or_emulator();

}  // namespace tinyref

#endif  // TINYREF_BACKENDS_REGISTRY_H_
