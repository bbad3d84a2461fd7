// Your GPU plan: task ch08.1. README.md, "Task 1", walks through it.
#include "ch08/gpu_kernel.h"

#include <algorithm>
#include <stdexcept>

#include "ch06/optimize.h"
#include "chapters/course.h"

namespace ch08 {

using ch06::LoopKind;

// Given.
GpuOptions GpuOptions::none() {
  GpuOptions o;
  o.upcast = 1;
  o.tile = 1;
  o.group = 1;
  o.float4 = false;
  return o;
}

// Given.
std::string GpuOptions::str() const {
  return "threads " + std::to_string(threads) + " upcast " + std::to_string(upcast) + " tile " + std::to_string(tile) +
         " group " + std::to_string(group) + (float4 ? " float4" : "");
}

namespace {

// Given: the product of the extents of the loops named in `vars`.
int64_t extent_of(const ch06::LoopKernel& k, const std::vector<std::string>& vars) {
  int64_t n = 1;
  for (const std::string& v : vars) n *= k.loops[k.find(v)].extent;
  return n;
}

}  // namespace

int64_t GpuKernel::block_count() const { return extent_of(loops, blocks); }
int64_t GpuKernel::thread_count() const { return extent_of(loops, threads); }

// TODO(ch08.1): the plan, step by step as gpu_kernel.h lists them. Start from
// ch06::LoopKernel(kernel) and change it only with its split() (and chapter 6's
// reorder_loops and upcast_output), so that what the kernel computes cannot change.
// Hints: walk the loops from the last to the first for the thread digits; split(l, n, kind)
// returns where the inner loop went, and k.loops[that].var is its name; a group's size also
// divides the threads a block has left for output digits. Log what you did in
// g.loops.applied ("group ridx1 256"): CH08_DEBUG=2 prints it.
GpuKernel plan_gpu(const ch05::Kernel& kernel, const GpuOptions& options) {
  throw course::NotImplemented("ch08.1: plan_gpu");
}

}  // namespace ch08
