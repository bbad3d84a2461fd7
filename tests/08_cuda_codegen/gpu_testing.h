// What chapter 8's tests share: one GPU per test process (the native one where a GPU answers,
// else the emulator: $COURSE_GPU picks), and running chapter 6's twin kernels (a random kernel
// built both as chapter 5's tree and as tinyref's AST, twin_kernel.h) through a CudaRunner.
//
//   ch08::CudaRunner runner(gpu_testing::gpu(), ch08::GpuOptions{});
//   twin::Twin t = twin::random_kernel(rng, {.reduce = true});
//   EXPECT_TRUE(twin::agrees(t, twin::expected(t), gpu_testing::run(runner, t)));
//
// Header-only on purpose, as twin_kernel.h: it is compiled with whichever chapters a test links.
#ifndef TESTS_08_CUDA_CODEGEN_GPU_TESTING_H_
#define TESTS_08_CUDA_CODEGEN_GPU_TESTING_H_

#include <cstdio>
#include <cstring>
#include <string>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "ch04/lazy.h"
#include "ch08/cuda_runner.h"
#include "tests/06_cpu_codegen/runner_checks.h"
#include "tests/06_cpu_codegen/twin_kernel.h"
#include "tools/gpu/gpu.h"

namespace gpu_testing {

// The process's GPU, opened once; the first call says which on stdout (emulated or native), and
// a case that uses the emulator is counted as emulated by ./course test (tools/report).
inline const std::shared_ptr<gpu::Gpu>& gpu() {
  static const std::shared_ptr<gpu::Gpu> g = [] {
    std::shared_ptr<gpu::Gpu> opened = gpu::open_gpu();
    std::printf("chapter 8's kernels run on: %s%s\n", opened->name().c_str(), opened->emulated() ? " (emulated)" : "");
    return opened;
  }();
  if (g->emulated()) ::testing::Test::RecordProperty("emulated", "cudaemu");
  return g;
}

using runner_checks::buffers_of;

// NVRTC's output for a kernel's source, for the GPU `g`: what the native GPU loads, and on the
// emulator a check that the source is CUDA a real GPU accepts. "" where there is no NVRTC (the
// emulator runs without it). A source NVRTC refuses is a test failure with NVRTC's log.
inline std::string nvrtc_image(const std::string& name, const std::string& source, const gpu::Gpu& g) {
  const gpu::NvrtcApi* rtc = gpu::nvrtc_api();
  if (rtc == nullptr) return "";
  gpu::nvrtcProgram p = nullptr;
  rtc->nvrtcCreateProgram(&p, source.c_str(), (name + ".cu").c_str(), 0, nullptr, nullptr);
  const std::string arch = "--gpu-architecture=compute_" + std::to_string(g.arch());
  const char* options[] = {arch.c_str()};
  const bool ok = rtc->nvrtcCompileProgram(p, 1, options) == gpu::NVRTC_SUCCESS;
  size_t size = 0;
  std::string text;
  if (ok) {
    rtc->nvrtcGetPTXSize(p, &size);
    text.resize(size);
    rtc->nvrtcGetPTX(p, text.data());
  } else {
    rtc->nvrtcGetProgramLogSize(p, &size);
    text.resize(size);
    rtc->nvrtcGetProgramLog(p, text.data());
  }
  rtc->nvrtcDestroyProgram(&p);
  EXPECT_TRUE(ok) << "NVRTC refuses the CUDA of " << name << ":\n" << text << "\nsource:\n" << source;
  return ok ? text : "";
}

// A rendered program run on the test GPU with the twin's inputs: no CudaRunner (task 7), only
// render_cuda and the Gpu. Returns the output; a fault is a GpuError with the emulator's report.
inline std::vector<double> run_program(const ch08::GpuProgram& program, const std::string& source, const twin::Twin& t) {
  gpu::Gpu& g = *gpu();
  const std::string& name = program.program.name;
  const auto kernel = g.load({name, source, nvrtc_image(name, source, g)});
  std::vector<std::vector<double>> values = {std::vector<double>(static_cast<size_t>(t.outputs))};
  values.insert(values.end(), t.inputs.begin(), t.inputs.end());
  std::vector<uint64_t> addresses;
  std::vector<std::vector<std::byte>> bytes;
  for (size_t b = 0; b < values.size(); ++b) {
    const bool f64 = t.dtypes[b] == ch04::DType::kFloat64;
    std::vector<std::byte> raw(values[b].size() * (f64 ? 8 : 4));
    for (size_t i = 0; i < values[b].size(); ++i) {
      if (f64) {
        std::memcpy(raw.data() + 8 * i, &values[b][i], 8);
      } else {
        const float f = static_cast<float>(values[b][i]);
        std::memcpy(raw.data() + 4 * i, &f, 4);
      }
    }
    addresses.push_back(g.alloc(raw.size()));
    if (b > 0) g.copy_in(addresses.back(), raw.data(), raw.size());
    bytes.push_back(std::move(raw));
  }
  std::vector<double> out(static_cast<size_t>(t.outputs));
  try {
    g.launch(*kernel, program.dims, addresses);
    g.copy_out(bytes[0].data(), addresses[0], bytes[0].size());
  } catch (...) {
    for (uint64_t a : addresses) g.free(a);
    throw;
  }
  for (uint64_t a : addresses) g.free(a);
  for (size_t i = 0; i < out.size(); ++i) {
    if (t.dtypes[0] == ch04::DType::kFloat64) {
      std::memcpy(&out[i], bytes[0].data() + 8 * i, 8);
    } else {
      float f;
      std::memcpy(&f, bytes[0].data() + 4 * i, 4);
      out[i] = f;
    }
  }
  return out;
}

// The kernel's output after runner.run, read back through Buffer::host().
inline std::vector<double> run(ch08::CudaRunner& runner, const twin::Twin& t) {
  runner.run(t.kernel, buffers_of(t));
  std::vector<double> out;
  for (int64_t i = 0; i < t.outputs; ++i) out.push_back(t.memory[0]->get(i));
  return out;
}

}  // namespace gpu_testing

#endif  // TESTS_08_CUDA_CODEGEN_GPU_TESTING_H_
