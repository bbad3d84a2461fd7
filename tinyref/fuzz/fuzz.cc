#include "tinyref/fuzz/fuzz.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "tinyref/backends/registry.h"
#include "tinyref/error.h"
#include "tinyref/fuzz/reference.h"
#include "tinyref/fuzz/ways.h"

namespace tinyref::fuzz {

namespace {

// The first element where `got` is not `want`, as text; empty where all agree. Exact values
// must match bit for bit (NaN where NaN); the rest within rounding, which scales with the
// magnitudes that met on the way (the node's bound).
std::string compare(const std::vector<double>& want, const std::vector<double>& got, const FuzzNode& n) {
  if (want.size() != got.size()) return std::to_string(got.size()) + " elements instead of " + std::to_string(want.size());
  const bool f64 = n.dtype == DType::kFloat64;
  const double rtol = n.exact || !is_float(n.dtype) ? 0 : f64 ? 1e-9 : 1e-3;
  const double atol = rtol * std::max(1.0, n.bound) * (f64 ? 1e-3 : 1e-2);
  for (size_t i = 0; i < want.size(); ++i) {
    const double w = want[i], g = got[i];
    const bool same = std::isnan(w) ? std::isnan(g) : std::isinf(w) || rtol == 0 ? w == g : std::abs(w - g) <= atol + rtol * std::abs(w);
    if (!same) {
      std::ostringstream os;
      os.precision(9);
      os << "element " << i << " of " << want.size() << " (" << dtype_name(n.dtype) << ", shape " << n.shape
         << (n.exact ? ", exact" : "") << "): expected " << w << ", got " << g;
      return os.str();
    }
  }
  return "";
}

std::vector<std::string> available_devices(const FuzzOptions& o) {
  if (!o.devices.empty()) return o.devices;
  std::vector<std::string> out = {o.interpreter};
  for (const std::string& name : device_names()) {
    if (name == o.interpreter) continue;
    try {
      get_device(name);
      out.push_back(name);
    } catch (const Error&) {
      // not here (CUDA without a GPU): its ways are left out, and the report lists what ran
    }
  }
  return out;
}

// The check itself, in the child. Each way's name goes to `progress` before it runs, so that
// the parent can say which one crashed.
CheckResult check_here(const FuzzGraph& g, const FuzzOptions& o, uint64_t seed, FILE* progress,
                       const std::vector<Way>* only = nullptr) {
  CheckResult r;
  r.devices = available_devices(o);
  std::vector<std::vector<double>> want;
  for (const LazyRef& out : g.build(o.interpreter)) want.push_back(reference_values(out));
  for (const Way& way : only != nullptr ? *only : ways_for(g, r.devices, o, seed)) {
    std::fprintf(progress, "way %s\n", way.name.c_str());
    std::fflush(progress);
    ++r.ways;
    std::vector<std::vector<double>> got;
    std::vector<std::string> applied;
    const auto kernels = [&] {  // what each kernel was given, for a regression test to pin
      std::string s;
      for (const std::string& a : applied) s += "\n  kernel " + a;
      return s;
    };
    try {
      got = run_way(g, way, &r.kernels, &applied);
    } catch (const std::exception& e) {
      r.ok = false;
      r.what = way.name + ": threw: " + e.what() + kernels();
      return r;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const std::string diff = compare(want[i], got[i], g.nodes[g.outputs[i]]);
      if (diff.empty()) continue;
      r.ok = false;
      r.what = way.name + ": output " + std::to_string(i) + " (n" + std::to_string(g.outputs[i]) + "), " + diff + kernels();
      return r;
    }
  }
  return r;
}

std::string read_all(int fd) {
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  return text;
}

}  // namespace

ChildResult in_child(const std::function<std::string(FILE* progress)>& f, int timeout_seconds) {
  int fds[2];
  TT_CHECK(::pipe(fds) == 0, "fuzz: pipe failed: " << std::strerror(errno));
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  TT_CHECK(pid >= 0, "fuzz: fork failed: " << std::strerror(errno));
  if (pid == 0) {  // the child: run, report, and leave without running anyone's exit handlers
    ::close(fds[0]);
    ::alarm(static_cast<unsigned>(timeout_seconds));
    FILE* out = ::fdopen(fds[1], "w");
    std::string result;
    try {
      result = f(out);
    } catch (const std::exception& e) {
      result = std::string("threw: ") + e.what();
    }
    std::fprintf(out, "\nresult\n%s", result.c_str());
    std::fclose(out);
    ::_exit(0);
  }
  ::close(fds[1]);
  const std::string text = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ChildResult r;
  const size_t at = text.rfind("\nresult\n");
  r.progress = text.substr(0, at == std::string::npos ? text.size() : at);
  if (at != std::string::npos && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    r.finished = true;
    r.result = text.substr(at + 8);
  } else {
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r.result = sig == SIGALRM ? "timed out after " + std::to_string(timeout_seconds) + " s"
               : sig          ? std::string("crashed: ") + ::strsignal(sig)
                              : "exited without a result";
  }
  return r;
}

namespace {

CheckResult check_in_child(const FuzzGraph& g, const FuzzOptions& o, uint64_t way_seed, const std::vector<Way>* only) {
  const ChildResult child = in_child(
      [&](FILE* progress) {
        const CheckResult r = check_here(g, o, way_seed, progress, only);
        std::ostringstream os;
        os << (r.ok ? 1 : 0) << " " << r.kernels << " " << r.ways << "\n";
        for (const std::string& d : r.devices) os << d << " ";
        os << "\n" << r.what;
        return os.str();
      },
      o.timeout_seconds);
  CheckResult r;
  if (!child.finished) {  // the last way it started is the one that died
    const size_t at = child.progress.rfind("way ");
    const std::string way = at == std::string::npos ? "" : child.progress.substr(at + 4, child.progress.find('\n', at) - at - 4);
    r.ok = false;
    r.what = way + ": " + child.result;
    return r;
  }
  std::istringstream in(child.result);
  int ok = 0;
  in >> ok >> r.kernels >> r.ways;
  r.ok = ok == 1;
  std::string devices;
  std::getline(in, devices);  // the rest of the counts' line
  std::getline(in, devices);
  std::istringstream names(devices);
  for (std::string d; names >> d;) r.devices.push_back(d);
  std::getline(in, r.what, '\0');
  if (!r.ok && r.what.empty()) r.what = child.result;
  return r;
}

}  // namespace

CheckResult check_graph(const FuzzGraph& g, const FuzzOptions& o, uint64_t way_seed) {
  return check_in_child(g, o, way_seed, nullptr);
}

CheckResult check_with_opts(const FuzzGraph& g, const std::string& device, const std::vector<std::string>& opts) {
  FuzzOptions o;
  const std::vector<Way> way = {way_with_opts(device, opts)};
  return check_in_child(g, o, 0, &way);
}

FuzzGraph shrink(const FuzzGraph& start, const std::function<bool(const FuzzGraph&)>& fails) {
  FuzzGraph g = start.without_dead_nodes();
  // A smaller candidate that checks out and still fails replaces g.
  const auto take = [&](FuzzGraph c) {
    c = c.without_dead_nodes();
    std::optional<FuzzGraph> ok = c.checked();
    if (!ok || (ok->size() >= g.size() && ok->outputs.size() >= g.outputs.size()) || !fails(*ok)) return false;
    g = std::move(*ok);
    return true;
  };
  for (bool progress = true; progress;) {
    progress = false;
    // One output at a time.
    for (size_t o = 0; g.outputs.size() > 1 && o < g.outputs.size() && !progress; ++o) {
      FuzzGraph c = g;
      c.outputs = {g.outputs[o]};
      progress = take(c);
    }
    // An output moved up to one of the nodes it is computed from.
    for (size_t o = 0; o < g.outputs.size() && !progress; ++o) {
      for (int s : g.nodes[g.outputs[o]].src) {
        FuzzGraph c = g;
        c.outputs[o] = s;
        if ((progress = take(c))) break;
      }
    }
    // A node bypassed: its users read one of its sources instead (of the same shape and dtype).
    for (size_t i = g.size(); i-- > 0 && !progress;) {
      for (int s : g.nodes[i].src) {
        if (g.nodes[s].shape != g.nodes[i].shape || g.nodes[s].dtype != g.nodes[i].dtype) continue;
        FuzzGraph c = g;
        for (FuzzNode& n : c.nodes) std::replace(n.src.begin(), n.src.end(), static_cast<int>(i), s);
        std::replace(c.outputs.begin(), c.outputs.end(), static_cast<int>(i), s);
        if ((progress = take(c))) break;
      }
    }
    // A node cut off from what computes it: an input of its shape and dtype instead.
    for (size_t i = g.size(); i-- > 0 && !progress;) {
      if (g.nodes[i].kind == FuzzNode::Kind::kInput) continue;
      FuzzGraph c = g;
      FuzzNode cut;
      cut.kind = FuzzNode::Kind::kInput;
      cut.shape = g.nodes[i].shape;
      cut.dtype = g.nodes[i].dtype;
      cut.seed = i;
      c.nodes[i] = cut;
      progress = take(c);
    }
  }
  return g;
}

FuzzReport fuzz(const FuzzOptions& o) {
  FuzzReport report;
  for (int i = 0; i < o.graphs; ++i) {
    const uint64_t graph_seed = o.seed * 100000 + static_cast<uint64_t>(i);
    const FuzzGraph g = random_graph(graph_seed, o.graph);
    const CheckResult r = check_graph(g, o, graph_seed);
    ++report.graphs_tried;
    report.kernels += r.kernels;
    report.ways += r.ways;
    if (report.devices.empty()) report.devices = r.devices;
    if (!r.ok) {
      FuzzFailure f{graph_seed, r.what, g.to_code(), g.size(), g.size()};
      if (o.log) o.log("fuzz: graph " + std::to_string(graph_seed) + " fails: " + r.what + "; shrinking");
      if (o.shrink) {
        // Shrink against the device that failed, where the failure names one: fewer ways a try.
        FuzzOptions narrow = o;
        for (const std::string& d : r.devices) {
          if (r.what.rfind(d + ",", 0) == 0) narrow.devices = {d};
        }
        const FuzzGraph small = shrink(g, [&](const FuzzGraph& c) { return !check_graph(c, narrow, graph_seed).ok; });
        f.what = check_graph(small, narrow, graph_seed).what;
        f.code = small.to_code();
        f.shrunk_nodes = small.size();
      }
      report.failures.push_back(f);
    }
    if (o.log && ((i + 1) % 25 == 0 || i + 1 == o.graphs)) {
      o.log("fuzz: " + std::to_string(i + 1) + " graphs, " + std::to_string(report.ways) + " ways, " +
            std::to_string(report.kernels) + " kernels, " + std::to_string(report.failures.size()) + " failing");
    }
  }
  return report;
}

}  // namespace tinyref::fuzz
