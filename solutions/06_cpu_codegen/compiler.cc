#include "ch06/compiler.h"

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ch06 {

namespace fs = std::filesystem;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A name no other process or thread uses at the same moment, next to `p`.
fs::path temporary_next_to(const fs::path& p) {
  static std::atomic<int> counter{0};
  fs::path tmp = p;
  tmp += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  return tmp;
}

// Writes to a temporary name, then renames: a process compiling the same kernel at the same
// time never reads half a file.
void write_atomically(const fs::path& p, const std::string& text) {
  const fs::path tmp = temporary_next_to(p);
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) throw std::runtime_error("ch06: cannot write " + tmp.string());
  }
  fs::rename(tmp, p);
}

// 64-bit FNV-1a: a few lines, and plenty for naming cache files.
uint64_t fnv1a(const std::string& text, uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// One shell word, whatever the path holds.
std::string shell_word(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string entry_point(const std::string& kernel_name) { return kernel_name + "_entry"; }

std::vector<std::string> default_compiler_flags() {
  // Vectorizing is the upcast's job (unrolled statements the basic-block vectorizer packs into
  // vector instructions). GCC's loop vectorizer would otherwise turn the short reduce loops of a
  // convolution (5 iterations of kw) into in-order vector reductions full of shuffles: half the
  // speed of MNIST's convolutions.
  std::vector<std::string> flags = {"-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-fno-tree-loop-vectorize"};
#if defined(__SANITIZE_ADDRESS__)  // GCC defines it under -fsanitize=address
  flags.push_back("-fsanitize=address");
  flags.push_back("-fno-omit-frame-pointer");
#endif
#if defined(CH06_UBSAN)  // set by the chapter's BUILD under --config=ubsan
  flags.push_back("-fsanitize=undefined");
  flags.push_back("-fno-sanitize-recover=all");
#endif
  return flags;
}

std::string default_compiler() { return env_or("CH06_CXX", "g++"); }

std::string default_cache_dir() {
  if (const std::string d = env_or("CH06_CACHE_DIR", ""); !d.empty()) return d;
  if (const std::string x = env_or("XDG_CACHE_HOME", ""); !x.empty()) return (fs::path(x) / "course-ch06").string();
  if (const std::string h = env_or("HOME", ""); !h.empty()) return (fs::path(h) / ".cache" / "course-ch06").string();
  return "/tmp/course-ch06";
}

Compiler::Compiler(std::string cache_dir, std::string cxx, std::vector<std::string> flags)
    : cache_dir_(std::move(cache_dir)), cxx_(std::move(cxx)), flags_(std::move(flags)) {}

Compiler::~Compiler() {
  for (void* h : handles_) ::dlclose(h);
}

std::string Compiler::cache_key(const std::string& source) const {
  // Everything that changes the machine code: a cache keyed by the source alone would hand a
  // -O0 build (or one made for another CPU) to a run that asked for -O3 -march=native.
  uint64_t h = fnv1a(source);
  h = fnv1a(std::string(1, '\0') + cxx_, h);
  for (const std::string& f : flags_) h = fnv1a(std::string(1, '\0') + f, h);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

KernelFunction Compiler::compile(const std::string& kernel_name, const std::string& source) {
  const std::string key = cache_key(source);
  if (auto it = loaded_.find(key); it != loaded_.end()) {
    ++stats_.memory_hits;
    return it->second;
  }
  std::error_code ec;
  fs::create_directories(cache_dir_, ec);
  if (ec) {
    throw CompileError("ch06: cannot create the kernel cache folder " + cache_dir_ + ": " + ec.message() +
                           " (set CH06_CACHE_DIR to a writable folder)",
                       kernel_name, "");
  }
  const fs::path base = fs::path(cache_dir_) / (kernel_name + "_" + key);
  const std::string cc = base.string() + ".cc", so = base.string() + ".so";
  if (fs::exists(so)) {
    ++stats_.disk_hits;
  } else {
    write_atomically(cc, source);
    run_compiler(kernel_name, cc, so);
  }
  KernelFunction f = load(kernel_name, so, cc);
  loaded_[key] = f;
  return f;
}

void Compiler::run_compiler(const std::string& kernel_name, const std::string& cc, const std::string& so) {
  const fs::path tmp = temporary_next_to(so);
  const std::string log = so + ".log";
  std::string cmd = shell_word(cxx_);
  for (const std::string& f : flags_) cmd += " " + shell_word(f);
  cmd += " -o " + shell_word(tmp.string()) + " " + shell_word(cc) + " > " + shell_word(log) + " 2>&1";
  ++stats_.compiler_runs;
  const int status = std::system(cmd.c_str());
  const int code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code != 0) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    const std::string why = code == 127 ? "could not run the compiler '" + cxx_ + "' (set CH06_CXX)"
                                        : "'" + cxx_ + "' exited with " + std::to_string(code);
    throw CompileError("ch06: compiling kernel " + kernel_name + " failed: " + why + "\n  source kept at " + cc +
                           "\n  compiler output:\n" + read_text(log),
                       kernel_name, cc);
  }
  fs::rename(tmp, so);
}

KernelFunction Compiler::load(const std::string& kernel_name, const std::string& so, const std::string& cc) {
  void* handle = ::dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    throw CompileError("ch06: kernel " + kernel_name + ": cannot load " + so + ": " + ::dlerror() +
                           " (delete it to compile again)",
                       kernel_name, cc);
  }
  handles_.push_back(handle);
  void* sym = ::dlsym(handle, entry_point(kernel_name).c_str());
  if (sym == nullptr) {
    throw CompileError("ch06: kernel " + kernel_name + ": " + so + " has no function " + entry_point(kernel_name) +
                           " (the source must define extern \"C\" void " + entry_point(kernel_name) +
                           "(void** buffers)); source at " + cc,
                       kernel_name, cc);
  }
  return reinterpret_cast<KernelFunction>(sym);
}

}  // namespace ch06
