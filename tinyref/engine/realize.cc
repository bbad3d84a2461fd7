#include "tinyref/engine/realize.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "tinyref/backends/registry.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/linearizer.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/renderer.h"
#include "tinyref/engine/search.h"
#include "tinyref/env.h"
#include "tinyref/error.h"
#include "tinyref/parallel.h"
#include "tinyref/schedule/viz.h"

namespace tinyref {

namespace {

thread_local std::vector<RecordedLaunch>* launch_recorder = nullptr;

struct Compiled {
  std::shared_ptr<CompiledKernel> kernel;
  std::string name, opts;
  int64_t flops = 0, bytes = 0;
};

std::map<std::string, Compiled>& compiled_cache() {
  static auto* cache = new std::map<std::string, Compiled>();
  return *cache;
}

// 1. What each item's kernel is: its device, AST and buffer sizes ("" where no kernel runs:
//    copies and empty outputs).
std::vector<std::string> cache_keys(const std::vector<ScheduleItem>& items) {
  std::vector<std::string> keys(items.size());
  const Tf32 tf32 = tf32_mode();  // another program, and another search choice
  const bool async = async_copies_asked();  // more variants: another search choice
  const bool wgmma = wgmma_asked();         // the same
  for (size_t i = 0; i < items.size(); ++i) {
    const ScheduleItem& item = items[i];
    if (item.is_copy || item.bufs[0]->numel() == 0) continue;
    std::ostringstream key;
    key << item.bufs[0]->device() << "|" << ast_key(item.ast);
    if (tf32 != Tf32::kOff) key << "|tf32:" << tf32_name(tf32);
    if (async) key << "|async";
    if (wgmma) key << "|wgmma";
    for (const BufferArg& b : buffer_args(item)) key << "|" << dtype_name(b.dtype) << ":" << b.size;
    keys[i] = key.str();
  }
  return keys;
}

// 2. The items whose kernels are not compiled yet, each kernel once, by device.
std::map<Device*, std::vector<size_t>> new_kernels(const std::vector<ScheduleItem>& items,
                                                   const std::vector<std::string>& keys) {
  std::map<Device*, std::vector<size_t>> todo;
  std::set<std::string> queued;
  for (size_t i = 0; i < items.size(); ++i) {
    if (keys[i].empty() || compiled_cache().count(keys[i]) || !queued.insert(keys[i]).second) continue;
    if (debug_level() >= 5) std::fprintf(stderr, "%s\n", print_ast(items[i].ast).c_str());
    todo[&get_device(items[i].bufs[0]->device())].push_back(i);
  }
  return todo;
}

// 3. Their programs: on a GPU the fastest of the search's variants (engine/search.h), else
//    lowered with the device's options.
std::vector<Program> lower_all(const std::vector<ScheduleItem>& items, const std::vector<std::string>& keys,
                               const std::vector<size_t>& todo, Device& device) {
  std::vector<const ScheduleItem*> batch;
  std::vector<std::string> batch_keys;
  for (size_t i : todo) {
    batch.push_back(&items[i]);
    batch_keys.push_back(keys[i]);
  }
  if (search_enabled(device)) return search_programs(batch, batch_keys, device);
  std::vector<Program> programs;
  for (const ScheduleItem* item : batch) programs.push_back(lower_item(*item, device.codegen_options()));
  return programs;
}

// 4. Compiled: on every core where the device allows (a compiler process per kernel on the
//    CPU: what makes a first training step or a fresh test run bearable), else one by one after
//    compile_ahead lets the device start them all. The first failure is rethrown in order.
std::vector<std::shared_ptr<CompiledKernel>> compile_programs(Device& device, const std::vector<Program>& programs) {
  std::vector<std::shared_ptr<CompiledKernel>> kernels(programs.size());
  std::vector<std::exception_ptr> errors(programs.size());
  auto compile_one = [&](size_t i) {
    try {
      kernels[i] = device.compile(programs[i]);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  if (device.parallel_compile()) {
    parallel_for(programs.size(), compile_one);
  } else {
    std::vector<const Program*> ahead;
    for (const Program& p : programs) ahead.push_back(&p);
    device.compile_ahead(ahead);
    for (size_t i = 0; i < programs.size(); ++i) compile_one(i);
  }
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  stats().programs_built += static_cast<int64_t>(programs.size());
  return kernels;
}

// TT_DEBUG=2: what a device's kernels are tuned for (its codegen options' target), once.
void announce_target(const Device& device) {
  static std::set<std::string> told;
  const std::string target = device.codegen_options().target;
  if (debug_level() >= 2 && !target.empty() && told.insert(device.name()).second) {
    std::fprintf(stderr, "*** %s tuned for %s\n", device.name().c_str(), target.c_str());
  }
}

// Every kernel of a schedule compiled (each new one lowered, compiled and cached), and each
// item's entry in the cache (null for copies and empty outputs).
std::vector<const Compiled*> compile_all(const std::vector<ScheduleItem>& items) {
  const std::vector<std::string> keys = cache_keys(items);
  for (const auto& [device, todo] : new_kernels(items, keys)) {
    announce_target(*device);
    const std::vector<Program> programs = lower_all(items, keys, todo, *device);
    const std::vector<std::shared_ptr<CompiledKernel>> kernels = compile_programs(*device, programs);
    for (size_t j = 0; j < todo.size(); ++j) {
      const Program& p = programs[j];
      if (debug_level() >= 4) std::fprintf(stderr, "%s\n", kernels[j]->source().c_str());
      compiled_cache().emplace(keys[todo[j]], Compiled{kernels[j], p.name, p.opts, p.flops, p.bytes});
    }
  }
  std::vector<const Compiled*> compiled(items.size(), nullptr);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!keys[i].empty()) compiled[i] = &compiled_cache().at(keys[i]);
  }
  return compiled;
}

// The memory of a kernel's output, or an Error that names the tensor it was for.
void* allocate_output(Buffer& buf, const LazyBuffer& out) {
  try {
    return buf.ptr();
  } catch (const Error& e) {
    TT_CHECK(false, "realize: no memory for a " << dtype_name(out.dtype()) << " tensor of shape " << out.shape()
                                                << ": " << e.what());
  }
  return nullptr;
}

}  // namespace

std::vector<BufferArg> buffer_args(const ScheduleItem& item) {
  std::vector<BufferArg> args;
  for (const LazyRef& b : item.bufs) args.push_back({b->dtype(), b->numel()});
  return args;
}

Program lower_item(const ScheduleItem& item, const CodegenOptions& options) {
  TT_ASSERT(!item.is_copy);
  Kernel k(item.ast, buffer_args(item));  // the AST over one shared shape (codegen/kernel.h)
  optimize(k, options);                   // Opts for the device (codegen/optimizer.h)
  return lower_kernel(k, options);
}

Program lower_kernel(const Kernel& k, const CodegenOptions& options) {
  Program p = linearize(k);      // uops (codegen/linearizer.h)
  render(p, options.language);   // source, for a device that compiles one (codegen/renderer.h)
  return p;
}

std::vector<RecordedLaunch>* set_launch_recorder(std::vector<RecordedLaunch>* recorder) {
  std::swap(recorder, launch_recorder);
  return recorder;
}

void run_schedule(const std::vector<ScheduleItem>& items) {
  const std::vector<const Compiled*> compiled = compile_all(items);
  for (size_t i = 0; i < items.size(); ++i) {
    const ScheduleItem& item = items[i];
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
      if (launch_recorder) launch_recorder->push_back({RecordedLaunch::kCopy, nullptr, {buf, src}});
      continue;
    }
    if (out->numel() == 0) {  // nothing to compute: an empty buffer is the whole result
      out->set_realized(buf);
      if (launch_recorder) launch_recorder->push_back({RecordedLaunch::kEmpty, nullptr, {buf}});
      continue;
    }
    const Compiled& c = *compiled[i];
    std::vector<std::shared_ptr<Buffer>> bufs = {buf};
    std::vector<void*> ptrs = {allocate_output(*buf, *out)};
    for (size_t j = 1; j < item.bufs.size(); ++j) {
      bufs.push_back(item.bufs[j]->realized_buffer());
      TT_ASSERT(bufs.back() != nullptr);
      ptrs.push_back(bufs.back()->ptr());
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
    if (launch_recorder) launch_recorder->push_back({RecordedLaunch::kKernel, c.kernel, std::move(bufs)});
  }
}

void realize(const std::vector<LazyRef>& outs) {
  maybe_write_schedule_viz(outs);  // TT_VIZ=1
  run_schedule(create_schedule(outs));
}

}  // namespace tinyref
