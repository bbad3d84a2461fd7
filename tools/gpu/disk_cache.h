// Files a later run finds again: compiled kernels, kept in a folder per use under one cache
// root, named by a hash of everything that went into them.
//
//   std::string dir = gpu::cache_folder("nvrtc");         // ~/.cache/course-gpu/nvrtc, made
//   std::string path = dir + "/E_4_" + gpu::hash_hex(source) + ".cubin";
//   if (std::optional<std::string> hit = gpu::read_file(path)) return *hit;
//   gpu::write_file_atomically(path, cubin);             // another process sees all or nothing
//
// The root is $GPU_CACHE_DIR, else $XDG_CACHE_HOME/course-gpu, else $HOME/.cache/course-gpu,
// else /tmp/course-gpu-<uid> (tests under Bazel have no HOME).
#ifndef TOOLS_GPU_DISK_CACHE_H_
#define TOOLS_GPU_DISK_CACHE_H_

#include <optional>
#include <string>
#include <string_view>

namespace gpu {

// The folder for one use of the cache, created if missing. Throws GpuError if it cannot be.
std::string cache_folder(const std::string& use);

// 16 hex digits of a 64-bit FNV-1a hash: plenty to name cache files, not a checksum against
// attacks (nothing here is).
std::string hash_hex(std::string_view text);

// The whole file, or nullopt if it cannot be read.
std::optional<std::string> read_file(const std::string& path);

// Writes to a temporary name beside `path`, then renames: readers never see half a file, and
// two processes writing the same file leave one whole copy. Throws GpuError on failure.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace gpu

#endif  // TOOLS_GPU_DISK_CACHE_H_
