// mnist_cpu: tinyref against PyTorch on the two MNIST workloads of `./course mnist`, on the CPU,
// in one run on the same machine.
//
//   bazel run --config=opt //bench:mnist_cpu                 # ./course bench mnist_cpu
//   bazel run --config=opt //bench:mnist_cpu -- --cnn-steps 10   # a quicker, rougher run
//
//   RESULT name=mnist_cpu.cpu_peak_gflops ours=412.7 anchor=412.7 ratio=1 isa=avx512 threads=2
//   RESULT name=mnist_cpu.cnn_step_seconds ours=... anchor=... ratio=... floor=0.098 ours_floor_fraction=...
//   RESULT name=mnist_cpu.mlp_epoch_seconds ours=... anchor=... ratio=... floor=0.059 ...
//   RESULT name=mnist_cpu.cnn_test_accuracy ...   RESULT name=mnist_cpu.mlp_test_accuracy ...
//   RESULT name=mnist_cpu.cnn_peak_rss_mb ...     (ratio = ours / anchor throughout)
//
// The workloads (tools/mnist/train.h, bench/anchors/torch_mnist.py): cnn is beautiful_mnist
// (Adam 1e-3, batch 512 with replacement, 70 steps; the median step after 3 warm-up steps);
// mlp is 784-128-10 with SGD 0.1, batch 64, one shuffled epoch (its wall time, kernels
// compiled beforehand). Each run is a child process, so its peak resident memory is the
// kernel's own count (wait4's ru_maxrss, what /usr/bin/time -v prints).
//
// PyTorch is Debian's python3-torch run by /usr/bin/python3, installed on demand together with
// OpenBLAS (without it torch falls back to the reference BLAS, ~10x slower on the MLP); `--python`
// names another Python whose torch is used as it is (the GPU machine's pip torch, say). It
// gets its best setting: 1 and 2 torch threads (OPENBLAS_NUM_THREADS to match), the faster
// kept per workload. tinyref's MLP is given the same choice of 1 or 2 OpenMP threads; its CNN
// runs on both cores.
//
// Floors: the workload's FLOPs at this machine's float32 peak, measured first in the same run
// (bench/cpu_peak.h: FMAs on the widest vectors, both cores). floor_fraction = floor / time.
// The CPU model and the peak are printed, so a reader knows which machine the numbers are from.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/cpu_peak.h"
#include "datasets/mnist.h"
#include "tinyref/error.h"
#include "tools/mnist/train.h"

namespace {

using bench::Child;
using bench::median;
using bench::spawn;
using nlohmann::json;

// FLOPs (a multiply-add is 2), counted from the models. The CNN step, batch 512: its four convs
// and the linear layer forward (26.4 MFLOP an image), backward twice that less conv1's input
// gradient: 40.6 GFLOP. The MLP epoch, 60000 images: forward 2 * (784*128 + 128*10) a image,
// backward the two weight gradients and the second layer's input gradient: 24.5 GFLOP.
constexpr double kCnnStepFlops = 40.6e9;
constexpr double kMlpEpochFlops = 60000.0 * 2 * (784 * 128 + 128 * 10 + 784 * 128 + 128 * 10 + 128 * 10);
// The goals: tinyref's CNN step at most 2.5x PyTorch's, its MLP epoch at most 2x;
// accuracies of at least 98.0% (CNN, 70 steps) and 95.5% (MLP, one epoch).
constexpr double kCnnMaxRatio = 2.5, kMlpMaxRatio = 2.0, kCnnMinAccuracy = 0.980, kMlpMinAccuracy = 0.955;

// ---------------------------------------------------------------- child: one tinyref workload

int child(const std::string& workload, int steps) {
  const datasets::Mnist train = datasets::load_mnist("train"), test = datasets::load_mnist("test");
  mnist_tool::TrainConfig c = mnist_tool::defaults_for(workload);
  c.device = "CPU";
  c.eval_every = 0;  // only the final accuracy, outside the timed steps
  json out = {{"workload", workload}, {"device", c.device}};
  if (workload == "cnn") {
    c.steps = steps;
    mnist_tool::Trainer trainer(c, train, test);
    mnist_tool::TrainResult r = trainer.run();
    const size_t warmup = std::min<size_t>(3, r.step_seconds.size() - 1);
    out["step_seconds_median"] = median({r.step_seconds.begin() + static_cast<long>(warmup), r.step_seconds.end()});
    out["first_step_seconds"] = r.step_seconds.front();
    out["steps"] = r.steps;
    out["final_loss"] = r.final_loss;
    out["test_accuracy"] = r.test_accuracy;
  } else {
    // Compile every kernel of the epoch first (full batches of 64 and the last one of 32), as
    // PyTorch has nothing to compile; the in-process cache then serves the timed epoch.
    for (int batch : {64, 60000 % 64}) {
      mnist_tool::TrainConfig warm = c;
      warm.batch = batch;
      warm.steps = 2;
      mnist_tool::Trainer(warm, train, test).run();
    }
    mnist_tool::Trainer trainer(c, train, test);
    mnist_tool::TrainResult r = trainer.run();
    out["epoch_seconds"] = r.train_seconds;
    out["steps"] = r.steps;
    out["test_accuracy"] = r.test_accuracy;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// ---------------------------------------------------------------- parent: processes

constexpr const char* kDebianPython = "/usr/bin/python3";

bool shell_ok(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

// python3-torch and OpenBLAS from Debian, installed when missing (sudo when not root).
void ensure_torch() {
  const bool torch = shell_ok(std::string(kDebianPython) + " -c 'import torch'");
  const bool openblas = shell_ok("dpkg-query -W -f='${Status}' libopenblas0-pthread | grep -q 'ok installed'");
  if (torch && openblas) return;
  std::fprintf(stderr, "mnist_cpu: installing python3-torch and libopenblas0-pthread (Debian packages)\n");
  const std::string sudo = geteuid() == 0 ? "" : "sudo ";
  const std::string install = sudo + "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch libopenblas0-pthread";
  if (std::system(install.c_str()) != 0) {
    (void)!std::system((sudo + "apt-get update -q").c_str());  // a failure shows in the retry
    TT_CHECK(std::system(install.c_str()) == 0, "mnist_cpu: could not install python3-torch and libopenblas0-pthread");
  }
}

// The best (smallest) value of `key` over runs, with the run it came from.
std::optional<std::pair<json, Child>> best_of(const std::vector<Child>& runs, const std::string& workload,
                                              const std::string& key) {
  std::optional<std::pair<json, Child>> best;
  for (const Child& c : runs) {
    for (const json& j : c.lines) {
      if (j.value("workload", "") != workload || !j.contains(key)) continue;
      if (!best || j[key].get<double>() < best->first[key].get<double>()) best = {{j, c}};
    }
  }
  return best;
}

void result(const std::string& name, double ours, double anchor, const std::string& extra = "") {
  bench::print_result("mnist_cpu." + name, ours, anchor, extra);
}

std::string floor_note(double floor, double ours, double anchor) {
  char b[160];
  std::snprintf(b, sizeof b, " floor=%.3f ours_floor_fraction=%.3f anchor_floor_fraction=%.3f", floor, floor / ours,
                floor / anchor);
  return b;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

int parent(const std::string& self, const std::string& python, int cnn_steps, bool skip_cnn) {
  TT_CHECK(datasets::mnist_available(), "mnist_cpu: MNIST is not downloaded (run ./course setup)");
  // Before anything else runs: the peak the floors are measured against.
  const bench::CpuPeak peak = bench::measure_cpu_peak(2);
  std::printf("machine: %s, %ld logical CPUs; float32 peak %.1f GFLOP/s (%s, %d threads)\n", cpu_model().c_str(),
              ::sysconf(_SC_NPROCESSORS_ONLN), peak.gflops, peak.isa.c_str(), peak.threads);
  result("cpu_peak_gflops", peak.gflops, peak.gflops, " isa=" + peak.isa + " threads=" + std::to_string(peak.threads));
  const double cnn_floor = kCnnStepFlops / (peak.gflops * 1e9), mlp_floor = kMlpEpochFlops / (peak.gflops * 1e9);
  const std::string data = std::filesystem::canonical(datasets::find_mnist_dir()).string();
  if (python == kDebianPython) ensure_torch();
  const std::string script = "bench/anchors/torch_mnist.py";  // a runfile; `bazel run` starts in the runfiles
  TT_CHECK(std::filesystem::exists(script), "mnist_cpu: " << script << " not found (run through bazel run)");

  std::vector<std::string> workloads = {"mlp"};
  if (!skip_cnn) workloads.push_back("cnn");
  std::vector<Child> torch_runs, ours_runs;
  for (const std::string& w : workloads) {
    for (int threads : {1, 2}) {
      std::fprintf(stderr, "mnist_cpu: PyTorch %s, %d thread(s)\n", w.c_str(), threads);
      const std::string t = std::to_string(threads);
      torch_runs.push_back(spawn({python, script, "--data", data, "--workload", w, "--threads", t,
                                  "--steps", std::to_string(cnn_steps)},
                                 {{"OPENBLAS_NUM_THREADS", t}, {"OMP_NUM_THREADS", t}}));
      for (json& j : torch_runs.back().lines) j["threads"] = threads;
      if (w == "cnn" && threads == 1) continue;  // tinyref's CNN runs on both cores only
      std::fprintf(stderr, "mnist_cpu: tinyref %s, %d thread(s)\n", w.c_str(), threads);
      ours_runs.push_back(spawn({self, "--child", w, "--cnn-steps", std::to_string(cnn_steps)},
                                {{"OMP_NUM_THREADS", t}}));
      for (json& j : ours_runs.back().lines) j["threads"] = threads;
    }
  }
  for (const Child& c : torch_runs) TT_CHECK(c.rc == 0, "mnist_cpu: the PyTorch run failed (exit " << c.rc << ")");
  for (const Child& c : ours_runs) TT_CHECK(c.rc == 0, "mnist_cpu: a tinyref run failed (exit " << c.rc << ")");

  for (const Child& c : torch_runs) for (const json& j : c.lines) std::printf("pytorch %s\n", j.dump().c_str());
  for (const Child& c : ours_runs) for (const json& j : c.lines) std::printf("tinyref %s\n", j.dump().c_str());

  auto mlp_t = best_of(torch_runs, "mlp", "epoch_seconds"), mlp_o = best_of(ours_runs, "mlp", "epoch_seconds");
  TT_CHECK(mlp_t && mlp_o, "mnist_cpu: a run printed no MLP result");
  const double mt = mlp_t->first["epoch_seconds"], mo = mlp_o->first["epoch_seconds"];
  result("mlp_epoch_seconds", mo, mt,
         floor_note(mlp_floor, mo, mt) + " ours_threads=" + mlp_o->first["threads"].dump() +
             " anchor_threads=" + mlp_t->first["threads"].dump());
  result("mlp_test_accuracy", mlp_o->first["test_accuracy"], mlp_t->first["test_accuracy"]);
  result("mlp_peak_rss_mb", mlp_o->second.peak_rss_mb, mlp_t->second.peak_rss_mb);
  bool ok = mo / mt <= kMlpMaxRatio && mlp_o->first["test_accuracy"].get<double>() >= kMlpMinAccuracy;
  if (!skip_cnn) {
    auto cnn_t = best_of(torch_runs, "cnn", "step_seconds_median"), cnn_o = best_of(ours_runs, "cnn", "step_seconds_median");
    TT_CHECK(cnn_t && cnn_o, "mnist_cpu: a run printed no CNN result");
    const double ct = cnn_t->first["step_seconds_median"], co = cnn_o->first["step_seconds_median"];
    result("cnn_step_seconds", co, ct,
           floor_note(cnn_floor, co, ct) + " steps=" + std::to_string(cnn_steps) +
               " anchor_threads=" + cnn_t->first["threads"].dump());
    result("cnn_test_accuracy", cnn_o->first["test_accuracy"], cnn_t->first["test_accuracy"],
           " steps=" + std::to_string(cnn_steps));
    result("cnn_peak_rss_mb", cnn_o->second.peak_rss_mb, cnn_t->second.peak_rss_mb);
    ok = ok && co / ct <= kCnnMaxRatio &&
         (cnn_steps != 70 || cnn_o->first["test_accuracy"].get<double>() >= kCnnMinAccuracy);
  }
  if (skip_cnn) {
    std::printf("goals (MLP epoch <= %.1fx PyTorch, >= %.1f%%; the CNN was skipped): %s\n", kMlpMaxRatio,
                100 * kMlpMinAccuracy, ok ? "met" : "NOT met");
  } else {
    std::printf("goals (CNN step <= %.1fx PyTorch, >= %.1f%% after 70 steps; MLP epoch <= %.1fx, >= %.1f%%): %s\n",
                kCnnMaxRatio, 100 * kCnnMinAccuracy, kMlpMaxRatio, 100 * kMlpMinAccuracy, ok ? "met" : "NOT met");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinyref vs PyTorch on MNIST, CPU (beautiful_mnist CNN step and MLP epoch)", "mnist_cpu"};
  int cnn_steps = 70;
  bool skip_cnn = false;
  std::string child_workload;
  std::string python = kDebianPython;
  app.add_option("--cnn-steps", cnn_steps, "CNN steps (70 is the workload; fewer for a rough timing)")
      ->check(CLI::Range(4, 100000))
      ->capture_default_str();
  app.add_flag("--skip-cnn", skip_cnn, "time the MLP only");
  app.add_option("--python", python, "the Python that runs PyTorch (Debian's is installed when missing; another is used as is)")
      ->capture_default_str();
  app.add_option("--child", child_workload, "internal: run one tinyref workload and print its JSON")
      ->check(CLI::IsMember({"cnn", "mlp"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "mnist_cpu: %s\n\n%s", e.what(), app.help().c_str());
    return 2;
  }
  try {
    if (!child_workload.empty()) return child(child_workload, cnn_steps);
    return parent(std::filesystem::canonical("/proc/self/exe").string(), python, cnn_steps, skip_cnn);
  } catch (const tinyref::Error& e) {
    std::fprintf(stderr, "mnist_cpu: %s\n", e.what());
    return 1;
  }
}
