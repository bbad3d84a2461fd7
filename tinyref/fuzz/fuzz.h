// The differential fuzzer (tinygrad's fuzz_linearizer and fuzz_schedule, in one): random lazy
// graphs (graph.h) with movement ops (pad, shrink, flip, reshapes that need a second view),
// elementwise ops of every kind, reduces over random axes and several outputs sharing inputs,
// each realized every way tinyref can and compared with an oracle that needs no scheduler and
// no codegen (reference.h):
//
//   INTERP, plain      every kernel unoptimized, interpreted: the IR's own semantics
//   INTERP, optimized  the CPU optimizer's choices, interpreted
//   INTERP, opts #r    random sequences of legal Opts (opt.h), interpreted
//   CPU, optimized / CPU, opts #r / CPU, engine    the same compiled, and realize() itself
//   <GPU device>, variant v   every kernel's v-th search variant (gpu_variants), on any device
//                             whose codegen options say gpu: CUDA on a GPU, an emulator
//
// Exact values (sums and products of the inputs' multiples of 1/4) must agree bit for bit;
// the rest within a tolerance that scales with their magnitude (FuzzNode::bound). A graph is
// checked in a child process, so a kernel that crashes or hangs is a failure too. A failing
// graph is shrunk (nodes bypassed or cut into inputs while it still fails) and printed as code.
//
//   FuzzReport r = fuzz({.seed = 1, .graphs = 40});
//   r.graphs_tried, r.failures[0].code       // paste the code into fuzz_test.cc's regressions
//
// A long run: bazel run -c opt //tinyref/fuzz -- --graphs 2000 --seed 7
#ifndef TINYREF_FUZZ_FUZZ_H_
#define TINYREF_FUZZ_FUZZ_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "tinyref/fuzz/graph.h"

namespace tinyref::fuzz {

struct FuzzOptions {
  uint64_t seed = 1;
  int graphs = 40;
  // Devices to realize on; empty: every registered device that opens here.
  std::vector<std::string> devices;
  // The device that runs kernels without compiling them: it also runs them unoptimized, and
  // under most of the random Opt sequences.
  std::string interpreter = "INTERP";
  int random_opt_ways = 3;       // random Opt sequences per graph on the interpreter
  int compiled_random_ways = 1;  // and on each other device (each a compile per kernel)
  bool shrink = true;
  int timeout_seconds = 300;    // per graph, in its child process
  RandomGraphOptions graph;
  std::function<void(const std::string&)> log;  // progress, if set
};

struct FuzzFailure {
  uint64_t graph_seed = 0;  // random_graph(graph_seed) is the graph before shrinking
  std::string what;         // which way disagreed, where, expected against got
  std::string code;         // the shrunk graph, as FuzzGraph calls
  size_t nodes = 0, shrunk_nodes = 0;
};

struct FuzzReport {
  int graphs_tried = 0;
  int64_t kernels = 0;     // kernels each way ran, summed over graphs and ways
  int64_t ways = 0;        // graphs x ways
  std::vector<std::string> devices;
  std::vector<FuzzFailure> failures;
};

FuzzReport fuzz(const FuzzOptions& options);

// What a graph's check found: ok, with counts, or the first disagreement.
struct CheckResult {
  bool ok = true;
  std::string what;
  int64_t kernels = 0, ways = 0;
  std::vector<std::string> devices;
};
// Checks one graph, in a child process. `way_seed` seeds its random Opt sequences.
CheckResult check_graph(const FuzzGraph& g, const FuzzOptions& options, uint64_t way_seed);
// One way only: on `device`, the schedule's kernel i given the Opts opts[i] (as a failure
// reports them). What a regression test pins.
CheckResult check_with_opts(const FuzzGraph& g, const std::string& device, const std::vector<std::string>& opts);

// Runs f in a child process (fork), so that a crash or a hang there is a result here: f's
// string if it finished, else why not ("crashed: Illegal instruction"). What f writes to
// `progress` comes back too. The caller must not have run OpenMP or opened a GPU yet: neither
// survives a fork, which is why the fuzzer's parent only generates and shrinks graphs.
struct ChildResult {
  bool finished = false;
  std::string result, progress;
};
ChildResult in_child(const std::function<std::string(FILE* progress)>& f, int timeout_seconds);

// The smallest graph the greedy passes find on which `fails` still holds.
FuzzGraph shrink(const FuzzGraph& g, const std::function<bool(const FuzzGraph&)>& fails);

}  // namespace tinyref::fuzz

#endif  // TINYREF_FUZZ_FUZZ_H_
