// grade: the C++ half of `./course grade` (the shell half builds and runs everything).
//
//   grade scan --submitted DIR --solution solutions/01_scalar_autograd FILE...
//       one line per flag ("value.cc:3: includes \"tinyref/tensor.h\": ..."); exit 1 if any
//   grade report --manifest M --testlogs DIR --build-log LOG --seeds 5,6 --timeout 60
//                [--csv grades.csv] [--json grades.json]
//       the one-screen table; the CSV and JSON when asked
#include <iostream>

#include "CLI/CLI.hpp"
#include "tools/grade/grades.h"
#include "tools/grade/scan.h"

int main(int argc, char** argv) {
  CLI::App app{"Grades a batch of submissions for ./course grade"};
  app.require_subcommand(1);

  std::string submitted, solution;
  std::vector<std::string> files;
  auto* scan = app.add_subcommand("scan", "flag what a submitted chapter does that its solution does not");
  scan->add_option("--submitted", submitted, "the student's chapter folder")->required();
  scan->add_option("--solution", solution, "the chapter's solution folder")->required();
  scan->add_option("files", files, "the chapter's files, relative to both folders")->required();

  grade::Inputs in;
  std::string csv, json;
  auto* report = app.add_subcommand("report", "grades from a bazel run's test reports");
  report->add_option("--manifest", in.manifest, "the manifest ./course grade wrote")->required();
  report->add_option("--testlogs", in.testlogs, "bazel-testlogs of that run")->required();
  report->add_option("--build-log", in.build_log, "bazel's output of that run")->required();
  report->add_option("--seeds", in.seeds, "the seeds of that run");
  report->add_option("--timeout", in.timeout_seconds, "the time limit of each test binary, in seconds");
  report->add_option("--csv", csv, "write the grades as CSV");
  report->add_option("--json", json, "write the grades as JSON");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*scan) {
      const auto flags = grade::scan_chapter(submitted, solution, files);
      for (const auto& f : flags) std::cout << f.file << ":" << f.line << ": " << f.reason << "\n";
      return flags.empty() ? 0 : 1;
    }
    const grade::Batch batch = grade::read_batch(in);
    if (!csv.empty()) grade::write_csv(batch, csv);
    if (!json.empty()) grade::write_json(batch, json);
    std::cout << grade::table(batch);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "grade: " << e.what() << "\n";
    return 2;
  }
}
