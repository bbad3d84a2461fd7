#include "tinyref/engine/search.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include <unistd.h>

#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/linearizer.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/disk_cache.h"
#include "tinyref/engine/realize.h"
#include "tinyref/env.h"
#include "tinyref/error.h"

namespace tinyref {

namespace {

constexpr int64_t kMinWork = int64_t{1} << 16;

// The chosen optimizations, as text (opt.h): memory first, then the disk.
std::map<std::string, std::string>& memory() {
  static auto* m = new std::map<std::string, std::string>();
  return *m;
}

std::optional<std::vector<Opt>> cached_opts(const std::string& key) {
  if (auto it = memory().find(key); it != memory().end()) return parse_opts(it->second);
  const std::filesystem::path dir = cache_folder("search");
  if (dir.empty()) return std::nullopt;
  std::ifstream in(dir / hash_hex(key));
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;  // absent or unreadable: search again
  std::optional<std::vector<Opt>> opts = parse_opts(text);
  if (opts) memory()[key] = text;
  return opts;
}

void store_opts(const std::string& key, const std::string& text) {
  memory()[key] = text;
  const std::filesystem::path dir = cache_folder("search");
  if (dir.empty()) return;
  std::error_code ec;  // a read-only cache is no reason to fail a training run
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path tmp = dir / (hash_hex(key) + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp);
    out << text << "\n";
    if (!out) return;
  }
  std::filesystem::rename(tmp, dir / hash_hex(key), ec);
}

// The kernel with its cached optimizations replayed, or nullopt where there are none or one no
// longer applies (the heuristics changed under the cache): then the kernel is searched again.
std::optional<Program> lower_cached(const ScheduleItem& item, const CodegenOptions& options, const std::string& key) {
  const std::optional<std::vector<Opt>> opts = cached_opts(key);
  if (!opts) return std::nullopt;
  Kernel k(item.ast, buffer_args(item));
  k.gpu = options.gpu;
  for (const Opt& o : *opts) {
    if (!k.can_apply(o)) return std::nullopt;
    k.apply(o);
  }
  return lower_kernel(k, options);
}

// Seconds per launch: the best of three batches of three, after one untimed launch (the first
// also loads the module). A variant whose single timed launch already takes twice `to_beat`, plus
// 0.1 ms for the launch and the wait that a lone launch also times, is given up on after it: a
// search meets many that are 10-50x the best (27 ms against 0.6 ms in MNIST's conv2 weight
// gradient), and nine more launches of those cost more than all the rest.
double time_kernel(Device& device, const CompiledKernel& kernel, const std::vector<void*>& ptrs, double to_beat) {
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  device.launch(kernel, ptrs);
  device.synchronize();
  const auto t0 = Clock::now();
  device.launch(kernel, ptrs);
  device.synchronize();
  double best = seconds_since(t0);
  if (best > 2 * to_beat + 1e-4) return best;
  for (int batch = 0; batch < 3; ++batch) {
    const auto t1 = Clock::now();
    for (int i = 0; i < 3; ++i) device.launch(kernel, ptrs);
    device.synchronize();
    best = std::min(best, seconds_since(t1) / 3);
  }
  return best;
}

}  // namespace

bool search_enabled(const Device& device) {
  return env_flag("TT_SEARCH", device.codegen_options().gpu && device.timings_meaningful());
}

std::vector<Program> lower_variants(const ScheduleItem& item, const CodegenOptions& options) {
  std::vector<Program> programs;
  for (const Kernel& k : gpu_variants(Kernel(item.ast, buffer_args(item)), options)) programs.push_back(lower_kernel(k, options));
  return programs;
}

namespace {

// Times each compiled variant on scratch buffers of the kernel's sizes and keeps the fastest.
Program pick_fastest(const ScheduleItem& item, std::vector<Program>& programs, Device& device, const std::string& key) {
  // Their contents do not matter: no index depends on data.
  std::vector<std::unique_ptr<Buffer>> scratch;
  std::vector<void*> ptrs;
  for (const BufferArg& b : buffer_args(item)) {
    scratch.push_back(std::make_unique<Buffer>(device, b.dtype, static_cast<size_t>(b.size)));
    ptrs.push_back(scratch.back()->ptr());
  }
  int best = -1;
  double best_seconds = std::numeric_limits<double>::infinity();
  for (size_t v = 0; v < programs.size(); ++v) {
    const Program& p = programs[v];
    double seconds;
    try {
      seconds = time_kernel(device, *device.compile(p), ptrs, best_seconds);
    } catch (const Error& e) {
      // A choice the device refuses (say, more registers than the block size allows) is no choice.
      if (debug_level() >= 2) std::fprintf(stderr, "search %s variant %zu refused: %s\n", p.name.c_str(), v, e.what());
      continue;
    }
    if (debug_level() >= 2) {
      std::fprintf(stderr, "search %-40s variant %zu %9.3f ms  %s\n", p.name.c_str(), v, seconds * 1e3, p.opts.c_str());
    }
    if (seconds < best_seconds) {
      best_seconds = seconds;
      best = static_cast<int>(v);
    }
  }
  if (best < 0) return lower_item(item, device.codegen_options());  // let the default report its own error
  store_opts(key, programs[best].opts);
  return std::move(programs[best]);
}

}  // namespace

std::vector<Program> search_programs(const std::vector<const ScheduleItem*>& items, const std::vector<std::string>& keys,
                                     Device& device) {
  TT_ASSERT(items.size() == keys.size());
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const CodegenOptions options = device.codegen_options();
  std::vector<Program> chosen(items.size());
  std::vector<std::vector<Program>> variants(items.size());  // filled for the kernels searched
  std::vector<const Program*> all;
  for (size_t i = 0; i < items.size(); ++i) {
    const ScheduleItem& item = *items[i];
    if (!options.gpu || prod(Kernel(item.ast, buffer_args(item)).full_shape()) < kMinWork) {
      chosen[i] = lower_item(item, options);
    } else if (std::optional<Program> cached = lower_cached(item, options, keys[i])) {
      chosen[i] = std::move(*cached);
    } else {
      variants[i] = lower_variants(item, options);
      if (variants[i].empty()) chosen[i] = lower_item(item, options);  // no choice: let it say why
      for (const Program& p : variants[i]) all.push_back(&p);
    }
  }
  if (all.empty()) return chosen;
  const auto t1 = Clock::now();
  // Every variant of every kernel at once: most of a search's time is the compiler's.
  device.compile_ahead(all);
  const auto t2 = Clock::now();
  size_t searched = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (variants[i].empty()) continue;
    chosen[i] = pick_fastest(*items[i], variants[i], device, keys[i]);
    ++searched;
  }
  if (debug_level() >= 2) {
    const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    std::fprintf(stderr, "search: %zu kernels, %zu variants: lowered in %.0f ms, compiled in %.0f ms, loaded and timed in %.0f ms\n",
                 searched, all.size(), ms(t1 - t0), ms(t2 - t1), ms(Clock::now() - t2));
  }
  return chosen;
}

}  // namespace tinyref
