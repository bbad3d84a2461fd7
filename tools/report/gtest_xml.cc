#include "tools/report/gtest_xml.h"

#include <tinyxml2.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace report {

namespace {

std::string target_of(const std::string& path) {
  // bazel-testlogs/<package>/<target>/test.xml, or <dir>/<target>.xml for direct runs.
  std::filesystem::path p(path);
  std::string target = p.filename() == "test.xml" ? p.parent_path().filename().string()
                                                  : p.stem().string();
  const std::string suffix = "_solution";
  if (target.size() > suffix.size() &&
      target.compare(target.size() - suffix.size(), suffix.size(), suffix) == 0) {
    target.resize(target.size() - suffix.size());
  }
  return target;
}

const char* attr(const tinyxml2::XMLElement* e, const char* name) {
  const char* v = e->Attribute(name);
  return v ? v : "";
}

// "exited with error code 139" -> "killed by signal 11 (Segmentation fault)".
std::string describe_exit(const std::string& bazel_message) {
  const std::string prefix = "exited with error code ";
  const size_t at = bazel_message.find(prefix);
  if (at == std::string::npos) return bazel_message;
  const int code = std::atoi(bazel_message.c_str() + at + prefix.size());
  if (code <= 128) return bazel_message;
  return "killed by signal " + std::to_string(code - 128) + " (" + strsignal(code - 128) + ")";
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// "[       OK ] Suite.Name (12 ms)" -> "Suite.Name"; "" for other lines.
std::string case_after(const std::string& line, const char* marker) {
  if (!starts_with(line, marker)) return "";
  std::string rest = line.substr(std::strlen(marker));
  const size_t end = rest.find(' ');
  return end == std::string::npos ? rest : rest.substr(0, end);
}

// The cases of a binary that died, from its log (see the header). Empty without a listing.
std::vector<CaseResult> cases_from_log(const std::string& log_path, const CaseResult& stand_in) {
  std::ifstream in(log_path);
  std::vector<std::string> listed;
  std::map<std::string, CaseResult> seen;
  std::string line, running, signal_note, tail;
  bool timed_out = false;
  std::string limit;  // "[ LIMIT    ] 300 s": the binary's time limit (tests/testing)
  while (std::getline(in, line)) {
    if (starts_with(line, "[ LIMIT    ] ")) {
      limit = line.substr(13);
    } else if (starts_with(line, "[ CASES    ]")) {
      std::istringstream names(line.substr(12));
      for (std::string n; names >> n;) listed.push_back(n);
    } else if (std::string n = case_after(line, "[ RUN      ] "); !n.empty()) {
      running = n;
      tail.clear();
    } else if (std::string ok = case_after(line, "[       OK ] "); !ok.empty()) {
      seen[ok].outcome = Outcome::kPassed;
      running.clear();
    } else if (std::string skip = case_after(line, "[  SKIPPED ] "); !skip.empty() && skip == running) {
      seen[skip].outcome = Outcome::kSkipped;
      running.clear();
    } else if (std::string failed = case_after(line, "[  FAILED  ] "); !failed.empty() && failed == running) {
      seen[failed].outcome = Outcome::kFailed;
      seen[failed].message = tail;
      running.clear();
    } else if (starts_with(line, "[ SIGNAL   ] ")) {
      signal_note = line.substr(13);
    } else if (starts_with(line, "-- Test timed out")) {
      timed_out = true;
    } else if (!running.empty() && tail.size() < 4000) {
      tail += line + "\n";
    }
  }
  if (listed.empty()) return {};
  std::string cause = !timed_out        ? describe_exit(stand_in.message)
                      : limit.empty() ? "timed out (the test's time limit)"
                                      : "timed out after " + limit + " (the test's time limit)";
  const size_t during = signal_note.find(" during seed ");
  std::string seed = during == std::string::npos ? "" : signal_note.substr(during + 13);
  if (!timed_out && !signal_note.empty() && cause.find("signal") == std::string::npos) {
    cause = "killed by signal " + signal_note.substr(0, signal_note.find(' '));
  }
  std::vector<CaseResult> out;
  for (const std::string& full : listed) {
    CaseResult r;
    r.target = stand_in.target;
    const size_t dot = full.find('.');
    r.suite = full.substr(0, dot);
    r.name = dot == std::string::npos ? full : full.substr(dot + 1);
    r.outcome = Outcome::kFailed;
    if (auto it = seen.find(full); it != seen.end()) {
      r.outcome = it->second.outcome;
      r.message = it->second.message;
    } else if (full == running) {
      r.message = "the test binary died in this case: " + cause + "\n" + tail;
      r.seed = seed;
    } else {
      r.message = "not run: the test binary died in " + running + " (" + cause + ") before this case";
    }
    out.push_back(r);
  }
  return out;
}

// A property recorded in a test comes out as <properties><property name= value=/>.
std::string emulated_on(const tinyxml2::XMLElement* testcase) {
  const auto* props = testcase->FirstChildElement("properties");
  for (const auto* p = props ? props->FirstChildElement("property") : nullptr; p;
       p = p->NextSiblingElement("property")) {
    if (std::string(attr(p, "name")) == "emulated") return attr(p, "value");
  }
  return "";
}

}  // namespace

std::string message_with_seed(const CaseResult& c) {
  if (c.seed.empty() || c.message.find("TT_SEEDS=") != std::string::npos) return c.message;
  std::string m = c.message;
  if (!m.empty() && m.back() != '\n') m += "\n";
  return m + "seed " + c.seed + " (rerun just this input with TT_SEEDS=" + c.seed + ")";
}

std::vector<CaseResult> read_gtest_xml(const std::string& path) {
  const std::string target = target_of(path);
  tinyxml2::XMLDocument doc;
  if (doc.LoadFile(path.c_str()) != tinyxml2::XML_SUCCESS) {
    CaseResult missing{target, "(no report)", target, Outcome::kFailed,
                       "no test report at " + path + ": the test did not build or did not run",
                       "", true};
    return {missing};
  }
  std::vector<CaseResult> out;
  const tinyxml2::XMLElement* root = doc.FirstChildElement("testsuites");
  for (const auto* suite = root ? root->FirstChildElement("testsuite") : nullptr; suite;
       suite = suite->NextSiblingElement("testsuite")) {
    for (const auto* tc = suite->FirstChildElement("testcase"); tc;
         tc = tc->NextSiblingElement("testcase")) {
      CaseResult r;
      r.target = target;
      r.suite = attr(suite, "name");
      r.name = attr(tc, "name");
      if (*attr(tc, "file")) r.location = std::string(attr(tc, "file")) + ":" + attr(tc, "line");
      r.emulated = emulated_on(tc);
      const auto* failure = tc->FirstChildElement("failure");
      if (!failure) failure = tc->FirstChildElement("error");
      const auto* properties = tc->FirstChildElement("properties");
      for (const auto* p = properties ? properties->FirstChildElement("property") : nullptr; p;
           p = p->NextSiblingElement("property")) {
        if (std::string(attr(p, "name")) == "seed") r.seed = attr(p, "value");
      }
      if (failure) {
        r.outcome = Outcome::kFailed;
        // Bazel names its stand-in case after the test's package path, like its suite.
        r.whole_binary = r.name == r.suite;
        r.message = failure->GetText() ? failure->GetText() : attr(failure, "message");
        if (r.whole_binary) {
          const std::string log = (std::filesystem::path(path).parent_path() / "test.log").string();
          std::vector<CaseResult> recovered = cases_from_log(log, r);
          if (!recovered.empty()) return recovered;
        }
      } else if (std::string(attr(tc, "result")) == "skipped" ||
                 std::string(attr(tc, "status")) == "notrun" ||
                 tc->FirstChildElement("skipped")) {
        r.outcome = Outcome::kSkipped;
        const auto* skipped = tc->FirstChildElement("skipped");
        if (skipped) r.message = attr(skipped, "message");
      }
      out.push_back(r);
    }
  }
  if (out.empty()) {
    out.push_back({target, "(empty report)", target, Outcome::kFailed,
                   "the report at " + path + " holds no test case", "", true});
  }
  return out;
}

int task_of_suite(const std::string& suite) {
  if (suite.rfind("Task", 0) != 0) return 0;
  int task = 0;
  for (size_t i = 4; i < suite.size() && std::isdigit(static_cast<unsigned char>(suite[i])); ++i) {
    task = task * 10 + (suite[i] - '0');
  }
  return task;
}

}  // namespace report
