// CUDA_EMU: the CUDA backend's code on a machine without a GPU. Each kernel is rendered to CUDA C
// exactly as for the GPU (codegen/cuda_renderer.h), then compiled for the CUDA emulator
// (tools/cudaemu/jit.h) and run there, with CUDA's semantics and every access checked. Slow
// (a CUDA thread is a fiber), so for tests: CI runs the CUDA tests through it, and a bug in a
// generated kernel comes back as a tinyref::Error carrying the emulator's report.
//
//   Device& gpu = get_device(cuda_or_emulator());        // "CUDA" on a GPU, else "CUDA_EMU"
//   auto k = gpu.compile(program);                        // render, rewrite, g++ (cached)
//   gpu.launch(*k, {out.ptr(), in.ptr()});                // throws on a fault, with the report
//
// The compiled objects are cached in the CPU backend's folder, under cudaemu/.
#ifndef TINYREF_BACKENDS_CUDAEMU_EMULATED_CUDA_H_
#define TINYREF_BACKENDS_CUDAEMU_EMULATED_CUDA_H_

#include <functional>
#include <memory>
#include <string>

#include "tinyref/backends/device.h"

namespace tinyref {

// The renderer: a Program as CUDA C (the codegen's render_cuda, handed in as for CUDA).
using CudaSourceRenderer = std::function<std::string(const Program&)>;

std::unique_ptr<Device> make_emulated_cuda_device(CudaSourceRenderer renderer);

// Compiles hand-written CUDA C for the device made above (what CudaDevice::compile_source is
// for the GPU): an extern "C" __global__ kernel named `name` taking only pointers, launched with
// `blocks` blocks of `threads`. Throws tinyref::Error on a compile error.
std::shared_ptr<CompiledKernel> compile_emulated_source(Device& emulated, const std::string& source,
                                                        const std::string& name, unsigned blocks, unsigned threads);

}  // namespace tinyref

#endif  // TINYREF_BACKENDS_CUDAEMU_EMULATED_CUDA_H_
