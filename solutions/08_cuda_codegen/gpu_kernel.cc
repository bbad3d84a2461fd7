#include "ch08/gpu_kernel.h"

#include <algorithm>
#include <stdexcept>

#include "ch06/optimize.h"

namespace ch08 {

using ch06::LoopKind;

GpuOptions GpuOptions::none() {
  GpuOptions o;
  o.upcast = 1;
  o.tile = 1;
  o.group = 1;
  o.float4 = false;
  return o;
}

std::string GpuOptions::str() const {
  return "threads " + std::to_string(threads) + " upcast " + std::to_string(upcast) + " tile " + std::to_string(tile) +
         " group " + std::to_string(group) + (float4 ? " float4" : "");
}

namespace {

int64_t extent_of(const ch06::LoopKernel& k, const std::vector<std::string>& vars) {
  int64_t n = 1;
  for (const std::string& v : vars) n *= k.loops[k.find(v)].extent;
  return n;
}

// Step 2: a reduce loop's `group` iterations at a time, one per thread. The innermost reduce
// loop where it is that long (neighbouring threads then read neighbouring elements), else the
// longest one (a conv's weight gradient: 512 images, but rows of 20 pixels).
void plan_group(GpuKernel& g, const GpuOptions& options) {
  ch06::LoopKernel& k = g.loops;
  const int64_t outputs = k.extent_of(LoopKind::kGlobal), reduction = k.extent_of(LoopKind::kReduce);
  if (!k.reduce() || options.group < 2 || outputs > options.group_outputs || reduction < options.group_reduce) return;
  size_t innermost = k.loops.size(), longest = k.loops.size();
  for (size_t l = 0; l < k.loops.size(); ++l) {
    if (k.loops[l].kind != LoopKind::kReduce) continue;
    innermost = l;
    if (longest == k.loops.size() || k.loops[l].extent > k.loops[longest].extent) longest = l;
  }
  const size_t l = k.loops[innermost].extent >= options.group ? innermost : longest;
  const int64_t size = std::min<int64_t>(options.group, k.loops[l].extent);
  if (size < 2) return;
  const size_t inner = k.split(l, size, LoopKind::kReduce);
  g.group = k.loops[inner].var;
  k.applied.push_back("group " + g.group + " " + std::to_string(size));
}

// Step 4: thread digits from the innermost output loop outwards.
void plan_threads(GpuKernel& g, int64_t budget) {
  ch06::LoopKernel& k = g.loops;
  std::vector<std::string> inner_first;
  for (size_t l = k.loops.size(); l-- > 0 && budget > 1;) {
    if (k.loops[l].kind != LoopKind::kGlobal) continue;
    if (k.loops[l].extent <= budget) {
      inner_first.push_back(k.loops[l].var);
      budget /= k.loops[l].extent;
      continue;
    }
    const size_t inner = k.split(l, budget, LoopKind::kGlobal);
    inner_first.push_back(k.loops[inner].var);
    budget = 1;
  }
  g.threads.assign(inner_first.rbegin(), inner_first.rend());
  if (!g.group.empty()) g.threads.push_back(g.group);
}

}  // namespace

int64_t GpuKernel::block_count() const { return extent_of(loops, blocks); }
int64_t GpuKernel::thread_count() const { return extent_of(loops, threads); }

GpuKernel plan_gpu(const ch05::Kernel& kernel, const GpuOptions& options) {
  if (options.threads < 1 || options.threads > 1024 || options.upcast < 1 || options.group < 1) {
    throw std::invalid_argument("plan_gpu: " + kernel.name() + ": options out of range (" + options.str() +
                                "; threads 1..1024, upcast and group at least 1)");
  }
  GpuKernel g{ch06::LoopKernel(kernel)};
  g.float4 = options.float4;
  ch06::reorder_loops(g.loops);
  plan_group(g, options);
  if (g.group.empty()) {
    ch06::upcast_output(g.loops, options.upcast);
    if (g.loops.reduce() && g.loops.extent_of(LoopKind::kGlobal) * g.loops.extent_of(LoopKind::kUpcast) >= options.tile_outputs) {
      // register_tile's argument is its budget of accumulators, the upcast ones included.
      ch06::register_tile(g.loops, static_cast<int>(g.loops.extent_of(LoopKind::kUpcast)) * options.tile);
    }
  }
  const int64_t group_size = g.group.empty() ? 1 : g.loops.loops[g.loops.find(g.group)].extent;
  plan_threads(g, options.threads / group_size);
  for (const ch06::Loop& l : g.loops.loops) {
    if (l.kind == LoopKind::kGlobal && std::find(g.threads.begin(), g.threads.end(), l.var) == g.threads.end()) {
      g.blocks.push_back(l.var);
    }
  }
  if (g.block_count() > 2147483647) {
    throw std::invalid_argument("plan_gpu: " + kernel.name() + " needs " + std::to_string(g.block_count()) +
                                " blocks; a grid holds at most 2^31-1 (" + g.loops.describe() + ")");
  }
  return g;
}

}  // namespace ch08
