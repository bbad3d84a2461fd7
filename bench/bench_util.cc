#include "bench/bench_util.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "tinyref/error.h"

namespace bench {

using nlohmann::json;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

Child spawn(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env) {
  TT_CHECK(!argv.empty(), "spawn: no command");
  Child c;
  int fds[2];
  TT_CHECK(pipe(fds) == 0, "spawn: pipe failed");
  std::fflush(nullptr);  // else our buffered output would be printed twice, once by the child
  const pid_t pid = fork();
  TT_CHECK(pid >= 0, "spawn: fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::perror(args[0]);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  c.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  c.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;  // progress or warnings, not a result
    try {
      c.lines.push_back(json::parse(line));
    } catch (const json::exception&) {
    }
  }
  return c;
}

json line_for(const Child& c, const std::string& workload, const std::string& what) {
  TT_CHECK(c.rc == 0, what << " failed (exit " << c.rc << "; its messages are above)");
  for (const json& j : c.lines) {
    if (j.is_object() && j.value("workload", "") == workload) return j;
  }
  throw tinyref::Error(what + " printed no result for workload '" + workload + "'");
}

void print_result(const std::string& name, double ours, double anchor, const std::string& extra) {
  std::printf("RESULT name=%s ours=%.4g anchor=%.4g ratio=%.3g%s\n", name.c_str(), ours, anchor,
              anchor != 0 ? ours / anchor : 0.0, extra.c_str());
  std::fflush(stdout);
}

}  // namespace bench
