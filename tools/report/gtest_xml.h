// Reading gtest's XML reports, the one format both `bazel test` (test.xml) and a direct run
// (--gtest_output=xml:FILE) produce.
//
//   std::vector<CaseResult> cases = read_gtest_xml("bazel-testlogs/tests/01_x/value_test/test.xml");
//   // cases[0] = {target "value_test", suite "Task1ValueOps", name "AddMatchesTinyref",
//   //             outcome kPassed, message "", file "tests/01_x/value_test.cc", line 42}
//
// A binary that crashed before gtest wrote its report still has a test.xml, written by Bazel,
// holding one case named after the target with an <error>: it reads as one failed case.
#ifndef TOOLS_REPORT_GTEST_XML_H_
#define TOOLS_REPORT_GTEST_XML_H_

#include <string>
#include <vector>

namespace report {

enum class Outcome { kPassed, kFailed, kSkipped };

struct CaseResult {
  std::string target;  // the test binary, with "_solution" removed: cases of both twins match
  std::string suite;
  std::string name;
  Outcome outcome = Outcome::kPassed;
  std::string message;  // the first failure's text, for failed cases
  std::string location;  // "file:line" of the case
  // True where this result stands for a whole binary that crashed or never ran.
  bool whole_binary = false;
  // The emulator the case ran on instead of the device it tests (its property "emulated",
  // testing_util::running_emulated), or "".
  std::string emulated;
  std::string key() const { return target + ": " + suite + "." + name; }
};

// The cases of one report file. A missing file reads as one failed case saying so, so a
// target that never ran can't look like a pass.
std::vector<CaseResult> read_gtest_xml(const std::string& path);

// "Task3LocalBackward" -> 3; a suite without the Task<k> prefix -> 0.
int task_of_suite(const std::string& suite);

}  // namespace report

#endif  // TOOLS_REPORT_GTEST_XML_H_
