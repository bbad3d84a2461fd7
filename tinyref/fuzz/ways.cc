#include "tinyref/fuzz/ways.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_map>

#include "tinyref/backends/registry.h"
#include "tinyref/codegen/linearizer.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/engine/realize.h"
#include "tinyref/error.h"
#include "tinyref/schedule/schedule.h"

namespace tinyref::fuzz {

namespace {

std::vector<double> host_doubles(Buffer& buf) {
  std::vector<unsigned char> bytes(buf.nbytes());
  buf.copy_out(bytes.data());
  std::vector<double> out(buf.numel());
  for (size_t i = 0; i < out.size(); ++i) {
    const unsigned char* p = bytes.data() + i * itemsize(buf.dtype());
    switch (buf.dtype()) {
      case DType::kBool: out[i] = *reinterpret_cast<const bool*>(p); break;
      case DType::kUInt8: out[i] = *p; break;
      case DType::kInt32: out[i] = *reinterpret_cast<const int32_t*>(p); break;
      case DType::kFloat32: out[i] = *reinterpret_cast<const float*>(p); break;
      case DType::kFloat64: out[i] = *reinterpret_cast<const double*>(p); break;
    }
  }
  return out;
}

// The kinds of Opt a CPU kernel may take, and amounts worth trying for each.
constexpr OptKind kCpuKinds[] = {OptKind::kVector, OptKind::kUpcast, OptKind::kUnroll, OptKind::kGroup,
                                 OptKind::kBlock,  OptKind::kStream, OptKind::kParallel};

}  // namespace

void apply_random_opts(Kernel& k, std::mt19937_64& rng) {
  const int want = static_cast<int>(rng() % 6);
  for (int applied = 0, tries = 0; applied < want && tries < 50 && k.ndim() > 0; ++tries) {
    Opt o;
    o.kind = kCpuKinds[rng() % std::size(kCpuKinds)];
    if (o.kind != OptKind::kParallel) {
      o.axis = static_cast<int>(rng() % k.ndim());
      const int64_t extent = k.full_shape()[o.axis];
      if (o.kind == OptKind::kVector) {
        o.amount = int64_t{2} << (rng() % 4);  // 2 to 16 lanes
      } else {
        std::vector<int64_t> divisors;
        for (int64_t f = 2; f <= extent; ++f) {
          if (extent % f == 0) divisors.push_back(f);
        }
        if (divisors.empty()) continue;
        o.amount = divisors[rng() % divisors.size()];
      }
      // Unrolled code grows with the product of the unrolled dimensions: keep kernels small.
      const bool unrolls = o.kind == OptKind::kVector || o.kind == OptKind::kUpcast || o.kind == OptKind::kUnroll;
      if (unrolls && k.upcast_size() * o.amount > 64) continue;
    }
    if (!k.can_apply(o)) continue;
    k.apply(o);
    ++applied;
  }
}

std::vector<Way> ways_for(const FuzzGraph& g, const std::vector<std::string>& devices, const FuzzOptions& options,
                          uint64_t seed) {
  std::vector<Way> ways;
  for (const std::string& dev : devices) {
    const CodegenOptions opts = get_device(dev).codegen_options();
    if (opts.gpu) {
      // Variant v of every kernel (its default where it has fewer), for every v some kernel has.
      size_t most = 1;
      for (const ScheduleItem& item : create_schedule(g.build(dev))) {
        if (item.is_copy || item.bufs[0]->numel() == 0) continue;
        most = std::max(most, gpu_variants(Kernel(item.ast, buffer_args(item)), opts).size());
      }
      for (size_t v = 0; v < most; ++v) {
        ways.push_back({dev + ", variant " + std::to_string(v), dev, [opts, v](Kernel& k, size_t) {
                          std::vector<Kernel> variants = gpu_variants(k, opts);
                          k = std::move(variants[std::min(v, variants.size() - 1)]);
                        }});
      }
      continue;
    }
    const bool interpreted = dev == options.interpreter;  // no compiler: ways cost little
    if (interpreted) ways.push_back({dev + ", plain", dev, [](Kernel&, size_t) {}});
    ways.push_back({dev + ", optimized", dev, [opts](Kernel& k, size_t) { optimize(k, opts); }});
    ways.push_back({dev + ", engine", dev, nullptr});
    const int randoms = interpreted ? options.random_opt_ways : options.compiled_random_ways;
    for (int r = 0; r < randoms; ++r) {
      const uint64_t s = seed * 1000003 + static_cast<uint64_t>(r);
      // Seeded by the kernel's own text too: the shrinker removes other kernels, and this one
      // must then get the same Opts as before.
      ways.push_back({dev + ", opts #" + std::to_string(r), dev, [s](Kernel& k, size_t) {
                        std::mt19937_64 rng(s ^ std::hash<std::string>()(ast_key(k.ast)));
                        apply_random_opts(k, rng);
                      }});
    }
  }
  return ways;
}

Way way_with_opts(const std::string& device, const std::vector<std::string>& opts) {
  return {device + ", opts given", device, [device, opts](Kernel& k, size_t i) {
            k.gpu = get_device(device).codegen_options().gpu;
            const std::optional<std::vector<Opt>> parsed = parse_opts(i < opts.size() ? opts[i] : "");
            TT_CHECK(parsed, "fuzz: cannot read the Opts \"" << opts[i] << "\"");
            for (const Opt& o : *parsed) k.apply(o);
          }};
}

std::vector<std::vector<double>> run_way(const FuzzGraph& g, const Way& way, int64_t* kernels,
                                         std::vector<std::string>* applied) {
  const std::vector<LazyRef> outs = g.build(way.device);
  Device& device = get_device(way.device);
  // Each kernel's output, by the node it realizes (the engine would mark the node realized).
  std::unordered_map<LazyBuffer*, std::shared_ptr<Buffer>> made;
  if (!way.optimize) {
    *kernels += static_cast<int64_t>(create_schedule(outs).size());
    realize(outs);
  } else {
    const std::vector<ScheduleItem> items = create_schedule(outs);
    for (size_t i = 0; i < items.size(); ++i) {
      const ScheduleItem& item = items[i];
      TT_ASSERT(!item.is_copy);  // one device: no copies
      LazyBuffer* out = item.bufs[0]->base();
      auto buf = std::make_shared<Buffer>(device, out->dtype(), static_cast<size_t>(out->numel()));
      made[out] = buf;
      if (out->numel() == 0) continue;
      Kernel k(item.ast, buffer_args(item));
      way.optimize(k, i);
      if (applied != nullptr) applied->push_back(k.name() + ": " + to_string(k.applied));
      std::vector<void*> ptrs = {buf->ptr()};
      for (size_t j = 1; j < item.bufs.size(); ++j) {
        LazyBuffer* in = item.bufs[j]->base();
        std::shared_ptr<Buffer> b = in->realized() ? in->realized_buffer() : made.at(in);
        ptrs.push_back(b->ptr());
      }
      device.launch(*device.compile(lower_kernel(k, device.codegen_options())), ptrs);
      ++*kernels;
    }
    device.synchronize();
  }
  std::vector<std::vector<double>> values;
  for (const LazyRef& o : outs) {
    LazyBuffer* base = o->base();
    std::shared_ptr<Buffer> buf = base->realized() ? base->realized_buffer() : made.at(base);
    values.push_back(host_doubles(*buf));
  }
  return values;
}

}  // namespace tinyref::fuzz
