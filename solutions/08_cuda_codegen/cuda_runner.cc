#include "ch08/cuda_runner.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "ch06/cpu_runner.h"
#include "ch08/render_cuda.h"

namespace ch08 {

DeviceBuffer::DeviceBuffer(std::shared_ptr<gpu::Gpu> gpu, size_t bytes)
    : gpu_(std::move(gpu)), address_(gpu_->alloc(bytes)), bytes_(bytes) {}

DeviceBuffer::~DeviceBuffer() {
  try {
    gpu_->free(address_);
  } catch (const gpu::GpuError&) {
    // A destructor cannot report it; the memory goes back when the process ends.
  }
}

void DeviceBuffer::copy_to_host(ch04::Buffer& host) { gpu_->copy_out(host.host_bytes(), address_, host.nbytes()); }

namespace {

int debug_level() {
  const char* e = std::getenv("CH08_DEBUG");
  return e != nullptr ? std::atoi(e) : 0;
}

// The buffer's DeviceBuffer on `gpu`, or null where its value is not there.
DeviceBuffer* on_gpu(ch04::Buffer& b, const gpu::Gpu& gpu) {
  auto* d = dynamic_cast<DeviceBuffer*>(b.device.get());
  return d != nullptr && &d->gpu() == &gpu ? d : nullptr;
}

}  // namespace

CudaRunner::CudaRunner(std::shared_ptr<gpu::Gpu> gpu, GpuOptions options)
    : gpu_(std::move(gpu)), options_(options), compiler_(gpu_->arch()), debug_(debug_level()) {}

const CudaKernel& CudaRunner::compile(const ch05::Kernel& kernel) {
  const std::string key = ch06::kernel_key(kernel);
  if (auto it = cache_.find(key); it != cache_.end()) return *it->second;
  GpuKernel plan = plan_gpu(kernel, options_);
  auto c = std::make_unique<CudaKernel>();
  c->loops = plan.loops.describe();
  c->program = lower_gpu(plan);
  c->source = render_cuda(c->program);
  if (debug_ >= 3) {
    std::fprintf(stderr, "ch08: %s loops %s\n%s", kernel.name().c_str(), c->loops.c_str(),
                 ch06::to_string(c->program.program).c_str());
  }
  if (debug_ >= 4) std::fprintf(stderr, "%s\n", c->source.c_str());
  // The emulator runs the source itself; NVRTC still checks it where it is installed.
  if (!gpu_->emulated() || CudaCompiler::available()) c->image = compiler_.compile(c->program.program.name, c->source);
  c->kernel = gpu_->load({c->program.program.name, c->source, c->image});
  return *cache_.emplace(key, std::move(c)).first->second;
}

void CudaRunner::run(const ch05::Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) {
  const CudaKernel& c = compile(kernel);
  const std::vector<ch04::DType>& want = c.program.program.buffers;
  if (bufs.size() != want.size()) {
    throw std::invalid_argument("CudaRunner: kernel " + kernel.name() + " takes " + std::to_string(want.size()) +
                                " buffers, got " + std::to_string(bufs.size()));
  }
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (bufs[i] == nullptr || bufs[i]->dtype != want[i]) {
      throw std::invalid_argument("CudaRunner: kernel " + kernel.name() + ": buffer " + std::to_string(i) + " should be " +
                                  ch04::dtype_name(want[i]) +
                                  (bufs[i] ? std::string(", got ") + ch04::dtype_name(bufs[i]->dtype) : ", got none"));
    }
  }
  const int64_t outputs = ch04::prod(kernel.output_shape());
  if (bufs[0]->numel != outputs) {
    throw std::invalid_argument("CudaRunner: kernel " + kernel.name() + " writes " + std::to_string(outputs) +
                                " elements, but its output buffer holds " + std::to_string(bufs[0]->numel));
  }
  std::vector<uint64_t> addresses;
  for (size_t i = 1; i < bufs.size(); ++i) {
    DeviceBuffer* d = on_gpu(*bufs[i], *gpu_);
    if (d == nullptr) {
      const std::byte* value = bufs[i]->host();  // from another GPU, if that is where it is
      auto fresh = std::make_shared<DeviceBuffer>(gpu_, bufs[i]->nbytes());
      gpu_->copy_in(fresh->address(), value, bufs[i]->nbytes());
      bufs[i]->device = fresh;
      d = fresh.get();
    }
    addresses.push_back(d->address());
  }
  auto out = std::make_shared<DeviceBuffer>(gpu_, bufs[0]->nbytes());
  addresses.insert(addresses.begin(), out->address());
  bufs[0]->device = out;
  bufs[0]->host_valid = false;

  const auto start = std::chrono::steady_clock::now();
  gpu_->launch(*c.kernel, c.program.dims, addresses);
  if (debug_ >= 2) {
    gpu_->synchronize();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "ch08: %-28s %9.3f ms %8.2f GFLOP/s  <<<%lld, %lld>>>  %s\n", kernel.name().c_str(), s * 1e3,
                 static_cast<double>(c.program.program.flops) / s * 1e-9, static_cast<long long>(c.program.dims.blocks),
                 static_cast<long long>(c.program.dims.threads), c.program.program.opts.c_str());
  }
}

}  // namespace ch08
