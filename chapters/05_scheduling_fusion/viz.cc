// Given: the schedule picture of viz.h.
#include "ch05/viz.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include "ch05/schedule.h"

namespace ch05 {

using ch04::LazyBuffer;
using ch04::LazyRef;

namespace {

// Graphviz's own copies of Brewer's "set3" (12 colours) and "pastel2" (8) schemes: 20 kernels
// get 20 colours, then they repeat.
std::string kernel_colour(size_t k) {
  k %= 20;
  return k < 12 ? "/set312/" + std::to_string(k + 1) : "/pastel28/" + std::to_string(k - 11);
}

bool is_constant(const LazyBuffer& b) { return b.op() == ch04::Op::CONST && !b.realized(); }

struct Drawing {
  std::vector<Kernel> kernels;
  std::vector<LazyBuffer*> nodes;                        // every base below outs, sources first
  std::map<const LazyBuffer*, size_t> written_by;        // realize point -> its kernel
  std::map<const LazyBuffer*, std::set<size_t>> in;      // computed node -> kernels computing it
};

void gather(LazyBuffer* b, std::set<const LazyBuffer*>& seen, std::vector<LazyBuffer*>& nodes) {
  if (!seen.insert(b).second) return;
  for (const LazyRef& s : b->srcs()) gather(s->base().get(), seen, nodes);
  nodes.push_back(b);
}

// Kernel k computes b, and everything below b that is neither a buffer nor a constant.
void spread(const LazyBuffer* b, size_t k, Drawing& d) {
  if (!d.in[b].insert(k).second) return;
  for (const LazyRef& s : b->srcs()) {
    const LazyBuffer* src = s->base().get();
    if (!src->realized() && !is_constant(*src) && !d.written_by.count(src)) spread(src, k, d);
  }
}

std::string node_attributes(const LazyBuffer& b, const Drawing& d) {
  if (is_constant(b)) {
    std::ostringstream value;
    value << b.arg().value;
    return "shape=plaintext, fontcolor=gray40, label=\"" + value.str() + "\"";
  }
  const std::string shape = ch04::shape_str(b.shape());
  if (b.realized()) return "shape=box, label=\"BUFFER\\n" + shape + "\"";
  std::string attrs = "shape=box, label=\"" + std::string(ch04::op_name(b.op())) + "\\n" + shape + "\"";
  if (auto it = d.in.find(&b); it != d.in.end()) {
    std::string fill;
    for (size_t k : it->second) fill += (fill.empty() ? "" : ":") + kernel_colour(k);
    attrs += std::string(", style=") + (it->second.size() > 1 ? "striped" : "filled") + ", fillcolor=\"" + fill + "\"";
  }
  if (d.written_by.count(&b)) attrs += ", peripheries=2";
  return attrs;
}

}  // namespace

std::string to_dot(const std::vector<LazyRef>& outs) {
  Drawing d;
  d.kernels = create_schedule(outs);
  std::set<const LazyBuffer*> seen;
  for (const LazyRef& o : outs) gather(o->base().get(), seen, d.nodes);
  for (size_t k = 0; k < d.kernels.size(); ++k) d.written_by[d.kernels[k].buffers[0].get()] = k;
  for (size_t k = 0; k < d.kernels.size(); ++k) spread(d.kernels[k].buffers[0].get(), k, d);

  int ops = 0;
  for (const LazyBuffer* b : d.nodes) ops += !b->realized() && !is_constant(*b);
  std::ostringstream dot;
  dot << "digraph schedule {\n"
      << "  rankdir=TB; newrank=true; fontname=\"Helvetica\";\n"
      << "  node [fontname=\"Helvetica\", fontsize=10]; edge [fontname=\"Helvetica\", fontsize=8];\n";
  dot << "  subgraph cluster_ops {\n    label=\"before fusion: " << ops << " ops\";\n";
  for (const LazyBuffer* b : d.nodes) dot << "    n" << b->id() << " [" << node_attributes(*b, d) << "];\n";
  for (const LazyBuffer* b : d.nodes) {
    for (const LazyRef& s : b->srcs()) {
      dot << "    n" << s->base()->id() << " -> n" << b->id();
      if (s->is_view() && !is_constant(*s->base())) dot << " [label=\"" << ch04::op_name(s->op()) << "\"]";
      dot << ";\n";
    }
  }
  dot << "  }\n  subgraph cluster_kernels {\n    label=\"after fusion: " << d.kernels.size() << " kernels\";\n";
  for (size_t k = 0; k < d.kernels.size(); ++k) {
    const Kernel& kernel = d.kernels[k];
    dot << "    k" << k << " [shape=box, style=filled, fillcolor=\"" << kernel_colour(k) << "\", label=\"k" << k << " "
        << kernel.name() << "\\n-> " << ch04::shape_str(kernel.buffers[0]->shape()) << "\"];\n";
  }
  for (size_t k = 0; k < d.kernels.size(); ++k) {
    std::set<size_t> inputs;  // the kernels whose outputs kernel k reads
    for (const LazyRef& b : d.kernels[k].buffers) {
      auto it = d.written_by.find(b.get());
      if (it != d.written_by.end() && it->second != k) inputs.insert(it->second);
    }
    for (size_t from : inputs) dot << "    k" << from << " -> k" << k << ";\n";
  }
  dot << "  }\n}\n";
  return dot.str();
}

std::optional<std::string> to_svg(const std::string& dot) {
  if (std::system("command -v dot > /dev/null 2>&1") != 0) return std::nullopt;
  char input[] = "/tmp/ch05_schedule_XXXXXX";
  const int fd = mkstemp(input);
  if (fd < 0) throw std::runtime_error("to_svg: cannot create a temporary file in /tmp");
  close(fd);
  std::ofstream(input) << dot;
  const std::string command = "dot -Tsvg " + std::string(input) + " 2>&1";
  std::string output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char block[1 << 12];
    for (size_t got; (got = std::fread(block, 1, sizeof(block), pipe)) > 0;) output.append(block, got);
    const int status = pclose(pipe);
    std::remove(input);
    if (status != 0) throw std::runtime_error("to_svg: dot failed: " + output.substr(0, 400));
    return output;
  }
  std::remove(input);
  throw std::runtime_error("to_svg: cannot run dot");
}

}  // namespace ch05
