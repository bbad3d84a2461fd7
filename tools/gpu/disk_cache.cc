#include "tools/gpu/disk_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/gpu/cuda_api.h"

namespace gpu {

namespace fs = std::filesystem;

std::string cache_folder(const std::string& use) {
  std::string root;
  if (const char* dir = std::getenv("GPU_CACHE_DIR"); dir != nullptr && *dir) {
    root = dir;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg) {
    root = std::string(xdg) + "/course-gpu";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home) {
    root = std::string(home) + "/.cache/course-gpu";
  } else {
    root = "/tmp/course-gpu-" + std::to_string(getuid());
  }
  const fs::path folder = fs::path(root) / use;
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) throw GpuError("cannot make the cache folder " + folder.string() + ": " + error.message());
  return folder.string();
}

std::string hash_hex(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  static std::atomic<int> counter{0};
  const std::string tmp = path + ".tmp" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary);
    out << bytes;
    if (!out) throw GpuError("cannot write " + tmp);
  }
  std::error_code error;
  fs::rename(tmp, path, error);
  if (error) throw GpuError("cannot rename " + tmp + " to " + path + ": " + error.message());
}

}  // namespace gpu
