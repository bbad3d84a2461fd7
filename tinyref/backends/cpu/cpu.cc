#include "tinyref/backends/cpu/cpu.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <map>
#include <mutex>
#include <sstream>

#include "tinyref/backends/cpu/cpu_target.h"
#include "tinyref/codegen/uops.h"
#include "tinyref/disk_cache.h"
#include "tinyref/env.h"
#include "tinyref/error.h"

namespace tinyref {

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes then renames, so a concurrent process never sees half a file.
void write_atomically(const fs::path& p, const std::string& text) {
  fs::path tmp = p;
  static std::atomic<int> n{0};
  tmp += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  {
    std::ofstream out(tmp);
    out << text;
  }
  fs::rename(tmp, p);
}

using Entry = void (*)(void**);

class CpuKernel : public CompiledKernel {
 public:
  CpuKernel(std::string src, Entry fn) : src_(std::move(src)), fn_(fn) {}
  const std::string& source() const override { return src_; }
  void run(const std::vector<void*>& bufs) const { fn_(const_cast<void**>(bufs.data())); }

 private:
  std::string src_;
  Entry fn_;
};

class CpuDevice : public HostDevice {
 public:
  const std::string& name() const override { return name_; }
  CodegenOptions codegen_options() const override { return options_; }
  bool parallel_compile() const override { return true; }

  std::shared_ptr<CompiledKernel> compile(const Program& program) override {
    TT_CHECK(!program.src.empty(), "CPU: kernel " << program.name << " has no C++ source (render it first: codegen/renderer.h)");
    const std::string& src = program.src;
    const std::string cxx = env_string("TT_CXX", "g++");
    const std::string& flags = target_.compiler_flags;
    const std::string hex = hash_hex(src + "\n" + cxx + " " + flags);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = loaded_.find(hex); it != loaded_.end()) return it->second;
    }
    const fs::path dir = cpu_cache_dir();
    const fs::path so = dir / (program.name + "_" + hex + ".so");
    const fs::path cc = dir / (program.name + "_" + hex + ".cc");
    if (!fs::exists(so)) {
      write_atomically(cc, src);
      fs::path tmp = so;
      tmp += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter_++);
      fs::path log = so;
      log += ".log";
      const std::string cmd = cxx + " " + flags + " -o '" + tmp.string() + "' '" + cc.string() + "' 2> '" +
                              log.string() + "'";
      const int rc = std::system(cmd.c_str());
      if (rc != 0) {
        const std::string msg = read_file(log);
        TT_CHECK(false, "CPU: compiling kernel " << program.name << " failed (" << cxx << " exit " << rc
                                                 << "); source at " << cc.string() << "\n" << msg);
      }
      fs::rename(tmp, so);
      std::lock_guard<std::mutex> lock(mu_);
      ++stats().compiler_runs;
    }
    void* handle = ::dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    TT_CHECK(handle != nullptr, "CPU: dlopen of " << so.string() << " failed: " << ::dlerror());
    auto fn = reinterpret_cast<Entry>(::dlsym(handle, program.entry.c_str()));
    TT_CHECK(fn != nullptr, "CPU: " << program.entry << " missing from " << so.string());
    auto k = std::make_shared<CpuKernel>(src, fn);
    std::lock_guard<std::mutex> lock(mu_);
    return loaded_.emplace(hex, k).first->second;
  }

  void launch(const CompiledKernel& kernel, const std::vector<void*>& buffers) override {
    static_cast<const CpuKernel&>(kernel).run(buffers);
  }

 private:
  std::string name_ = "CPU";
  // Tuned for the machine (cpu_target.h): its widest vectors and their registers. An iteration
  // computes at most half of what the registers hold (AVX2: 64 floats, AVX-512: 256).
  const CpuTarget& target_ = detect_cpu_target();
  const CodegenOptions options_{.vector_bytes = target_.vector_bytes,
                                .threads = target_.threads,
                                .max_upcast = std::max(16, target_.vector_registers * target_.vector_bytes / 4 / 2),
                                .vector_registers = target_.vector_registers,
                                .l2_bytes = target_.l2_bytes,
                                .language = Language::kCpp,
                                .target = target_.describe()};
  std::mutex mu_;  // compile() runs on several threads
  std::map<std::string, std::shared_ptr<CpuKernel>> loaded_;
  std::atomic<int> counter_{0};
};

}  // namespace

std::string cpu_cache_dir() {
  fs::path dir = cache_folder("");  // $XDG_CACHE_HOME/tinyref/ or ~/.cache/tinyref/
  dir = env_string("TT_CACHE_DIR", dir.string());
  if (dir.empty()) dir = fs::path("/tmp") / "tinyref-cache";
  std::error_code ec;
  fs::create_directories(dir, ec);
  TT_CHECK(!ec, "CPU: cannot create the kernel cache folder " << dir.string() << ": " << ec.message());
  return dir.string();
}

std::unique_ptr<Device> make_cpu_device() { return std::make_unique<CpuDevice>(); }

}  // namespace tinyref
