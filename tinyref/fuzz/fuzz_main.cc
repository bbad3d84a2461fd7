// The differential fuzzer (fuzz.h) for as long as you like:
//
//   bazel run -c opt //tinyref/fuzz -- --graphs 2000 --seed 7
//   bazel run -c opt //tinyref/fuzz -- --graphs 200 --devices INTERP,CUDA   # on a GPU machine
//
// Prints progress, then each failure (its graph seed, what disagreed, the shrunk graph as code
// for fuzz_test.cc) and a summary line; exits 1 if anything failed.
#include <cstdio>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "tinyref/fuzz/fuzz.h"

int main(int argc, char** argv) {
  using namespace tinyref::fuzz;
  FuzzOptions o;
  std::string devices;
  bool no_shrink = false;
  CLI::App app{"random lazy graphs, realized every way tinyref can and compared", "fuzz"};
  app.add_option("--seed", o.seed, "run seed: graph i is random_graph(seed * 100000 + i)")->capture_default_str();
  app.add_option("--graphs", o.graphs, "how many graphs")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--devices", devices, "comma-separated devices (default: every one that opens here)");
  app.add_option("--random-ways", o.random_opt_ways, "random Opt sequences per graph on the interpreter")->capture_default_str();
  app.add_option("--compiled-random-ways", o.compiled_random_ways, "and on every other device")->capture_default_str();
  app.add_option("--max-steps", o.graph.max_steps, "ops per random graph, at most")->capture_default_str();
  app.add_flag("--no-shrink", no_shrink, "report failing graphs as generated");
  CLI11_PARSE(app, argc, argv);
  o.shrink = !no_shrink;
  std::istringstream list(devices);
  for (std::string d; std::getline(list, d, ',');) {
    if (!d.empty()) o.devices.push_back(d);
  }
  o.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  const FuzzReport r = fuzz(o);
  for (const FuzzFailure& f : r.failures) {
    std::printf("FAIL graph %llu (%zu nodes, shrunk to %zu): %s\n%s\n", static_cast<unsigned long long>(f.graph_seed),
                f.nodes, f.shrunk_nodes, f.what.c_str(), f.code.c_str());
  }
  std::string on;
  for (const std::string& d : r.devices) on += (on.empty() ? "" : ", ") + d;
  std::printf("fuzz: seed %llu: %d graphs, %lld ways, %lld kernels on %s: %zu failing\n",
              static_cast<unsigned long long>(o.seed), r.graphs_tried, static_cast<long long>(r.ways),
              static_cast<long long>(r.kernels), on.c_str(), r.failures.size());
  return r.failures.empty() ? 0 : 1;
}
