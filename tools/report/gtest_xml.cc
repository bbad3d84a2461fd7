#include "tools/report/gtest_xml.h"

#include <tinyxml2.h>

#include <cctype>
#include <filesystem>

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
      if (failure) {
        r.outcome = Outcome::kFailed;
        // Bazel names its stand-in case after the test's package path, like its suite.
        r.whole_binary = r.name == r.suite;
        r.message = failure->GetText() ? failure->GetText() : attr(failure, "message");
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
