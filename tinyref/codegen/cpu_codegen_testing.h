// What the CPU codegen tests share (codegen_test.cc, cpu_tiles_test.cc): a tensor's last kernel
// with its inputs realized, the CPU optimizer's choice for a named machine, and a program run on
// a device.
//
//   ScheduleItem item = last_kernel(a.matmul(b));
//   Kernel k = cpu_optimized(item, kAvx512);                  // what an AVX-512 core gets
//   std::vector<double> got = run(linearize(k), item, "CPU");
#ifndef TINYREF_CODEGEN_CPU_CODEGEN_TESTING_H_
#define TINYREF_CODEGEN_CPU_CODEGEN_TESTING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tinyref/backends/registry.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/renderer.h"
#include "tinyref/engine/realize.h"
#include "tinyref/tensor.h"

namespace tinyref::codegen_testing {

// Realizes everything the last kernel of t's schedule reads, then returns that kernel.
inline ScheduleItem last_kernel(const Tensor& t) {
  std::vector<ScheduleItem> items = create_schedule({t.lazy()});
  ScheduleItem last = items.back();
  items.pop_back();
  run_schedule(items);
  return last;
}

inline std::vector<BufferArg> args(const ScheduleItem& item) {
  std::vector<BufferArg> a;
  for (const LazyRef& b : item.bufs) a.push_back({b->dtype(), b->numel()});
  return a;
}

// The optimizer's choices follow the machine (backends/cpu/cpu_target.h), so the tests that pin
// them down name one: an AVX2 core (16 ymm registers, a Zen 3's 512 KiB L2) or an AVX-512 core
// (32 zmm registers, a Zen 5's 1 MiB L2). The kernels run on any x86 machine either way: wider
// vectors than the core has compile to several narrower instructions.
inline const CodegenOptions kAvx2{.vector_bytes = 32, .threads = 2, .max_upcast = 64, .vector_registers = 16,
                           .l2_bytes = 512 << 10, .language = Language::kCpp};
inline const CodegenOptions kAvx512{.vector_bytes = 64, .threads = 2, .max_upcast = 256, .vector_registers = 32,
                             .l2_bytes = 1 << 20, .language = Language::kCpp};

// The item's kernel as the CPU optimizer leaves it for a machine.
inline Kernel cpu_optimized(const ScheduleItem& item, const CodegenOptions& machine = kAvx2) {
  Kernel k(item.ast, args(item));
  optimize(k, machine);
  return k;
}

// Runs a program on a device into a fresh output; returns the output as doubles.
inline std::vector<double> run(Program p, const ScheduleItem& item, const std::string& dev) {
  Device& d = get_device(dev);
  render(p, d.codegen_options().language);
  Buffer out(d, item.bufs[0]->dtype(), item.bufs[0]->numel());
  std::vector<void*> ptrs = {out.ptr()};
  for (size_t i = 1; i < item.bufs.size(); ++i) ptrs.push_back(item.bufs[i]->realized_buffer()->ptr());
  d.launch(*d.compile(p), ptrs);
  std::vector<float> host(out.numel());
  out.copy_out(host.data());
  return {host.begin(), host.end()};
}

// MNIST's conv4 forward, a ReLU after: 64 -> 64 channels, 3x3, on `images` random 8x8 images (its
// 147 KB of weights are what channel lanes pack).
inline ScheduleItem mnist_conv4(int64_t images, uint64_t seed) {
  Tensor::manual_seed(seed);
  Tensor img = Tensor::randn({images, 64, 8, 8}, DType::kFloat32, "INTERP");
  Tensor kern = Tensor::randn({64, 64, 3, 3}, DType::kFloat32, "INTERP");
  return last_kernel(img.conv2d(kern).relu());
}

}  // namespace tinyref::codegen_testing

#endif  // TINYREF_CODEGEN_CPU_CODEGEN_TESTING_H_
