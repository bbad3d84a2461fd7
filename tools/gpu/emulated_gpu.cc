// The emulated Gpu: CUDA source -> cudaemu's rewriter -> g++ -> a shared object -> dlopen.
//
// The shared object is the kernel as checked C++ plus a launcher that calls cudaemu::launch
// with the buffers; the emulator's runtime is not in it but in this program (linked with
// -rdynamic, so the shared object finds it). The emulator's headers travel inside this
// program (cudaemu_headers.cc, made by the BUILD) and are written once into the cache folder,
// with a precompiled prelude that halves each kernel's compile time.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tools/cudaemu/rewrite.h"
#include "tools/cudaemu/runtime_api.h"
#include "tools/gpu/disk_cache.h"
#include "tools/gpu/gpu.h"

namespace gpu {

// tools/gpu/BUILD's genrule: every header an emulated kernel includes, by its include path.
const std::vector<std::pair<std::string_view, std::string_view>>& cudaemu_headers();

namespace {

namespace fs = std::filesystem;

using Launcher = void (*)(unsigned blocks, unsigned threads, void* const* buffers);

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; returns its exit status and everything it printed.
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "cannot start: " + command};
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
  return {pclose(pipe), output};
}

// The launcher appended to every rewritten kernel: the buffers, cast to the kernel's own
// parameter types (cudaemu::ptr<T>, whose launch_argument checks them), one launch.
std::string launcher(const std::string& kernel) {
  return R"(
namespace {
template <class... P>
void cudaemu_jit_call(void (*k)(P...), unsigned blocks, unsigned threads, void* const* b) {
  [&]<size_t... I>(std::index_sequence<I...>) {
    ::cudaemu::launch(")" + kernel + R"(", k, ::cudaemu::config(blocks, threads), static_cast<typename P::element_type*>(b[I])...);
  }(std::index_sequence_for<P...>());
}
}  // namespace
extern "C" void cudaemu_jit_launch(unsigned blocks, unsigned threads, void* const* buffers) {
  cudaemu_jit_call()" + kernel + R"(, blocks, threads, buffers);
}
)";
}

class EmulatedKernel : public Kernel {
 public:
  EmulatedKernel(std::string name, void* handle, Launcher launch) : name_(std::move(name)), handle_(handle), launch_(launch) {}
  const std::string& name() const override { return name_; }
  Launcher launcher() const { return launch_; }
  void* handle() const { return handle_; }

 private:
  std::string name_;
  void* handle_;
  Launcher launch_;
};

// Compiles rewritten kernels into shared objects, in a cache folder shared by every process.
class JitCompiler {
 public:
  JitCompiler() {
    const char* cxx = std::getenv("CUDAEMU_CXX");
    cxx_ = cxx != nullptr && *cxx ? cxx : "g++";
    flags_ = "-std=c++20 -O1 -g0 -fPIC -w -ffp-contract=off";  // as cuda_emu_library builds
    std::string headers;
    for (const auto& [path, text] : cudaemu_headers()) headers += std::string(path) + '\0' + std::string(text) + '\0';
    const std::string version = run(shell_quoted(cxx_) + " --version").second;
    folder_ = fs::path(cache_folder("cudaemu")) / hash_hex(headers + version + flags_);
    include_ = folder_ / "include";
  }

  // The shared object for one rewritten kernel: from the cache, or compiled now.
  fs::path build(const std::string& name, const std::string& cpp) {
    std::lock_guard<std::mutex> lock(mu_);
    prepare();
    const fs::path so = folder_ / (name + "_" + hash_hex(cpp) + ".so");
    if (fs::exists(so)) return so;
    const fs::path cc = folder_ / (name + "_" + hash_hex(cpp) + ".cc");
    write_file_atomically(cc.string(), cpp);
    const fs::path tmp = so.string() + ".tmp" + std::to_string(getpid());
    const auto [status, output] = run(shell_quoted(cxx_) + " " + flags_ + " -shared -I" + shell_quoted(include_.string()) + " " +
                                      shell_quoted(cc.string()) + " -o " + shell_quoted(tmp.string()));
    if (status != 0) {
      throw GpuError("the emulator could not compile kernel " + name + " (its C++ is kept at " + cc.string() +
                     "):\n" + output);
    }
    fs::rename(tmp, so);
    return so;
  }

 private:
  // Once per process: the headers on disk and the precompiled prelude beside them (g++ uses
  // prelude.h.gch in place of prelude.h when the flags match).
  void prepare() {
    if (prepared_) return;
    fs::create_directories(include_ / "tools" / "cudaemu");
    for (const auto& [path, text] : cudaemu_headers()) {
      if (!fs::exists(include_ / path)) write_file_atomically((include_ / path).string(), std::string(text));
    }
    const fs::path prelude = include_ / "tools" / "cudaemu" / "prelude.h";
    const fs::path pch = prelude.string() + ".gch";
    if (!fs::exists(pch)) {
      const fs::path tmp = folder_ / ("prelude.h.gch.tmp" + std::to_string(getpid()));
      const auto [status, output] = run(shell_quoted(cxx_) + " " + flags_ + " -x c++-header -I" + shell_quoted(include_.string()) + " " +
                                        shell_quoted(prelude.string()) + " -o " + shell_quoted(tmp.string()));
      if (status != 0) throw GpuError("the emulator could not precompile its prelude with " + cxx_ + ":\n" + output);
      fs::rename(tmp, pch);
    }
    prepared_ = true;
  }

  std::mutex mu_;
  std::string cxx_, flags_;
  fs::path folder_, include_;
  bool prepared_ = false;
};

class EmulatedGpu : public Gpu {
 public:
  std::string name() const override {
    return "cudaemu (an emulated GPU, " + std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " cores)";
  }
  bool emulated() const override { return true; }
  int arch() const override { return 90; }

  uint64_t alloc(size_t bytes) override {
    ++stats_.allocations;
    void* p = nullptr;
    check(cudaemu::cudaMalloc(&p, std::max<size_t>(bytes, 1)), "cudaMalloc(" + std::to_string(bytes) + " bytes)");
    return reinterpret_cast<uint64_t>(p);
  }
  void free(uint64_t address) override {
    ++stats_.frees;
    check(cudaemu::cudaFree(reinterpret_cast<void*>(address)), "cudaFree");
  }
  void copy_in(uint64_t to, const void* from, size_t bytes) override {
    ++stats_.copies_in;
    stats_.bytes_in += static_cast<int64_t>(bytes);
    check(cudaemu::cudaMemcpy(reinterpret_cast<void*>(to), from, bytes, cudaemu::cudaMemcpyHostToDevice), "cudaMemcpy in");
  }
  void copy_out(void* to, uint64_t from, size_t bytes) override {
    ++stats_.copies_out;
    stats_.bytes_out += static_cast<int64_t>(bytes);
    check(cudaemu::cudaMemcpy(to, reinterpret_cast<const void*>(from), bytes, cudaemu::cudaMemcpyDeviceToHost), "cudaMemcpy out");
  }

  std::shared_ptr<const Kernel> load(const KernelCode& code) override {
    const std::string key = code.name + '\0' + code.source;
    if (auto it = kernels_.find(key); it != kernels_.end()) return it->second;
    std::string cpp;
    try {
      cpp = cudaemu::rewrite_cuda(code.source, {.file = code.name + ".cu"});
    } catch (const std::exception& e) {
      throw GpuError("the emulator cannot read kernel " + code.name + ": " + e.what());
    }
    cpp += launcher(code.name);
    const fs::path so = jit().build(code.name, cpp);
    void* handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      throw GpuError("the emulator cannot load " + so.string() + ": " + (why ? why : "dlopen failed"));
    }
    auto launch = reinterpret_cast<Launcher>(dlsym(handle, "cudaemu_jit_launch"));
    if (launch == nullptr) throw GpuError("the emulator's build of " + code.name + " has no launcher");
    ++stats_.kernels_loaded;
    auto kernel = std::make_shared<EmulatedKernel>(code.name, handle, launch);
    kernels_.emplace(key, kernel);
    return kernel;
  }

  void launch(const Kernel& kernel, LaunchDims dims, const std::vector<uint64_t>& buffers) override {
    check_dims(kernel.name(), dims);
    ++stats_.launches;
    std::vector<void*> pointers;
    for (uint64_t b : buffers) pointers.push_back(reinterpret_cast<void*>(b));
    const auto& k = dynamic_cast<const EmulatedKernel&>(kernel);
    cudaemu::cudaGetLastError();  // an earlier launch's error is not this one's
    k.launcher()(static_cast<unsigned>(dims.blocks), static_cast<unsigned>(dims.threads), pointers.data());
    if (cudaemu::cudaError_t e = cudaemu::cudaDeviceSynchronize(); e != cudaemu::cudaSuccess) {
      throw GpuError("kernel " + kernel.name() + " faulted on the emulator (" + cudaemu::cudaGetErrorName(e) + "):\n" +
                     cudaemu::last_report());
    }
  }

  void synchronize() override {}

 private:
  void check(cudaemu::cudaError_t e, const std::string& what) {
    if (e != cudaemu::cudaSuccess) {
      throw GpuError(what + ": " + cudaemu::cudaGetErrorName(e) + "\n" + cudaemu::last_report());
    }
  }
  static JitCompiler& jit() {
    static JitCompiler* j = new JitCompiler;  // shared by every EmulatedGpu of the process
    return *j;
  }

  std::map<std::string, std::shared_ptr<EmulatedKernel>> kernels_;
};

}  // namespace

std::shared_ptr<Gpu> open_emulated_gpu() { return std::make_shared<EmulatedGpu>(); }

bool emulator_available(std::string* why) {
  static const std::string reason = [] {
    const char* cxx = std::getenv("CUDAEMU_CXX");
    const std::string compiler = cxx != nullptr && *cxx ? cxx : "g++";
    const auto [status, output] = run(shell_quoted(compiler) + " --version");
    return status == 0 ? std::string() : "the emulator compiles kernels with " + compiler + ", which does not run here: " + output;
  }();
  if (why != nullptr) *why = reason;
  return reason.empty();
}

}  // namespace gpu
