#include "tinyref/schedule/viz.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include "tinyref/env.h"
#include "tinyref/error.h"
#include "tinyref/schedule/schedule.h"

namespace tinyref {

namespace {

// Brewer's Set3 and Pastel2: twenty light colours that black text stays readable on.
const char* const kPalette[] = {"#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69",
                                "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#b3e2cd", "#fdcdac",
                                "#cbd5e8", "#f4cae4", "#e6f5c9", "#fff2ae", "#f1e2cc", "#cccccc"};

std::string colour(size_t kernel) { return kPalette[kernel % (sizeof(kPalette) / sizeof(kPalette[0]))]; }

std::string dims(const Shape& s, const char* sep) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? sep : "") + std::to_string(s[i]);
  return out;
}

// "r_16_32_784" for a reduce over a (16, 32, 784) input, "E_16_16" for elementwise: the kernel's
// shape, as tinygrad names kernels.
std::string kernel_name(const ScheduleItem& item) {
  if (item.is_copy) return "copy";
  const AstNode* reduce = nullptr;
  std::vector<const AstNode*> stack = {item.ast.get()};
  while (!stack.empty() && reduce == nullptr) {
    const AstNode* n = stack.back();
    stack.pop_back();
    if (is_reduce(n->op)) reduce = n;
    for (const AstRef& s : n->src) stack.push_back(s.get());
  }
  if (reduce == nullptr) return "E_" + dims(item.ast->st.shape(), "_");
  const AstNode* leaf = reduce;
  while (!leaf->src.empty()) leaf = leaf->src[0].get();
  return "r_" + dims(leaf->st.shape(), "_");
}

class Picture {
 public:
  explicit Picture(const std::vector<LazyRef>& outs) : items_(create_schedule(outs)) {
    for (const LazyRef& o : outs) collect(o->base());
    for (size_t k = 0; k < items_.size(); ++k) writers_[items_[k].bufs[0]->base()] = k;
    for (size_t k = 0; k < items_.size(); ++k) mark(items_[k].bufs[0]->base(), k, true);
  }

  std::string dot() const {
    std::ostringstream os;
    os << "digraph schedule {\n  rankdir=TB; newrank=true; fontname=\"Helvetica\";\n"
       << "  node [fontname=\"Helvetica\", fontsize=10]; edge [fontname=\"Helvetica\", fontsize=8];\n"
       << "  subgraph cluster_ops {\n    label=\"before fusion: " << ops() << " ops\";\n";
    for (LazyBuffer* b : order_) os << "    " << node_line(b) << "\n";
    for (LazyBuffer* b : order_) {
      for (const LazyRef& s : b->srcs()) {
        os << "    n" << s->base()->id() << " -> n" << b->id();
        const bool constant = s->base()->op() == Op::CONST && !s->realized();
        if (s->is_view() && !constant) os << " [label=\"" << op_name(s->op()) << "\"]";
        os << ";\n";
      }
    }
    os << "  }\n  subgraph cluster_kernels {\n    label=\"after fusion: " << items_.size() << " kernels\";\n";
    for (size_t k = 0; k < items_.size(); ++k) {
      os << "    k" << k << " [shape=box, style=filled, fillcolor=\"" << colour(k) << "\", label=\"k" << k << " "
         << kernel_name(items_[k]) << "\\n-> (" << dims(items_[k].bufs[0]->shape(), ", ") << ")\"];\n";
    }
    for (size_t k = 0; k < items_.size(); ++k) {
      std::set<size_t> from;
      for (size_t j = 1; j < items_[k].bufs.size(); ++j) {
        auto w = writers_.find(items_[k].bufs[j]->base());
        if (w != writers_.end()) from.insert(w->second);
      }
      for (size_t f : from) os << "    k" << f << " -> k" << k << ";\n";
    }
    os << "  }\n}\n";
    return os.str();
  }

 private:
  void collect(LazyBuffer* b) {
    if (!seen_.insert(b).second) return;
    for (const LazyRef& s : b->srcs()) collect(s->base());
    order_.push_back(b);
  }

  // Puts b (and what it computes inside the same kernel) into kernel k.
  void mark(LazyBuffer* b, size_t k, bool root) {
    if (!root && (b->realized() || b->op() == Op::CONST || writers_.count(b))) return;
    if (!kernels_of_[b].insert(k).second) return;
    for (const LazyRef& s : b->srcs()) mark(s->base(), k, false);
  }

  int ops() const {
    int n = 0;
    for (LazyBuffer* b : order_) n += !b->realized() && b->op() != Op::CONST;
    return n;
  }

  std::string node_line(LazyBuffer* b) const {
    std::ostringstream os;
    os << "n" << b->id() << " [";
    if (b->op() == Op::CONST && !b->realized()) {
      os << "shape=plaintext, fontcolor=\"#666666\", label=\"" << b->arg().value << "\"]";
      return os.str();
    }
    const std::string shape = "(" + dims(b->shape(), ", ") + ")";
    if (b->realized()) {
      os << "shape=box, label=\"BUFFER\\n" << shape << "\"]";
      return os.str();
    }
    os << "shape=box, label=\"" << op_name(b->op()) << "\\n" << shape << "\"";
    auto it = kernels_of_.find(b);
    if (it != kernels_of_.end()) {
      std::string fill;
      for (size_t k : it->second) fill += (fill.empty() ? "" : ":") + colour(k);
      os << ", style=" << (it->second.size() > 1 ? "striped" : "filled") << ", fillcolor=\"" << fill << "\"";
    }
    if (writers_.count(b)) os << ", peripheries=2";
    os << "]";
    return os.str();
  }

  std::vector<ScheduleItem> items_;
  std::vector<LazyBuffer*> order_;  // every base the outputs need, sources first
  std::set<LazyBuffer*> seen_;
  std::map<LazyBuffer*, size_t> writers_;              // realize point -> the kernel writing it
  std::map<LazyBuffer*, std::set<size_t>> kernels_of_;  // computed node -> the kernels computing it
};

}  // namespace

std::string schedule_dot(const std::vector<LazyRef>& outs) { return Picture(outs).dot(); }

std::optional<std::string> dot_to_svg(const std::string& dot) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) return std::nullopt;
  char path[] = "/tmp/tinyref_viz_XXXXXX";
  const int fd = mkstemp(path);
  TT_CHECK(fd >= 0, "dot_to_svg: cannot create a temporary file in /tmp");
  close(fd);
  std::ofstream(path) << dot;
  std::string svg;
  const std::string cmd = std::string("dot -Tsvg ") + path + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  char chunk[4096];
  size_t n = 0;
  while (pipe != nullptr && (n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) svg.append(chunk, n);
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  std::remove(path);
  TT_CHECK(status == 0, "dot_to_svg: Graphviz's dot failed (status " << status << "): " << svg.substr(0, 300));
  return svg;
}

void maybe_write_schedule_viz(const std::vector<LazyRef>& outs) {
  if (!env_flag("TT_VIZ", false)) return;
  static int count = 0;
  const std::filesystem::path dir = env_string("TT_VIZ_DIR", "/tmp/tinyref_viz");
  std::filesystem::create_directories(dir);
  char name[32];
  std::snprintf(name, sizeof(name), "schedule_%04d", ++count);
  const std::string dot = schedule_dot(outs);
  std::filesystem::path file = dir / (std::string(name) + ".dot");
  std::ofstream(file) << dot;
  if (std::optional<std::string> svg = dot_to_svg(dot)) {
    file.replace_extension(".svg");
    std::ofstream(file) << *svg;
  }
  std::cerr << "TT_VIZ: wrote " << file.string() << "\n";
}

}  // namespace tinyref
