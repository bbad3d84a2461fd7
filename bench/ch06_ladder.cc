// ch06_ladder: what each loop transformation of chapter 6 buys, one rung at a time (llm.c's
// ladder of kernel versions, for loop transformations), on a matmul and on MNIST's second
// convolution. Each rung adds one transformation to the rung below; each rung's output is
// checked against the plain loops' before it is timed; tinyref's CPU backend computing the same
// op is the anchor, measured in the same run.
//
//   bazel run --config=opt //bench:ch06_ladder                        # ./course bench ch06_ladder: yours
//   bazel run --config=opt --define ch04=solution --define ch05=solution --define ch06=solution
//       //bench:ch06_ladder -- --threads 1                           # the solution's, on one core
//
//   matmul 512x512x512, 2 threads
//     rung                      GFLOP/s    ms      loops
//     plain loops                  1.9   140.2     gidx0<512 gidx1<512 ridx0<512
//     + parallel                   ...
//   RESULT name=ch06_ladder.matmul ours=<top rung GFLOP/s> anchor=<tinyref GFLOP/s> ratio=...
//   RESULT name=ch06_ladder.conv2d ...
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "ch04/tensor.h"
#include "ch05/runner.h"
#include "ch05/schedule.h"
#include "ch06/cpu_runner.h"
#include "ch06/loop_kernel.h"
#include "tinyref/tensor.h"

namespace {

using ch06::OptimizeOptions;

struct Rung {
  const char* name;
  std::function<void(OptimizeOptions&)> add;
};

// The rungs, in the order of the chapter's tasks 7-11, each on top of the ones above it.
const std::vector<Rung> kRungs = {
    {"plain loops", [](OptimizeOptions&) {}},
    {"+ parallel (ch06.7)", [](OptimizeOptions& o) { o.parallel = true; }},
    {"+ reorder (ch06.8)", [](OptimizeOptions& o) { o.reorder = true; }},
    {"+ upcast (ch06.9)", [](OptimizeOptions& o) { o.upcast = true; }},
    {"+ registers (ch06.10)", [](OptimizeOptions& o) { o.registers = true; }},
    {"+ tile (ch06.11)", [](OptimizeOptions& o) { o.tile = true; }},
};

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Median time of f over `runs` runs, after one warm-up run.
double median_time(const std::function<void()>& f, int runs) {
  f();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) t.push_back(seconds(f));
  return bench::median(t);
}

std::vector<double> random_values(std::mt19937_64& rng, int64_t n) {
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = normal(rng);
  return v;
}

// One workload: the op built in both frameworks from the same numbers.
struct Workload {
  std::string name;
  ch04::Tensor ours;
  std::function<tinyref::Tensor()> anchor;  // builds tinyref's op afresh (realizing runs it)
};

// Realizes everything the op's biggest kernel reads, then climbs the ladder on that kernel.
double climb(const Workload& w, int runs) {
  std::vector<ch05::Kernel> kernels = ch05::create_schedule({w.ours.lazy()});
  size_t big = 0;
  int64_t flops = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const int64_t f = ch06::LoopKernel(kernels[i]).flops;
    if (f > flops) {
      flops = f;
      big = i;
    }
  }
  {  // the kernels before the big one make its inputs
    ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(std::make_shared<ch06::CpuRunner>()));
    std::vector<ch04::LazyRef> inputs(kernels[big].buffers.begin() + 1, kernels[big].buffers.end());
    ch04::realize(inputs);
  }
  const ch05::Kernel& k = kernels[big];
  std::vector<ch04::Buffer*> bufs;
  ch04::Buffer out(k.buffers[0]->dtype(), ch04::prod(k.output_shape()));
  bufs.push_back(&out);
  for (size_t i = 1; i < k.buffers.size(); ++i) bufs.push_back(k.buffers[i]->buffer().get());

  std::printf("\n%s (%s), %d threads, %.2f GFLOP\n  %-24s %9s %9s   %s\n", w.name.c_str(), k.name().c_str(),
              omp_get_max_threads(), static_cast<double>(flops) * 1e-9, "rung", "GFLOP/s", "ms", "loops");
  OptimizeOptions o = OptimizeOptions::none();
  std::vector<double> reference;
  double top = 0;
  for (const Rung& rung : kRungs) {
    rung.add(o);
    ch06::CpuRunner runner(o);
    const ch06::CompiledKernel& c = runner.compile(k);
    const double t = median_time([&] { runner.run(k, bufs); }, runs);
    std::vector<double> got(static_cast<size_t>(out.numel));
    for (int64_t i = 0; i < out.numel; ++i) got[i] = out.get(i);
    if (reference.empty()) reference = got;
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::abs(got[i] - reference[i]));
      scale = std::max(scale, std::abs(reference[i]));
    }
    top = static_cast<double>(flops) / t * 1e-9;
    std::printf("  %-24s %9.2f %9.2f   %s%s\n", rung.name, top, t * 1e3, c.loops.c_str(),
                worst > 1e-4 * scale ? "   WRONG: differs from the plain loops" : "");
    std::fflush(stdout);
  }
  const double anchor_time = median_time([&] { w.anchor().realize(); }, runs);
  const double anchor = static_cast<double>(flops) / anchor_time * 1e-9;
  std::printf("  %-24s %9.2f %9.2f\n", "tinyref (anchor)", anchor, anchor_time * 1e3);
  bench::print_result("ch06_ladder." + w.name, top, anchor, " unit=GFLOP/s threads=" + std::to_string(omp_get_max_threads()));
  return top;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chapter 6's loop transformations, one rung at a time"};
  int size = 512, batch = 64, threads = 0, runs = 5;
  app.add_option("--size", size, "the matmul's n (n x n times n x n)");
  app.add_option("--batch", batch, "the convolution's batch (MNIST's conv2: 32 -> 32 channels, 5x5, 24x24 images)");
  app.add_option("--threads", threads, "OpenMP threads (0: OpenMP's default)");
  app.add_option("--runs", runs, "timed runs per rung (the median is printed)");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) omp_set_num_threads(threads);
  std::mt19937_64 rng(1);
  auto pair = [&](const ch04::Shape& shape) {
    const std::vector<double> v = random_values(rng, ch04::prod(shape));
    return std::pair{ch04::Tensor::from_vector(v, shape), tinyref::Tensor(std::vector<float>(v.begin(), v.end()), shape)};
  };
  const int64_t n = size;
  auto [a, ra] = pair({n, n});
  auto [b, rb] = pair({n, n});
  climb({"matmul", a.matmul(b), [&, ra = ra, rb = rb] { return ra.matmul(rb); }}, runs);
  auto [x, rx] = pair({batch, 32, 24, 24});
  auto [w, rw] = pair({32, 32, 5, 5});
  climb({"conv2d", x.conv2d(w), [&, rx = rx, rw = rw] { return rx.conv2d(rw); }}, runs);
  return 0;
}
