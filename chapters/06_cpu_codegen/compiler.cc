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

#include "chapters/course.h"

namespace ch06 {

namespace fs = std::filesystem;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

[[maybe_unused]] std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A name no other process or thread uses at the same moment, next to `p`.
[[maybe_unused]] fs::path temporary_next_to(const fs::path& p) {
  static std::atomic<int> counter{0};
  fs::path tmp = p;
  tmp += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  return tmp;
}

// Writes to a temporary name, then renames: a process compiling the same kernel at the same
// time never reads half a file.
[[maybe_unused]] void write_atomically(const fs::path& p, const std::string& text) {
  const fs::path tmp = temporary_next_to(p);
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) throw std::runtime_error("ch06: cannot write " + tmp.string());
  }
  fs::rename(tmp, p);
}

// 64-bit FNV-1a: a few lines, and plenty for naming cache files.
[[maybe_unused]] uint64_t fnv1a(const std::string& text, uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// One shell word, whatever the path holds.
[[maybe_unused]] std::string shell_word(const std::string& s) {
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
  // TODO(ch06.4): 16 hex digits of a hash (fnv1a above) of everything that decides the machine
  // code: the source, the compiler, every flag. Separate the parts ('\0' between them), so that
  // "-O" + "3" and "-O3" differ. std::snprintf with "%016llx" prints the digits.
  throw course::NotImplemented("ch06.4: Compiler::cache_key");
}

KernelFunction Compiler::compile(const std::string& kernel_name, const std::string& source) {
  // TODO(ch06.4):
  //  1. Loaded already (loaded_, by cache key)? Return it (stats_.memory_hits).
  //  2. Create the cache folder (std::filesystem::create_directories with an error_code: a
  //     CompileError naming the folder when it fails).
  //  3. <cache>/<kernel_name>_<key>.so exists? A disk hit. Else write the source next to it
  //     (<...>.cc, write_atomically) and run_compiler.
  //  4. load() it, remember it in loaded_, return it.
  throw course::NotImplemented("ch06.4: Compiler::compile");
}

void Compiler::run_compiler(const std::string& kernel_name, const std::string& cc, const std::string& so) {
  // TODO(ch06.4): std::system("<cxx> <flags> -o <tmp> <cc> > <log> 2>&1"), each word through
  // shell_word(), counting stats_.compiler_runs. Compile to a temporary name next to `so`
  // (temporary_next_to) and rename it to `so` only on success: another process may be loading
  // it. On failure (WEXITSTATUS != 0; 127 means the shell found no compiler) a CompileError
  // that names the kernel, says where its source stays (cc) and quotes the compiler's output
  // (read_text of the log); leave no .so behind.
  throw course::NotImplemented("ch06.4: Compiler::run_compiler");
}

KernelFunction Compiler::load(const std::string& kernel_name, const std::string& so, const std::string& cc) {
  // TODO(ch06.4): dlopen(so, RTLD_NOW | RTLD_LOCAL) (keep the handle in handles_: the destructor
  // closes them), then dlsym(handle, entry_point(kernel_name)). Each failure is a CompileError
  // naming the kernel and the file (dlerror() says why dlopen failed).
  throw course::NotImplemented("ch06.4: Compiler::load");
}

}  // namespace ch06
