// What tinyref's on-disk caches share: the folder they live under and how an entry is named.
// The CUDA compiler keeps NVRTC's output there, the kernel search its choices.
//
//   cache_folder("search")    // $XDG_CACHE_HOME/tinyref/search, else ~/.cache/tinyref/search,
//                             // else "" (no cache: neither variable is set)
//   hash_hex("a")             // "af63dc4c8601ec8c": FNV-1a, 64 bits, as 16 hex digits (a file name)
#ifndef TINYREF_DISK_CACHE_H_
#define TINYREF_DISK_CACHE_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tinyref/env.h"

namespace tinyref {

inline std::filesystem::path cache_folder(const std::string& name) {
  if (const std::string x = env_string("XDG_CACHE_HOME", ""); !x.empty()) return std::filesystem::path(x) / "tinyref" / name;
  if (const std::string h = env_string("HOME", ""); !h.empty()) return std::filesystem::path(h) / ".cache" / "tinyref" / name;
  return {};
}

inline uint64_t fnv1a64(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

inline std::string hash_hex(const std::string& bytes) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(bytes)));
  return hex;
}

}  // namespace tinyref

#endif  // TINYREF_DISK_CACHE_H_
