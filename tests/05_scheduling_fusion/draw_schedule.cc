// draw_schedule: a graph before and after fusion, drawn by your scheduler and by tinyref's, as
// Graphviz DOT and (when Graphviz is installed) SVG. By default one SGD step of the milestone's
// MLP (784-128-10, batch 64); or any row of the graph table whose name contains the argument.
//
//   bazel run //tests/05_scheduling_fusion:draw_schedule -- "" /tmp/mlp
//       /tmp/mlp.ours.dot, /tmp/mlp.ours.svg, /tmp/mlp.tinyref.dot, /tmp/mlp.tinyref.svg
//   bazel run //tests/05_scheduling_fusion:draw_schedule -- softmax /tmp/softmax
//
// Built on //chapters:ch05 (your code); `--define ch05=solution --define ch04=solution` draws
// the solution's. Nothing runs: drawing only schedules.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>

#include "ch05/schedule.h"
#include "ch05/viz.h"
#include "tests/05_scheduling_fusion/graphs.h"
#include "tinyref/schedule/viz.h"

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
  std::cout << "wrote " << path << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "";
  // `bazel run` starts in the runfiles: relative paths are taken from where it was typed.
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  std::string prefix = argc > 2 ? argv[2] : "schedule";
  if (cwd != nullptr && !prefix.empty() && prefix[0] != '/') prefix = std::string(cwd) + "/" + prefix;
  try {
    std::mt19937_64 rng(1);
    std::vector<dual::Dual> outs;
    if (which.empty()) {
      outs = graphs::mlp_step(rng, {.batch = 64, .in = 784, .hidden = 128, .classes = 10});
    } else {
      for (const graphs::GraphCase& g : graphs::graph_table()) {
        if (outs.empty() && g.name.find(which) != std::string::npos) {
          std::cout << "graph: " << g.name << "\n";
          outs = g.build(rng);
        }
      }
      if (outs.empty()) throw std::runtime_error("no graph of the table has \"" + which + "\" in its name");
    }
    std::vector<ch04::LazyRef> ours;
    std::vector<tinyref::LazyRef> refs;
    for (const dual::Dual& d : outs) {
      ours.push_back(d.ours.lazy());
      refs.push_back(d.ref.lazy());
    }
    const std::string our_dot = ch05::to_dot(ours), ref_dot = tinyref::schedule_dot(refs);
    write(prefix + ".ours.dot", our_dot);
    write(prefix + ".tinyref.dot", ref_dot);
    const std::optional<std::string> our_svg = ch05::to_svg(our_dot), ref_svg = tinyref::dot_to_svg(ref_dot);
    if (!our_svg || !ref_svg) {
      std::cout << "Graphviz's dot is not installed (./course setup installs it): DOT files only\n";
      return 0;
    }
    write(prefix + ".ours.svg", *our_svg);
    write(prefix + ".tinyref.svg", *ref_svg);
    std::cout << "kernels: yours " << ch05::count_kernels(ours) << ", tinyref's " << tinyref::count_kernels([&] {
      std::vector<tinyref::Tensor> t;
      for (const dual::Dual& d : outs) t.push_back(d.ref);
      return t;
    }()) << "\n";
    return 0;
  } catch (const std::exception& e) {
    // Before tasks ch05.1 to ch05.3 are done, this is where you land.
    std::cerr << "draw_schedule: " << e.what() << "\n";
    return 1;
  }
}
