#include "tinyref/engine/realize.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "tinyref/backends/registry.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/linearizer.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/error.h"

namespace tinyref {

int debug_level() {
  const char* e = std::getenv("TT_DEBUG");
  return e != nullptr ? std::atoi(e) : 0;
}

namespace {

std::vector<BufferArg> buffer_args(const ScheduleItem& item) {
  std::vector<BufferArg> args;
  for (const LazyRef& b : item.bufs) args.push_back({b->dtype(), b->numel()});
  return args;
}

struct Compiled {
  std::shared_ptr<CompiledKernel> kernel;
  std::string name, opts;
  int64_t flops = 0, bytes = 0;
};

// Compiled kernels by device, AST and buffer sizes: a training loop lowers each kernel once.
Compiled& compiled_for(const ScheduleItem& item, Device& device) {
  static auto* cache = new std::map<std::string, Compiled>();
  std::ostringstream key;
  key << device.name() << "|" << ast_key(item.ast);
  for (const BufferArg& b : buffer_args(item)) key << "|" << dtype_name(b.dtype) << ":" << b.size;
  auto it = cache->find(key.str());
  if (it != cache->end()) return it->second;
  Program p = lower_item(item, device.codegen_options());
  ++stats().programs_built;
  Compiled c{device.compile(p), p.name, p.opts, p.flops, p.bytes};
  if (debug_level() >= 5) std::fprintf(stderr, "%s\n", print_ast(item.ast).c_str());
  if (debug_level() >= 4) std::fprintf(stderr, "%s\n", c.kernel->source().c_str());
  return cache->emplace(key.str(), std::move(c)).first->second;
}

}  // namespace

Program lower_item(const ScheduleItem& item, const CodegenOptions& options) {
  TT_ASSERT(!item.is_copy);
  Kernel k(item.ast, buffer_args(item));
  optimize(k, options);
  return linearize(k);
}

void run_schedule(const std::vector<ScheduleItem>& items) {
  for (const ScheduleItem& item : items) {
    LazyBuffer* out = item.bufs[0]->base();
    Device& device = get_device(out->device());
    auto buf = std::make_shared<Buffer>(device, out->dtype(), static_cast<size_t>(out->numel()));
    if (item.is_copy) {
      std::shared_ptr<Buffer> src = item.bufs[1]->realized_buffer();
      TT_ASSERT(src != nullptr);
      std::vector<unsigned char> host(src->nbytes());
      src->copy_out(host.data());
      buf->copy_in(host.data());
      out->set_realized(buf);
      continue;
    }
    if (out->numel() == 0) {  // nothing to compute: an empty buffer is the whole result
      out->set_realized(buf);
      continue;
    }
    Compiled& c = compiled_for(item, device);
    std::vector<void*> ptrs = {buf->ptr()};
    for (size_t i = 1; i < item.bufs.size(); ++i) {
      std::shared_ptr<Buffer> b = item.bufs[i]->realized_buffer();
      TT_ASSERT(b != nullptr);
      ptrs.push_back(b->ptr());
    }
    const auto t0 = std::chrono::steady_clock::now();
    device.launch(*c.kernel, ptrs);
    if (debug_level() >= 2) {
      device.synchronize();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "*** %-6s %-40s %9.3f ms %8.2f GFLOPS %7.2f GB/s%s%s\n", device.name().c_str(),
                   c.name.c_str(), s * 1e3, c.flops / s * 1e-9, c.bytes / s * 1e-9,
                   debug_level() >= 3 ? "  opts: " : "", debug_level() >= 3 ? c.opts.c_str() : "");
    }
    ++stats().kernels_launched;
    out->set_realized(buf);
  }
}

void realize(const std::vector<LazyRef>& outs) { run_schedule(create_schedule(outs)); }

}  // namespace tinyref
