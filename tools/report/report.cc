// report: turns gtest XML reports into the summaries `./course` prints.
//
//   report count FILE...                       failed cases, then
//       "N passed, N failed, N skipped, N emulated" (emulated: cases that ran, passing or failing,
//       on an emulator instead of the device they test, e.g. CUDA without a GPU)
//   report teeth --chapter 01_scalar_autograd --skeleton F... --solution F...
//       "teeth 01_scalar_autograd: 30/30 cases fail on the skeleton, 30/30 pass on the solution"
//       exit 1 unless every case does both
//   report tasks --chapter 01_scalar_autograd [--brief] FILE...
//       per task: how many cases pass, and the first failure's message (with its seed)
#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "tools/report/gtest_xml.h"

namespace report {
namespace {

std::vector<CaseResult> read_all(const std::vector<std::string>& files) {
  std::vector<CaseResult> all;
  for (const auto& f : files) {
    auto cases = read_gtest_xml(f);
    all.insert(all.end(), cases.begin(), cases.end());
  }
  return all;
}

// The first `max_lines` lines of a failure, indented: enough to see expected, got and seed.
std::string excerpt(const std::string& message, int max_lines, const std::string& indent) {
  std::istringstream in(message);
  std::string line, out;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (n++ == max_lines) {
      out += indent + "...\n";
      break;
    }
    out += indent + line + "\n";
  }
  return out;
}

int count(const std::vector<std::string>& files) {
  int passed = 0, failed = 0, skipped = 0, emulated = 0;
  for (const auto& c : read_all(files)) {
    if (!c.emulated.empty() && c.outcome != Outcome::kSkipped) ++emulated;
    switch (c.outcome) {
      case Outcome::kPassed: ++passed; break;
      case Outcome::kSkipped: ++skipped; break;
      case Outcome::kFailed:
        ++failed;
        std::cout << "FAILED " << c.key() << "\n" << excerpt(c.message, 6, "    ");
        break;
    }
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped, " << emulated
            << " emulated\n";
  return failed == 0 ? 0 : 1;
}

int teeth(const std::string& chapter, const std::vector<std::string>& skeleton_files,
          const std::vector<std::string>& solution_files) {
  std::map<std::string, Outcome> on_skeleton;
  std::set<std::string> crashed_targets;  // a crash fails every case of that binary
  for (const auto& c : read_all(skeleton_files)) {
    on_skeleton[c.key()] = c.outcome;
    if (c.whole_binary) crashed_targets.insert(c.target);
  }
  int total = 0, fail_on_skeleton = 0, pass_on_solution = 0;
  std::vector<std::string> defects;
  for (const auto& c : read_all(solution_files)) {
    ++total;
    const bool passes = c.outcome == Outcome::kPassed;
    auto it = on_skeleton.find(c.key());
    const bool fails = crashed_targets.count(c.target) > 0 ||
                       (it != on_skeleton.end() && it->second == Outcome::kFailed);
    pass_on_solution += passes;
    fail_on_skeleton += fails;
    if (!passes) defects.push_back(c.key() + ": does not pass on the solution");
    if (!fails) defects.push_back(c.key() + ": does not fail on the skeleton");
  }
  std::cout << "teeth " << chapter << ": " << fail_on_skeleton << "/" << total
            << " cases fail on the skeleton, " << pass_on_solution << "/" << total
            << " pass on the solution\n";
  for (const auto& d : defects) std::cout << "    " << d << "\n";
  return defects.empty() && total > 0 ? 0 : 1;
}

int tasks(const std::string& chapter, const std::vector<std::string>& files, bool brief) {
  struct Task {
    int passed = 0, total = 0;
    const CaseResult* first_failure = nullptr;
  };
  const auto cases = read_all(files);
  std::map<int, Task> by_task;
  int passed = 0;
  for (const auto& c : cases) {
    Task& t = by_task[task_of_suite(c.suite)];
    ++t.total;
    if (c.outcome == Outcome::kPassed) {
      ++t.passed;
      ++passed;
    } else if (!t.first_failure) {
      t.first_failure = &c;
    }
  }
  std::cout << chapter << ": " << passed << "/" << cases.size() << " test cases pass\n";
  for (const auto& [number, t] : by_task) {
    const std::string label = number == 0 ? "other  " : "task " + std::to_string(number) +
                                                           (number < 10 ? " " : "");
    const std::string state = t.passed == t.total ? "done" : t.passed == 0 ? "todo" : "partly";
    std::cout << "  " << label << "  " << state << std::string(8 - state.size(), ' ') << t.passed
              << "/" << t.total << "\n";
    if (!brief && t.first_failure) {
      const CaseResult& f = *t.first_failure;
      std::cout << "      first failure: " << f.suite << "." << f.name
                << (f.location.empty() ? "" : "  (" + f.location + ")") << "\n"
                << excerpt(f.message, 10, "        ");
    }
  }
  return passed == static_cast<int>(cases.size()) ? 0 : 1;
}

}  // namespace
}  // namespace report

int main(int argc, char** argv) {
  CLI::App app{"Summaries of gtest XML reports for ./course"};
  app.require_subcommand(1);
  std::vector<std::string> files, skeleton, solution;
  std::string chapter;
  bool brief = false;

  auto* count = app.add_subcommand("count", "list failed cases, then N passed, N failed, N skipped, N emulated");
  count->add_option("files", files, "gtest XML reports")->required();

  auto* teeth = app.add_subcommand("teeth", "every case must fail on the skeleton and pass on the solution");
  teeth->add_option("--chapter", chapter)->required();
  teeth->add_option("--skeleton", skeleton, "reports of the student targets on the skeleton")->required();
  teeth->add_option("--solution", solution, "reports of the _solution targets")->required();

  auto* tasks = app.add_subcommand("tasks", "per-task progress of one chapter");
  tasks->add_option("--chapter", chapter)->required();
  tasks->add_flag("--brief", brief, "one line per task, no failure messages");
  tasks->add_option("files", files, "gtest XML reports")->required();

  CLI11_PARSE(app, argc, argv);
  if (*count) return report::count(files);
  if (*teeth) return report::teeth(chapter, skeleton, solution);
  return report::tasks(chapter, files, brief);
}
