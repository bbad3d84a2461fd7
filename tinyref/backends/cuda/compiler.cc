#include "tinyref/backends/cuda/compiler.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tinyref/backends/cuda/nvrtc.h"
#include "tinyref/disk_cache.h"
#include "tinyref/error.h"
#include "tinyref/parallel.h"

namespace tinyref::cuda {
namespace {

namespace fs = std::filesystem;

// The first line of every cache file; bump it when the layout changes.
constexpr char kMagic[] = "tinyref-cuda-module 2\n";

// A kernel name made safe for a file name.
std::string file_stem(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 64)) {
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  }
  return out.empty() ? "kernel" : out;
}

bool read_file(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return static_cast<bool>(in) || in.eof();
}

// Writes to a private temporary name, then renames: rename() is atomic, so a concurrent
// process (two test binaries sharing a cache) reads the old file or the new one, never half.
bool write_file_atomically(const fs::path& path, const std::string& bytes) {
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) return false;
  const fs::path temporary =
      path.string() + ".tmp." + std::to_string(static_cast<long long>(getpid()));
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return false;
  }
  fs::rename(temporary, path, error);
  if (error) fs::remove(temporary, error);
  return !error;
}

}  // namespace

Compiler::Compiler(int compute_capability, fs::path cache_dir,
                   std::vector<std::string> extra_options)
    : cache_dir_(std::move(cache_dir)), version_(nvrtc_version()) {
  TT_CHECK(compute_capability >= 10, "CUDA compiler: compute capability "
                                         << compute_capability
                                         << " is not of the form 10*major+minor (90 for 9.0)");
  const std::vector<int> archs = nvrtc_supported_archs();
  if (archs.empty() ||
      std::find(archs.begin(), archs.end(), compute_capability) != archs.end()) {
    // Without NVRTC the list is empty; compile() then reports the missing toolkit. On 9.0 the
    // architecture-specific sm_90a, which alone has Hopper's warpgroup MMA (wgmma); its machine
    // code runs on 9.0 only, which is all this compiler targets.
    arch_ = "sm_" + std::to_string(compute_capability) + (compute_capability == 90 ? "a" : "");
    cubin_ = true;
  } else {
    int best = 0;
    for (int arch : archs) {
      if (arch <= compute_capability) best = std::max(best, arch);
    }
    TT_CHECK(best != 0, "CUDA compiler: NVRTC " << version_ << " cannot target compute capability "
                                                << compute_capability / 10 << "."
                                                << compute_capability % 10 << " (its oldest is "
                                                << *std::min_element(archs.begin(), archs.end())
                                                << ")");
    arch_ = "compute_" + std::to_string(best);
    cubin_ = false;
  }
  options_.push_back("--gpu-architecture=" + arch_);
  for (std::string& option : extra_options) options_.push_back(std::move(option));
}

fs::path Compiler::default_cache_dir() { return cache_folder("cuda"); }

std::string Compiler::full_key(const std::string& source) const {
  // NUL separators: no option or version can run into the next field.
  std::string key = "nvrtc " + version_ + '\0';
  for (const std::string& option : options_) key += option + '\0';
  key += '\0';
  key += source;
  return key;
}

std::string Compiler::cache_key(const std::string& source) const {
  return hash_hex(full_key(source));
}

const CompiledModule* Compiler::find_cached(std::string& key) {
  if (auto found = memory_.find(key); found != memory_.end()) {
    ++stats_.memory_hits;
    return &found->second;
  }
  CompiledModule module;
  module.hash = hash_hex(key);
  module.cubin = cubin_;
  if (!load_from_disk(key, module)) return nullptr;
  ++stats_.disk_hits;
  return &memory_.emplace(std::move(key), std::move(module)).first->second;
}

// A successful NVRTC run, into both caches.
const CompiledModule& Compiler::keep(std::string key, NvrtcOutput out) {
  ++stats_.compiles;
  CompiledModule module;
  module.hash = hash_hex(key);
  module.cubin = cubin_;
  module.image = std::move(out.image);
  module.log = std::move(out.log);
  store_to_disk(key, module);
  return memory_.emplace(std::move(key), std::move(module)).first->second;
}

const CompiledModule& Compiler::compile(const std::string& source, const std::string& name) {
  std::string key = full_key(source);
  if (const CompiledModule* cached = find_cached(key)) return *cached;
  NvrtcOutput out = nvrtc_compile(source, file_stem(name) + ".cu", options_, cubin_);
  if (!out.ok) {
    ++stats_.compiles;
    const std::string hash = hash_hex(key);
    const fs::path saved = save_failed_source(source, hash, name);
    TT_CHECK(false, "CUDA compiler: NVRTC " << version_ << " could not compile kernel '" << name
                                            << "' for " << arch_ << " (" << out.status << ")"
                                            << "; source saved to "
                                            << (saved.empty() ? "nowhere (unwritable)"
                                                              : saved.string())
                                            << "\n" << out.log);
  }
  return keep(std::move(key), std::move(out));
}

void Compiler::compile_ahead(const std::vector<NamedSource>& sources) {
  std::vector<const NamedSource*> misses;
  std::vector<std::string> keys;
  std::unordered_set<std::string> queued;  // a source given twice compiles once
  for (const NamedSource& s : sources) {
    std::string key = full_key(s.source);
    // In memory already: not a hit yet (compile() counts that); on disk: loaded now.
    if (memory_.count(key) != 0 || find_cached(key) != nullptr || !queued.insert(key).second) continue;
    misses.push_back(&s);
    keys.push_back(std::move(key));
  }
  // Only NVRTC runs on the workers; the caches and counters stay on this thread.
  std::vector<NvrtcOutput> outs(misses.size());
  parallel_for(misses.size(), [&](size_t i) {
    try {
      outs[i] = nvrtc_compile(misses[i]->source, file_stem(misses[i]->name) + ".cu", options_, cubin_);
    } catch (...) {
      outs[i].ok = false;  // (out of memory) compile() will meet it again, and say so
    }
  });
  for (size_t i = 0; i < misses.size(); ++i) {
    if (outs[i].ok) keep(std::move(keys[i]), std::move(outs[i]));
  }
}

// File layout: the magic line; a line "<key bytes> <image bytes> <image hash>"; the key; the
// image. The lengths and the hash catch a file cut short by a crash or damaged on disk.
bool Compiler::load_from_disk(const std::string& key, CompiledModule& module) const {
  if (cache_dir_.empty()) return false;
  std::string bytes;
  if (!read_file(cache_dir_ / (module.hash + ".module"), bytes)) return false;
  const std::string magic = kMagic;
  if (bytes.compare(0, magic.size(), magic) != 0) return false;
  const size_t newline = bytes.find('\n', magic.size());
  if (newline == std::string::npos) return false;
  std::istringstream header(bytes.substr(magic.size(), newline - magic.size()));
  size_t key_size = 0, image_size = 0;
  std::string image_hash;
  if (!(header >> key_size >> image_size >> image_hash)) return false;
  const size_t key_start = newline + 1;
  if (key_size != key.size() || bytes.size() != key_start + key_size + image_size) return false;
  // A different source with the same 64-bit name: not ours.
  if (bytes.compare(key_start, key_size, key) != 0) return false;
  module.image = bytes.substr(key_start + key_size);
  return !module.image.empty() && hash_hex(module.image) == image_hash;
}

void Compiler::store_to_disk(const std::string& key, const CompiledModule& module) const {
  if (cache_dir_.empty()) return;
  std::string bytes = kMagic;
  bytes += std::to_string(key.size()) + " " + std::to_string(module.image.size()) + " " +
           hash_hex(module.image) + "\n";
  bytes += key;
  bytes += module.image;
  // A cache that cannot be written (read-only home, full disk) only costs speed: ignore it.
  write_file_atomically(cache_dir_ / (module.hash + ".module"), bytes);
}

fs::path Compiler::save_failed_source(const std::string& source, const std::string& hash,
                                      const std::string& name) const {
  std::error_code error;
  fs::path folder = cache_dir_.empty() ? fs::temp_directory_path(error) / "tinyref-cuda-failed"
                                       : cache_dir_ / "failed";
  if (error) return {};
  const fs::path path = folder / (file_stem(name) + "-" + hash + ".cu");
  return write_file_atomically(path, source) ? path : fs::path();
}

}  // namespace tinyref::cuda
