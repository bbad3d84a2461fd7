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
#include "tinyref/engine/search.h"
#include "tinyref/error.h"
#include "tinyref/parallel.h"

namespace tinyref {

int debug_level() {
  const char* e = std::getenv("TT_DEBUG");
  return e != nullptr ? std::atoi(e) : 0;
}

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

std::string cache_key(const ScheduleItem& item, Device& device) {
  std::ostringstream key;
  key << device.name() << "|" << ast_key(item.ast);
  for (const BufferArg& b : buffer_args(item)) key << "|" << dtype_name(b.dtype) << ":" << b.size;
  return key.str();
}

// Compiles every kernel of a schedule that is not compiled yet, and returns each item's compiled
// kernel (null for copies and empty outputs), so the key is built once per item. Lowering is
// quick and serial (on a GPU, engine/search.h also compiles and times the big kernels' choices,
// a schedule's all at once); compiling (a compiler process each, on the CPU backend) runs on all
// cores where the device allows it, which is what makes a first training step or a fresh test
// run bearable.
std::vector<const Compiled*> compile_all(const std::vector<ScheduleItem>& items) {
  struct Todo {
    std::string key;
    Device* device;
    Program program;
    std::shared_ptr<CompiledKernel> kernel;
    std::exception_ptr error;
  };
  std::vector<Todo> todo;
  std::set<std::string> queued;
  std::vector<std::string> keys(items.size());
  // The kernels to build, by device, each once.
  std::map<Device*, std::vector<size_t>> wanted;
  for (size_t i = 0; i < items.size(); ++i) {
    const ScheduleItem& item = items[i];
    if (item.is_copy || item.bufs[0]->numel() == 0) continue;
    Device& device = get_device(item.bufs[0]->device());
    const std::string& key = keys[i] = cache_key(item, device);
    if (compiled_cache().count(key) || !queued.insert(key).second) continue;
    if (debug_level() >= 5) std::fprintf(stderr, "%s\n", print_ast(item.ast).c_str());
    wanted[&device].push_back(i);
  }
  for (const auto& [device, indices] : wanted) {
    std::vector<const ScheduleItem*> batch;
    std::vector<std::string> batch_keys;
    for (size_t i : indices) {
      batch.push_back(&items[i]);
      batch_keys.push_back(keys[i]);
    }
    std::vector<Program> programs;
    if (search_enabled(*device)) {
      programs = search_programs(batch, batch_keys, *device);
    } else {
      for (const ScheduleItem* item : batch) programs.push_back(lower_item(*item, device->codegen_options()));
    }
    if (!device->parallel_compile()) {  // its compile() runs one at a time: let it start all now
      std::vector<const Program*> ahead;
      for (const Program& p : programs) ahead.push_back(&p);
      device->compile_ahead(ahead);
    }
    for (size_t j = 0; j < batch.size(); ++j) {
      todo.push_back({batch_keys[j], device, std::move(programs[j]), nullptr, nullptr});
      ++stats().programs_built;
    }
  }
  auto compile_one = [](Todo& t) {
    try {
      t.kernel = t.device->compile(t.program);
    } catch (...) {
      t.error = std::current_exception();
    }
  };
  std::vector<Todo*> parallel;
  for (Todo& t : todo) {
    if (t.device->parallel_compile()) parallel.push_back(&t);
    else compile_one(t);
  }
  parallel_for(parallel.size(), [&](size_t i) { compile_one(*parallel[i]); });
  for (Todo& t : todo) {
    if (t.error) std::rethrow_exception(t.error);
    if (debug_level() >= 4) std::fprintf(stderr, "%s\n", t.kernel->source().c_str());
    compiled_cache().emplace(t.key, Compiled{t.kernel, t.program.name, t.program.opts, t.program.flops, t.program.bytes});
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
  Kernel k(item.ast, buffer_args(item));
  optimize(k, options);
  return linearize(k);
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

void realize(const std::vector<LazyRef>& outs) { run_schedule(create_schedule(outs)); }

}  // namespace tinyref
