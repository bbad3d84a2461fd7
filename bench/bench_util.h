// What the benchmarks share: medians, child processes that print JSON lines (the PyTorch anchors
// and mnist_cpu's tinyref runs), and the RESULT line every benchmark prints.
//
//   Child c = spawn({"python3", "bench/anchors/torch_cuda.py", "--workload", "copy"}, {});
//   if (c.rc != 0) ...;   c.lines: each stdout line that parsed as a JSON object
//   print_result("matmul_cuda", 31.2, 52.0);   // RESULT name=matmul_cuda ours=31.2 anchor=52 ratio=0.6
#ifndef BENCH_BENCH_UTIL_H_
#define BENCH_BENCH_UTIL_H_

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// The median (mean of the middle two for an even count); 0 for none.
double median(std::vector<double> v);

struct Child {
  int rc = -1;                        // exit status; -1 when killed by a signal
  std::vector<nlohmann::json> lines;  // the JSON objects it printed on stdout, in order
  double peak_rss_mb = 0;             // its peak resident memory (wait4's ru_maxrss)
};

// Runs argv (argv[0] looked up in PATH unless it holds a '/') with extra environment variables
// and waits for it. Its stderr goes to ours, so its progress and errors stay visible.
Child spawn(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env);

// The first line of `c` whose "workload" is `workload`; throws tinyref::Error naming `what`
// (and the exit status) when the child failed or printed none.
nlohmann::json line_for(const Child& c, const std::string& workload, const std::string& what);

// `RESULT name=NAME ours=... anchor=... ratio=ours/anchor EXTRA` (extra starts with a space).
void print_result(const std::string& name, double ours, double anchor, const std::string& extra = "");

}  // namespace bench

#endif  // BENCH_BENCH_UTIL_H_
