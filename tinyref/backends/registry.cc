#include "tinyref/backends/registry.h"

#include <cstdlib>
#include <functional>
#include <map>
#include <memory>

#include "tinyref/backends/cpu/cpu.h"
#include "tinyref/backends/cuda/cuda_device.h"
#include "tinyref/backends/cudaemu/emulated_cuda.h"
#include "tinyref/backends/interp/interp.h"
#include "tinyref/env.h"
#include "tinyref/error.h"
#include "tinyref/lazy/lazybuffer.h"

namespace tinyref {

namespace {

// Throws tinyref::Error where there is no driver or no GPU; the other devices keep working.
std::unique_ptr<Device> make_cuda_device() { return std::make_unique<cuda::CudaDevice>(); }

// CUDA's kernels on the CUDA emulator: for tests on machines without a GPU.
std::unique_ptr<Device> make_cuda_emu_device() { return make_emulated_cuda_device(); }

// One row per backend. A backend is created on first use and lives as long as the process
// (buffers anywhere may still point at it).
const std::map<std::string, std::function<std::unique_ptr<Device>()>>& factories() {
  static const auto* f = new std::map<std::string, std::function<std::unique_ptr<Device>()>>{
      {"CPU", make_cpu_device},
      {"CUDA", make_cuda_device},
      {"CUDA_EMU", make_cuda_emu_device},
      {"INTERP", make_interp_device},
  };
  return *f;
}

}  // namespace

std::vector<std::string> device_names() {
  std::vector<std::string> names;
  for (const auto& [name, f] : factories()) names.push_back(name);
  return names;
}

Device& get_device(const std::string& name) {
  static auto* devices = new std::map<std::string, std::unique_ptr<Device>>();
  if (auto it = devices->find(name); it != devices->end()) return *it->second;
  auto f = factories().find(name);
  if (f == factories().end()) {
    std::string known;
    for (const std::string& n : device_names()) known += (known.empty() ? "" : ", ") + n;
    TT_CHECK(false, "device: unknown device '" << name << "' (known: " << known << ")");
  }
  Device& made = *devices->emplace(name, f->second()).first->second;
  // The lazy graph splits long reductions on GPU devices (lazy/lazybuffer.h), which only this
  // layer can tell apart, by a rule that follows TT_TF32: asked at each reduce, as it may change
  // between graphs.
  if (made.codegen_options().gpu) {
    split_long_reductions_on(name, [&made] { return reduce_split_rule(made.codegen_options()); });
  }
  return made;
}

std::string cuda_or_emulator() {
  static const std::string name = [] {
    try {
      get_device("CUDA");
      return std::string("CUDA");
    } catch (const Error&) {
      return std::string("CUDA_EMU");
    }
  }();
  return name;
}

std::string default_device_name() {
  return env_string("TT_DEVICE", "CPU");
}

}  // namespace tinyref
