#include "tinyref/backends/cuda/context.h"

#include <cstdio>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tinyref/error.h"

namespace tinyref::cuda {
namespace {

std::string dims(Dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

std::string gib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  return text;
}

}  // namespace

Context::Context(ContextOptions options) : ordinal_(options.device) {
  driver_ = Driver::load(options.driver_library);
  const Driver& d = *driver_;
  try {
    d.check(d.cuInit(0), "cuInit");
    int count = 0;
    d.check(d.cuDeviceGetCount(&count), "cuDeviceGetCount");
    TT_CHECK(count > 0, "CUDA driver: no CUDA device (the driver is loaded, but sees no GPU)");
    TT_CHECK(ordinal_ >= 0 && ordinal_ < count, "CUDA driver: no device " << ordinal_ << " (there "
                                                    << (count == 1 ? "is " : "are ") << count
                                                    << ")");
    d.check(d.cuDeviceGet(&device_, ordinal_), "cuDeviceGet(" + std::to_string(ordinal_) + ")");
    char name[256] = {};
    d.check(d.cuDeviceGetName(name, sizeof(name) - 1, device_), "cuDeviceGetName");
    device_name_ = name;
    int major = 0, minor = 0;
    d.check(d.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device_),
            "cuDeviceGetAttribute(compute capability major)");
    d.check(d.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device_),
            "cuDeviceGetAttribute(compute capability minor)");
    compute_capability_ = 10 * major + minor;
    d.check(d.cuDeviceGetAttribute(&multiprocessors_, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                   device_),
            "cuDeviceGetAttribute(multiprocessor count)");
    d.check(d.cuDeviceGetAttribute(&max_shared_bytes_opt_in_, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device_),
            "cuDeviceGetAttribute(shared memory per block, opted in)");
    d.check(d.cuDeviceTotalMem(&total_memory_, device_), "cuDeviceTotalMem");

    // The primary context is the one the runtime API (and PyTorch) uses too: sharing it means
    // a process that mixes them has one context per device, not several.
    d.check(d.cuDevicePrimaryCtxRetain(&context_, device_), "cuDevicePrimaryCtxRetain");
    activate();
    // Non-blocking: our stream does not wait for other libraries' work on the legacy stream.
    d.check(d.cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    d.check(d.cuEventCreate(&start_event_, CU_EVENT_DEFAULT), "cuEventCreate");
    d.check(d.cuEventCreate(&end_event_, CU_EVENT_DEFAULT), "cuEventCreate");

    compiler_ = std::make_unique<Compiler>(compute_capability_, options.cache_dir,
                                           std::move(options.compile_options));
    allocator_ = std::make_unique<CachingAllocator>(RawMemory{
        .name = "CUDA",
        .allocate = [this](size_t bytes) { return raw_allocate(bytes); },
        .release =
            [this](uint64_t address) {
              activate();
              driver_->check(driver_->cuMemFree(address), "cuMemFree");
            },
        .describe = [this] { return describe_memory(); },
    });
  } catch (...) {
    teardown();
    throw;
  }
}

Context::~Context() { teardown(); }

void Context::teardown() noexcept {
  if (!driver_) return;
  const Driver& d = *driver_;
  if (context_ != nullptr) {
    d.cuCtxSetCurrent(context_);
    if (stream_ != nullptr) d.cuStreamSynchronize(stream_);
  }
  for (CUgraphExec graph : graphs_) {
    if (graph != nullptr) d.cuGraphExecDestroy(graph);
  }
  graphs_.clear();
  allocator_.reset();  // frees every buffer, cached or live
  for (const auto& [module, handle] : modules_) d.cuModuleUnload(handle);
  modules_.clear();
  functions_.clear();
  if (start_event_ != nullptr) d.cuEventDestroy(start_event_);
  if (end_event_ != nullptr) d.cuEventDestroy(end_event_);
  if (stream_ != nullptr) d.cuStreamDestroy(stream_);
  if (context_ != nullptr) d.cuDevicePrimaryCtxRelease(device_);
  start_event_ = end_event_ = nullptr;
  stream_ = nullptr;
  context_ = nullptr;
}

void Context::activate() const {
  driver_->check(driver_->cuCtxSetCurrent(context_), "cuCtxSetCurrent");
}

uint64_t Context::raw_allocate(size_t bytes) {
  activate();
  CUdeviceptr address = 0;
  const CUresult result = driver_->cuMemAlloc(&address, bytes);
  if (result == CUDA_ERROR_OUT_OF_MEMORY) return 0;  // the allocator retries, then explains
  driver_->check(result, "cuMemAlloc(" + std::to_string(bytes) + " bytes)");
  return address;
}

std::string Context::describe_memory() const {
  size_t free_bytes = 0, total_bytes = 0;
  if (driver_->cuMemGetInfo(&free_bytes, &total_bytes) != CUDA_SUCCESS) return "";
  return "device " + std::to_string(ordinal_) + " (" + device_name_ + ") has " +
         gib(free_bytes) + " free of " + gib(total_bytes);
}

uint64_t Context::alloc(size_t bytes) { return allocator_->allocate(bytes); }

void Context::free(uint64_t address) { allocator_->free(address); }

void Context::release_cached_memory() {
  synchronize();
  allocator_->release_cache();
}

void Context::copy_in(uint64_t destination, const void* source, size_t bytes) {
  if (bytes == 0) return;
  activate();
  // From pageable host memory the driver stages the bytes before returning, so the caller may
  // reuse `source` at once; the transfer itself stays ordered with the kernels on the stream.
  driver_->check(driver_->cuMemcpyHtoDAsync(destination, source, bytes, stream_),
                 "copy_in (cuMemcpyHtoDAsync, " + std::to_string(bytes) + " bytes)");
}

void Context::copy_out(void* destination, uint64_t source, size_t bytes) {
  if (bytes == 0) return;
  activate();
  driver_->check(driver_->cuMemcpyDtoHAsync(destination, source, bytes, stream_),
                 "copy_out (cuMemcpyDtoHAsync, " + std::to_string(bytes) + " bytes)");
  driver_->check(driver_->cuStreamSynchronize(stream_), "copy_out (cuStreamSynchronize)");
}

void Context::copy(uint64_t destination, uint64_t source, size_t bytes) {
  if (bytes == 0) return;
  activate();
  driver_->check(driver_->cuMemcpyDtoDAsync(destination, source, bytes, stream_),
                 "copy (cuMemcpyDtoDAsync, " + std::to_string(bytes) + " bytes)");
}

void Context::fill_zero(uint64_t destination, size_t bytes) {
  if (bytes == 0) return;
  activate();
  driver_->check(driver_->cuMemsetD8Async(destination, 0, bytes, stream_),
                 "fill_zero (cuMemsetD8Async, " + std::to_string(bytes) + " bytes)");
}

void Context::synchronize() {
  activate();
  // Kernel faults (an out-of-bounds store) are reported here, after the fact.
  driver_->check(driver_->cuStreamSynchronize(stream_), "synchronize (cuStreamSynchronize)");
}

Function Context::compile(const std::string& source, const std::string& kernel_name) {
  const CompiledModule& compiled = compiler_->compile(source, kernel_name);
  auto key = std::make_pair(&compiled, kernel_name);
  if (auto found = functions_.find(key); found != functions_.end()) return found->second;

  activate();
  CUmodule& module = modules_[&compiled];
  if (module == nullptr) {
    const CUresult loaded = driver_->cuModuleLoadData(&module, compiled.image.c_str());
    if (loaded != CUDA_SUCCESS) {
      modules_.erase(&compiled);
      driver_->check(loaded, "cuModuleLoadData (kernel '" + kernel_name + "', " +
                                 (compiled.cubin ? "CUBIN for " : "PTX for ") +
                                 compiler_->arch() + ")");
    }
  }
  Function function;
  function.name = kernel_name;
  const CUresult found = driver_->cuModuleGetFunction(&function.handle, module, kernel_name.c_str());
  TT_CHECK(found != CUDA_ERROR_NOT_FOUND,
           "CUDA compile: the module has no kernel named '"
               << kernel_name << "' (is it declared extern \"C\" __global__? C++ mangles names)");
  driver_->check(found, "cuModuleGetFunction(" + kernel_name + ")");
  driver_->check(driver_->cuFuncGetAttribute(&function.max_threads_per_block,
                                             CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
                                             function.handle),
                 "cuFuncGetAttribute(max threads per block)");
  driver_->check(driver_->cuFuncGetAttribute(&function.num_registers, CU_FUNC_ATTRIBUTE_NUM_REGS,
                                             function.handle),
                 "cuFuncGetAttribute(registers)");
  functions_.emplace(std::move(key), function);
  return function;
}

void Context::launch(const Function& function, Dim3 grid, Dim3 block, unsigned shared_bytes,
                     const std::vector<KernelArg>& args) {
  TT_CHECK(function.handle != nullptr, "CUDA launch: the Function is empty (not compiled)");
  const std::string what = "kernel '" + function.name + "' with grid " + dims(grid) +
                           ", block " + dims(block) + ", " + std::to_string(shared_bytes) +
                           " shared bytes";
  TT_CHECK(grid.x > 0 && grid.y > 0 && grid.z > 0 && block.x > 0 && block.y > 0 && block.z > 0,
           "CUDA launch: " << what << ": every dimension must be at least 1");
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  TT_CHECK(threads <= static_cast<uint64_t>(function.max_threads_per_block),
           "CUDA launch: " << what << ": " << threads << " threads per block, but this kernel "
                           << "allows at most " << function.max_threads_per_block << " (it uses "
                           << function.num_registers << " registers per thread)");
  activate();
  constexpr unsigned kStaticSharedBytes = 48 << 10;  // what a kernel has without opting in
  if (shared_bytes > kStaticSharedBytes && dynamic_shared_allowed_[function.handle] < shared_bytes) {
    TT_CHECK(shared_bytes <= static_cast<unsigned>(max_shared_bytes_opt_in_),
             "CUDA launch: " << what << ": a block on " << device_name_ << " has at most " << max_shared_bytes_opt_in_
                             << " bytes of shared memory");
    driver_->check(driver_->cuFuncSetAttribute(function.handle, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                               static_cast<int>(shared_bytes)),
                   "cuFuncSetAttribute(max dynamic shared memory, " + what + ")");
    dynamic_shared_allowed_[function.handle] = shared_bytes;
  }
  // cuLaunchKernel wants one pointer per argument, to the argument's value; it copies the
  // values before returning, so pointers into `args` are enough.
  std::vector<void*> pointers;
  pointers.reserve(args.size());
  for (const KernelArg& arg : args) pointers.push_back(const_cast<uint64_t*>(&arg.bits));
  driver_->check(driver_->cuLaunchKernel(function.handle, grid.x, grid.y, grid.z, block.x,
                                         block.y, block.z, shared_bytes, stream_,
                                         pointers.empty() ? nullptr : pointers.data(), nullptr),
                 "cuLaunchKernel (" + what + ")");
  ++launches_;
  if (recording_) recorded_.push_back({function, grid, block, shared_bytes, args});
}

double Context::launch_timed(const Function& function, Dim3 grid, Dim3 block,
                             unsigned shared_bytes, const std::vector<KernelArg>& args) {
  activate();
  driver_->check(driver_->cuEventRecord(start_event_, stream_), "cuEventRecord");
  launch(function, grid, block, shared_bytes, args);
  driver_->check(driver_->cuEventRecord(end_event_, stream_), "cuEventRecord");
  driver_->check(driver_->cuEventSynchronize(end_event_),
                 "cuEventSynchronize (after kernel '" + function.name + "')");
  float milliseconds = 0;
  driver_->check(driver_->cuEventElapsedTime(&milliseconds, start_event_, end_event_),
                 "cuEventElapsedTime");
  return milliseconds * 1e-3;
}

void Context::start_recording() {
  TT_CHECK(!recording_, "CUDA record: already recording");
  recording_ = true;
  recorded_.clear();
}

LaunchList Context::stop_recording() {
  TT_CHECK(recording_, "CUDA record: stop_recording without start_recording");
  recording_ = false;
  return std::exchange(recorded_, {});
}

void Context::replay(const LaunchList& launches) {
  for (const Launch& l : launches) launch(l.function, l.grid, l.block, l.shared_bytes, l.args);
}

GraphId Context::capture_graph(const LaunchList& launches) {
  TT_CHECK(!recording_, "CUDA graph: cannot capture while recording");
  TT_CHECK(!launches.empty(), "CUDA graph: nothing to capture (the launch list is empty)");
  activate();
  const Driver& d = *driver_;
  // Thread-local capture mode: other threads' unrelated CUDA calls do not break our capture.
  d.check(d.cuStreamBeginCapture(stream_, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
          "cuStreamBeginCapture");
  CUgraph graph = nullptr;
  try {
    const int64_t before = launches_;
    replay(launches);   // captured, not run
    launches_ = before;  // a capture is not an execution
  } catch (...) {
    // Always end the capture, or the stream stays unusable.
    if (d.cuStreamEndCapture(stream_, &graph) == CUDA_SUCCESS && graph) d.cuGraphDestroy(graph);
    throw;
  }
  d.check(d.cuStreamEndCapture(stream_, &graph), "cuStreamEndCapture");
  CUgraphExec exec = nullptr;
  const CUresult instantiated = d.cuGraphInstantiateWithFlags(&exec, graph, 0);
  d.cuGraphDestroy(graph);  // the executable graph is a copy; the template is no longer needed
  d.check(instantiated, "cuGraphInstantiate (" + std::to_string(launches.size()) + " launches)");
  graphs_.push_back(exec);
  return static_cast<GraphId>(graphs_.size() - 1);
}

void Context::launch_graph(GraphId graph) {
  TT_CHECK(graph >= 0 && graph < static_cast<GraphId>(graphs_.size()) && graphs_[graph],
           "CUDA graph: no graph " << graph << " in this context");
  activate();
  driver_->check(driver_->cuGraphLaunch(graphs_[graph], stream_), "cuGraphLaunch");
}

void Context::destroy_graph(GraphId graph) {
  TT_CHECK(graph >= 0 && graph < static_cast<GraphId>(graphs_.size()) && graphs_[graph],
           "CUDA graph: no graph " << graph << " in this context");
  activate();
  synchronize();  // it may still be running
  driver_->check(driver_->cuGraphExecDestroy(graphs_[graph]), "cuGraphExecDestroy");
  graphs_[graph] = nullptr;
}

}  // namespace tinyref::cuda
