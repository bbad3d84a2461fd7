// The ways of realizing a graph that the fuzzer compares (fuzz.h), and running one. Each runs
// in the fuzzer's child process: a way may crash.
//
//   for (const Way& w : ways_for({"INTERP", "CPU"}, options, seed)) {
//     std::vector<std::vector<double>> got = run_way(graph, w, &kernels);
//   }
#ifndef TINYREF_FUZZ_WAYS_H_
#define TINYREF_FUZZ_WAYS_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "tinyref/codegen/kernel.h"
#include "tinyref/fuzz/fuzz.h"
#include "tinyref/fuzz/graph.h"

namespace tinyref::fuzz {

struct Way {
  std::string name;    // "CPU, opts #0"
  std::string device;
  // How kernel i of the schedule is optimized before it is linearized; absent: the engine's
  // own realize() does everything.
  std::function<void(Kernel& k, size_t i)> optimize;
};

// The ways for these devices (a GPU device's come from its kernels' variant counts, so from the
// graph: `g`).
std::vector<Way> ways_for(const FuzzGraph& g, const std::vector<std::string>& devices, const FuzzOptions& options,
                          uint64_t seed);

// Every output of `g`, realized as `way` says, as doubles; adds the kernels run to *kernels,
// and if `applied` is given, each kernel's name and Opts ("r_4_8: upcast 0 4") to it.
std::vector<std::vector<double>> run_way(const FuzzGraph& g, const Way& way, int64_t* kernels,
                                         std::vector<std::string>* applied = nullptr);

// A way that gives the schedule's kernel i the Opts opts[i] (text, as run_way reports them):
// how a regression test pins the Opts that once failed.
Way way_with_opts(const std::string& device, const std::vector<std::string>& opts);

// A few Opts that apply, picked at random (kinds a CPU kernel takes): what a fuzzer of the
// optimizer tries beyond the heuristics' own choices.
void apply_random_opts(Kernel& k, std::mt19937_64& rng);

}  // namespace tinyref::fuzz

#endif  // TINYREF_FUZZ_WAYS_H_
