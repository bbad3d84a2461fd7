#include "ch08/gpu_program.h"

#include <map>
#include <stdexcept>

#include "ch06/linearize.h"
#include "ch06/simplify.h"

namespace ch08 {

using ch06::UOp;
using ch06::UOpKind;

namespace {

// The digits of one hardware index, slowest first: each one's stride is the product of the
// extents after it.
void add_digits(const ch06::LoopKernel& k, const std::vector<std::string>& vars, bool block,
                std::vector<GpuIndex>& out) {
  int64_t stride = 1;
  std::vector<GpuIndex> digits;
  for (size_t i = vars.size(); i-- > 0;) {
    const int64_t extent = k.loops[k.find(vars[i])].extent;
    digits.insert(digits.begin(), GpuIndex{vars[i], extent, block, stride});
    stride *= extent;
  }
  out.insert(out.end(), digits.begin(), digits.end());
}

}  // namespace

std::string index_expression(const GpuIndex& index, const gpu::LaunchDims& dims) {
  const std::string hw = index.block ? "blockIdx.x" : "threadIdx.x";
  const int64_t total = index.block ? dims.blocks : dims.threads;
  std::string e = hw;
  if (index.stride != 1) e = "(" + e + "/" + std::to_string(index.stride) + ")";
  if (index.stride * index.extent != total) e = "(" + e + "%" + std::to_string(index.extent) + ")";
  return e;
}

GpuProgram lower_gpu(const GpuKernel& kernel) {
  const ch06::LoopKernel& k = kernel.loops;
  const ch06::Program linear = ch06::linearize(k);
  GpuProgram out;
  out.float4 = kernel.float4;
  add_digits(k, kernel.blocks, true, out.indices);
  add_digits(k, kernel.threads, false, out.indices);
  out.dims = {kernel.block_count(), kernel.thread_count()};
  out.group = kernel.group;
  if (!out.group.empty()) out.group_size = k.loops[k.find(out.group)].extent;

  std::map<std::string, bool> replaced;  // digit -> its RANGE was found
  for (const GpuIndex& d : out.indices) replaced[d.var] = false;

  ch06::Program& p = out.program;
  p.name = linear.name;
  p.buffers = linear.buffers;
  p.flops = linear.flops;
  p.opts = linear.opts;
  std::vector<int> renumber(linear.uops.size(), -1);
  size_t i = 0;
  for (; i < linear.uops.size() && linear.uops[i].kind == UOpKind::kDefineGlobal; ++i) {
    renumber[i] = static_cast<int>(p.uops.size());
    p.uops.push_back(linear.uops[i]);
  }
  for (const GpuIndex& d : out.indices) {
    UOp s{UOpKind::kSpecial};
    s.var = d.var;
    s.extent = d.extent;
    p.uops.push_back(s);
  }
  for (; i < linear.uops.size(); ++i) {
    UOp u = linear.uops[i];
    if (u.kind == UOpKind::kRange && replaced.count(u.var)) {
      replaced[u.var] = true;
      continue;  // renumber[i] stays -1: its END_RANGE goes too
    }
    if (u.kind == UOpKind::kEndRange && renumber[u.src[0]] == -1) continue;
    for (int& s : u.src) s = renumber[s];
    if (u.kind == UOpKind::kStore && !out.group.empty()) {
      const ch04::Expr first = ch04::lt(ch04::var(out.group, 0, out.group_size - 1), ch04::num(1));
      u.valid = u.valid ? ch06::simplify(ch04::land(first, u.valid)) : first;
    }
    renumber[i] = static_cast<int>(p.uops.size());
    p.uops.push_back(u);
  }
  for (const auto& [var, found] : replaced) {
    if (!found) {
      throw std::invalid_argument("lower_gpu: " + p.name + ": the plan makes " + var +
                                  " a block or thread digit, but the kernel has no such loop (" + k.describe() + ")");
    }
  }
  if (!out.group.empty()) {
    for (size_t u = 0; u < p.uops.size(); ++u) {
      if (p.uops[u].kind == UOpKind::kAccumulate) out.combine_after = static_cast<int>(u);
    }
    while (out.combine_after + 1 < static_cast<int>(p.uops.size()) &&
           p.uops[out.combine_after + 1].kind == UOpKind::kEndRange) {
      ++out.combine_after;
    }
  }
  return out;
}

}  // namespace ch08
