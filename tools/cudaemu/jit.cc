#include "tools/cudaemu/jit.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "tools/cudaemu/prelude.h"
#include "tools/cudaemu/rewrite.h"
#include "tools/cudaemu/runtime.h"

namespace cudaemu {

extern const char kPreludeText[];  // prelude_text.cc: the prelude's headers as one (a genrule)

namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

fs::path default_cache_dir() {
  if (!env("CUDAEMU_CACHE_DIR").empty()) return env("CUDAEMU_CACHE_DIR");
  if (!env("XDG_CACHE_HOME").empty()) return fs::path(env("XDG_CACHE_HOME")) / "cudaemu";
  if (!env("HOME").empty()) return fs::path(env("HOME")) / ".cache" / "cudaemu";
  return "/tmp/cudaemu-cache";
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Another process may be writing the same file: a unique temporary beside it, renamed over it.
void write_atomically(const fs::path& p, const std::string& text) {
  std::string tmp = p.string() + ".XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw JitError("cudaemu: cannot write beside " + p.string());
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) throw JitError("cudaemu: cannot write " + tmp);
  fs::rename(tmp, p);
}

// 16 hex digits naming a text in the cache (std::hash: libstdc++'s is the same in every process;
// a collision is caught by comparing the cached source whole).
std::string key(const std::string& text) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(text));
  return hex;
}

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

}  // namespace

cudaError_t JitKernel::launch(dim3 grid, dim3 block, size_t shared_bytes, const std::vector<void*>& args) const {
  const LaunchConfig config{grid, block, shared_bytes, std::source_location()};
  const cudaError_t e = static_cast<cudaError_t>(entry_(&config, args.data()));
  if (e != cudaSuccess) {  // returned here: not left for the next cudaGetLastError or sync
    cudaGetLastError();
    cudaDeviceSynchronize();
  }
  return e;
}

cudaError_t JitKernel::set_max_dynamic_shared(int bytes) const {
  if (bytes < 0 || static_cast<size_t>(bytes) > detail::kMaxSharedOptIn) return cudaErrorInvalidValue;
  detail::set_max_dynamic_shared(address_, bytes);
  return cudaSuccess;
}

Jit::Jit(JitOptions options) : options_(std::move(options)) {
  if (options_.cache_dir.empty()) options_.cache_dir = default_cache_dir().string();
  if (!env("CUDAEMU_CXX").empty()) options_.compiler = env("CUDAEMU_CXX");
  std::error_code ec;
  fs::create_directories(options_.cache_dir, ec);
  if (ec) throw JitError("cudaemu: cannot create the kernel cache folder " + options_.cache_dir + ": " + ec.message());
}

std::string Jit::command(const std::string& out, const std::string& in, const std::string& extra) const {
  return options_.compiler + " " + options_.flags + " " + extra + " -o '" + out + "' '" + in + "'";
}

std::string Jit::prelude_path() {
  if (!prelude_.empty()) return prelude_;
  const std::string text = kPreludeText;
  const std::string id = key(text + options_.compiler + options_.flags);
  const fs::path header = fs::path(options_.cache_dir) / ("prelude-" + id + ".h");
  fs::path pch = header;
  pch += ".gch";
  if (!fs::exists(header) || read_all(header) != text) write_atomically(header, text);
  if (!fs::exists(pch)) {  // a precompiled prelude: a kernel then compiles in a fraction of the time
    fs::path tmp = pch;
    tmp += ".tmp" + std::to_string(::getpid());
    // (A header precompiled with other flags can crash GCC: the flags are part of its name.)
    if (run(command(tmp.string(), header.string(), "-x c++-header") + " 2>/dev/null") == 0) fs::rename(tmp, pch);
  }
  prelude_ = header.string();
  return prelude_;
}

std::shared_ptr<const JitKernel> Jit::compile(const std::string& cuda_source, const std::string& kernel_name) {
  return compile_all({{cuda_source, kernel_name}}).front();
}

std::vector<std::shared_ptr<const JitKernel>> Jit::compile_all(const std::vector<JitSource>& sources) {
  std::string prelude;
  {
    std::lock_guard lock(mu_);
    prelude = prelude_path();
  }
  // Each kernel rewritten (that text is its key), in a namespace of its own: kernels of one
  // object may share a name, and extern "C" would make their names collide.
  std::vector<std::string> units(sources.size());
  std::vector<std::shared_ptr<const JitKernel>> out(sources.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < sources.size(); ++i) {
    try {
      units[i] = rewrite_cuda(sources[i].source, RewriteOptions{sources[i].name + ".cu", prelude});
    } catch (const RewriteError& e) {
      throw JitError(std::string("cudaemu: cannot rewrite kernel ") + sources[i].name + ": " + e.what());
    }
    std::lock_guard lock(mu_);
    if (auto it = loaded_.find(units[i]); it != loaded_.end()) {
      out[i] = it->second;
    } else {
      todo.push_back(i);
    }
  }
  // One compiler run for a few kernels at once (most of a run is the compiler starting and
  // reading the prelude), as many runs side by side as there are cores.
  const size_t runs = std::min<size_t>(todo.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::exception_ptr> errors(runs);
  std::vector<std::thread> threads;
  for (size_t r = 0; r < runs; ++r) {
    threads.emplace_back([&, r] {
      try {
        std::vector<size_t> mine;
        for (size_t k = r; k < todo.size(); k += runs) mine.push_back(todo[k]);
        std::vector<Loaded> entries = build(sources, units, mine, prelude);
        std::lock_guard lock(mu_);
        for (size_t k = 0; k < mine.size(); ++k) {
          const size_t i = mine[k];
          auto kernel = std::make_shared<const JitKernel>(sources[i].name, sources[i].source, entries[k].entry, entries[k].address);
          out[i] = loaded_.emplace(units[i], kernel).first->second;
        }
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

// Compiles (or finds on disk) the object holding kernels `which`; returns their entry points.
std::vector<Jit::Loaded> Jit::build(const std::vector<JitSource>& sources, const std::vector<std::string>& units,
                                         const std::vector<size_t>& which, const std::string& prelude) {
  std::string cc = "#include \"" + prelude + "\"\n", names;
  for (size_t k = 0; k < which.size(); ++k) {
    const std::string& name = sources[which[k]].name;
    std::string unit = units[which[k]].substr(units[which[k]].find('\n') + 1);  // its #include: once, above
    for (size_t at; (at = unit.find("extern \"C\"")) != std::string::npos;) unit.erase(at, 10);
    const std::string ns = "cudaemu_kernel_" + std::to_string(k);
    cc += "namespace " + ns + " {\n" + unit + "\n}  // namespace " + ns + "\n" +
          "extern \"C\" int cudaemu_jit_entry_" + std::to_string(k) +
          "(const void* config, void* const* args) {\n  return ::cudaemu::launch_with_arguments(\"" + name + "\", " +
          ns + "::" + name + ", *static_cast<const ::cudaemu::LaunchConfig*>(config), args);\n}\n" +
          "extern \"C\" const void* cudaemu_jit_kernel_" + std::to_string(k) + "() {\n  return reinterpret_cast<const void*>(" + ns +
          "::" + name + ");\n}\n";
    names += (names.empty() ? "" : ", ") + name;
  }
  const std::string id = key(cc + options_.compiler + options_.flags);
  const std::string stem = sources[which[0]].name + (which.size() > 1 ? "-and-" + std::to_string(which.size() - 1) : "");
  const fs::path dir = options_.cache_dir;
  const fs::path src = dir / (stem + "-" + id + ".cc"), so = dir / (stem + "-" + id + ".so");
  if (!fs::exists(so) || read_all(src) != cc) {
    write_atomically(src, cc);
    fs::path tmp = so, log = so;
    tmp += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    log += ".log";
    if (run(command(tmp.string(), src.string(), "-shared") + " 2> '" + log.string() + "'") != 0)
      throw JitError("cudaemu: compiling kernel" + std::string(which.size() > 1 ? "s " : " ") + names +
                     " failed; source at " + src.string() + "\n" + read_all(log));
    fs::rename(tmp, so);
    std::lock_guard lock(mu_);
    ++compiler_runs_;
  }
  void* handle = ::dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw JitError("cudaemu: dlopen of " + so.string() + " failed: " + ::dlerror());
  std::vector<Loaded> entries;
  for (size_t k = 0; k < which.size(); ++k) {
    auto entry = reinterpret_cast<JitKernel::Entry>(::dlsym(handle, ("cudaemu_jit_entry_" + std::to_string(k)).c_str()));
    auto address = reinterpret_cast<const void* (*)()>(::dlsym(handle, ("cudaemu_jit_kernel_" + std::to_string(k)).c_str()));
    if (entry == nullptr || address == nullptr)
      throw JitError("cudaemu: no entry point for kernel " + sources[which[k]].name + " in " + so.string());
    entries.push_back({entry, address()});
  }
  return entries;
}

}  // namespace cudaemu
