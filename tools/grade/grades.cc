#include "tools/grade/grades.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tools/report/gtest_xml.h"
#include "tools/report/manifest.h"

namespace grade {
namespace {

using report::CaseResult;
using report::Outcome;

struct ManifestRow {
  std::string student, chapter, status, reason, package;
  std::vector<std::string> tests;
};

std::vector<ManifestRow> read_rows(const std::string& path) {
  std::vector<ManifestRow> rows;
  for (const auto& f : report::read_manifest(path, 6)) rows.push_back({f[0], f[1], f[2], f[3], f[4], report::words(f[5])});
  return rows;
}

std::vector<CaseResult> read_reports(const std::string& dir, const std::vector<std::string>& tests,
                                     const std::string& suffix) {
  std::vector<CaseResult> all;
  for (const std::string& t : tests) {
    for (CaseResult c : report::read_gtest_xml(dir + "/" + t + suffix + "/test.xml")) {
      c.target = t;  // the test's name, for solution and student alike
      all.push_back(c);
    }
  }
  return all;
}

// The chapter's cases: those the solution passes in this run, by task.
struct Universe {
  std::map<int, std::vector<std::string>> cases_by_task;  // "target: Suite.Name"
  std::map<int, double> points_by_task;
};

// tests/NN_topic/POINTS: "task 9 40" lines; the tasks it leaves out share what is left.
std::map<int, double> read_points(const std::string& path) {
  std::map<int, double> points;
  std::ifstream in(path);
  std::string word;
  int task = 0;
  double value = 0;
  while (in >> word >> task >> value) {
    if (word == "task") points[task] = value;
  }
  return points;
}

Universe universe_of(const std::string& chapter, const std::vector<std::string>& tests, const Inputs& in,
                     std::vector<std::string>& warnings) {
  Universe u;
  for (const CaseResult& c : read_reports(in.testlogs + "/tests/" + chapter, tests, "_solution")) {
    if (c.outcome == Outcome::kPassed) {
      u.cases_by_task[report::task_of_suite(c.suite)].push_back(c.key());
    } else if (c.outcome == Outcome::kFailed) {
      warnings.push_back("the solution of " + chapter + " fails " + c.key() + " with these seeds (left out of " +
                         "the grades; a course bug: please report it)");
    }
  }
  const std::map<int, double> fixed = read_points(in.root + "/tests/" + chapter + "/POINTS");
  double fixed_sum = 0;
  size_t rest_cases = 0;
  for (const auto& [task, cases] : u.cases_by_task) {
    if (fixed.count(task)) fixed_sum += fixed.at(task);
    else rest_cases += cases.size();
  }
  for (const auto& [task, cases] : u.cases_by_task) {
    u.points_by_task[task] = fixed.count(task) ? fixed.at(task)
                                               : (100 - fixed_sum) * double(cases.size()) / double(std::max<size_t>(1, rest_cases));
  }
  return u;
}

// One line saying why a case failed: the message's most telling line, and the seed. (A timeout's
// message names the binary's own limit: tools/report reads it from the log.)
std::string failure_line(const CaseResult& c) {
  std::string message = report::message_with_seed(c);
  std::istringstream lines(message);
  std::string line, first, telling, seed;
  static const std::regex kLocation(R"(^\S+:\d+:?$)");
  while (std::getline(lines, line)) {
    line.erase(0, line.find_first_not_of(' '));
    if (line.empty() || std::regex_match(line, kLocation) || line == "Failure") continue;
    if (first.empty()) first = line;
    if (telling.empty() && (line.find("task ch") != std::string::npos || line.find("Actual:") == 0 ||
                            line.find("died") != std::string::npos || line.find("not run") == 0 ||
                            line.find("exception") != std::string::npos)) {
      telling = line;
    }
    const size_t s = line.find("seed ");
    if (seed.empty() && s != std::string::npos && line.find("TT_SEEDS=") != std::string::npos) {
      seed = line.substr(s, line.find(' ', s + 5) - s);
    }
  }
  std::string out = c.suite + "." + c.name + ": " + (telling.empty() ? first : telling);
  if (!seed.empty() && out.find(seed) == std::string::npos) out += " (" + seed + ")";
  return out.size() > 240 ? out.substr(0, 237) + "..." : out;
}

// The compiler's first complaint about a package, from bazel's output: "value.cc:12:5: error: ...".
std::string first_compiler_error(const std::string& build_log, const std::string& package) {
  std::ifstream in(build_log);
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find(package + "/");
    if (at == std::string::npos || line.find(": error:") == std::string::npos) continue;
    return line.substr(at + package.size() + 1);
  }
  return "";
}

ChapterGrade grade_chapter(const ManifestRow& row, const Universe& u, const Inputs& in) {
  ChapterGrade g{row.chapter, row.status, row.reason, {}};
  std::map<std::string, const CaseResult*> results;
  std::vector<CaseResult> cases;
  if (row.status == "graded") {
    cases = read_reports(in.testlogs + "/" + row.package, row.tests, "");
    bool any_report = false;
    for (const CaseResult& c : cases) {
      results[c.key()] = &c;
      any_report = any_report || c.suite != "(no report)";
    }
    if (!any_report) {
      g.status = "build_error";
      const std::string error = first_compiler_error(in.build_log, row.package);
      g.reason = error.empty() ? "did not build (see " + in.build_log + ")" : "did not build: " + error;
    }
  }
  for (const auto& [task, keys] : u.cases_by_task) {
    TaskGrade t{task, 0, static_cast<int>(keys.size()), 0, u.points_by_task.at(task), ""};
    for (const std::string& key : keys) {
      const auto it = results.find(key);
      if (it != results.end() && it->second->outcome == Outcome::kPassed) {
        ++t.passed;
      } else if (t.first_failure.empty()) {
        t.first_failure = it != results.end() ? failure_line(*it->second)
                                              : key.substr(key.find(": ") + 2) + ": " +
                                                    (g.status == "graded" ? "no result (the test binary did not run)" : g.reason);
      }
    }
    t.points = t.total == 0 ? 0 : t.max_points * t.passed / t.total;
    g.tasks.push_back(t);
  }
  return g;
}

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out + "\"";
}

std::string task_name(int task) { return task == 0 ? "other" : std::to_string(task); }

// What a chapter's row says when it is not full marks.
std::string chapter_note(const ChapterGrade& c) {
  if (c.status != "graded") return c.status + ": " + c.reason;
  for (const TaskGrade& t : c.tasks) {
    if (t.passed < t.total) return "task " + task_name(t.task) + ": " + t.first_failure;
  }
  return "";
}

}  // namespace

double ChapterGrade::points() const {
  return std::accumulate(tasks.begin(), tasks.end(), 0.0, [](double s, const TaskGrade& t) { return s + t.points; });
}
double ChapterGrade::max_points() const {
  return std::accumulate(tasks.begin(), tasks.end(), 0.0, [](double s, const TaskGrade& t) { return s + t.max_points; });
}
double StudentGrade::points() const {
  return std::accumulate(chapters.begin(), chapters.end(), 0.0, [](double s, const ChapterGrade& c) { return s + c.points(); });
}
double StudentGrade::max_points() const {
  return std::accumulate(chapters.begin(), chapters.end(), 0.0,
                         [](double s, const ChapterGrade& c) { return s + c.max_points(); });
}

Batch read_batch(const Inputs& in) {
  Batch batch;
  batch.seeds = in.seeds;
  batch.timeout_seconds = in.timeout_seconds;
  const std::vector<ManifestRow> rows = read_rows(in.manifest);
  std::map<std::string, Universe> universes;
  for (const ManifestRow& row : rows) {
    if (!universes.count(row.chapter)) universes[row.chapter] = universe_of(row.chapter, row.tests, in, batch.warnings);
  }
  for (const ManifestRow& row : rows) {
    if (batch.students.empty() || batch.students.back().student != row.student) batch.students.push_back({row.student, {}});
    batch.students.back().chapters.push_back(grade_chapter(row, universes.at(row.chapter), in));
  }
  return batch;
}

void write_csv(const Batch& batch, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << "student,chapter,task,passed,total,points,max_points,status,note\n";
  for (const StudentGrade& s : batch.students) {
    int all_passed = 0, all_total = 0;
    for (const ChapterGrade& c : s.chapters) {
      int passed = 0, total = 0;
      for (const TaskGrade& t : c.tasks) {
        out << csv_field(s.student) << "," << c.chapter << "," << task_name(t.task) << "," << t.passed << ","
            << t.total << "," << fixed(t.points) << "," << fixed(t.max_points) << "," << c.status << ","
            << csv_field(c.status == "graded" ? t.first_failure : c.reason) << "\n";
        passed += t.passed;
        total += t.total;
      }
      out << csv_field(s.student) << "," << c.chapter << ",all," << passed << "," << total << "," << fixed(c.points())
          << "," << fixed(c.max_points()) << "," << c.status << "," << csv_field(chapter_note(c)) << "\n";
      all_passed += passed;
      all_total += total;
    }
    out << csv_field(s.student) << ",all,all," << all_passed << "," << all_total << "," << fixed(s.points()) << ","
        << fixed(s.max_points()) << ",,\n";
  }
}

void write_json(const Batch& batch, const std::string& path) {
  nlohmann::json j;
  j["seeds"] = batch.seeds;
  j["timeout_seconds"] = batch.timeout_seconds;
  j["warnings"] = batch.warnings;
  j["students"] = nlohmann::json::array();
  for (const StudentGrade& s : batch.students) {
    nlohmann::json js{{"student", s.student}, {"points", s.points()}, {"max_points", s.max_points()}};
    js["chapters"] = nlohmann::json::array();
    for (const ChapterGrade& c : s.chapters) {
      nlohmann::json jc{{"chapter", c.chapter}, {"status", c.status}, {"reason", c.reason},
                        {"points", c.points()}, {"max_points", c.max_points()}};
      jc["tasks"] = nlohmann::json::array();
      for (const TaskGrade& t : c.tasks) {
        jc["tasks"].push_back({{"task", task_name(t.task)}, {"passed", t.passed}, {"total", t.total},
                               {"points", t.points}, {"max_points", t.max_points}, {"first_failure", t.first_failure}});
      }
      js["chapters"].push_back(jc);
    }
    j["students"].push_back(js);
  }
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << j.dump(2) << "\n";
}

std::string table(const Batch& batch, int width) {
  std::ostringstream out;
  size_t name_width = 7;
  for (const StudentGrade& s : batch.students) name_width = std::max(name_width, s.student.size());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(name_width), "student");
  std::string header = buf;
  if (!batch.students.empty()) {
    for (const ChapterGrade& c : batch.students.front().chapters) {
      std::snprintf(buf, sizeof buf, "  %5s", c.chapter.substr(0, 2).c_str());
      header += buf;
    }
  }
  out << header << "  total  notes\n";
  for (const StudentGrade& s : batch.students) {
    std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(name_width), s.student.c_str());
    std::string line = buf;
    std::string notes;
    for (const ChapterGrade& c : s.chapters) {
      std::snprintf(buf, sizeof buf, "  %5.1f", c.points());
      line += buf;
      const std::string note = chapter_note(c);
      if (!note.empty()) notes += (notes.empty() ? "" : "; ") + c.chapter.substr(0, 2) + " " + note;
    }
    std::snprintf(buf, sizeof buf, "  %5.1f  ", s.points());
    line += buf + notes;
    if (static_cast<int>(line.size()) > width) line = line.substr(0, width - 3) + "...";
    out << line << "\n";
  }
  for (const std::string& w : batch.warnings) out << "warning: " << w << "\n";
  return out.str();
}

}  // namespace grade
