// Reading gtest's XML reports, the one format both `bazel test` (test.xml) and a direct run
// (--gtest_output=xml:FILE) produce.
//
//   std::vector<CaseResult> cases = read_gtest_xml("bazel-testlogs/tests/01_x/value_test/test.xml");
//   // cases[0] = {target "value_test", suite "Task1ValueOps", name "AddMatchesTinyref",
//   //             outcome kPassed, message "", file "tests/01_x/value_test.cc", line 42}
//
// A binary that died before gtest wrote its report (a crash, a timeout, memory exhausted) still
// has a test.xml, written by Bazel, holding one case named after the target with an <error>.
// Its cases are then read from the test.log beside it: the chapter tests list their cases
// first thing ("[ CASES    ] ...", tests/testing), gtest's progress lines say how each one
// that ran ended, and the one that was running when the binary died fails with the cause
// ("killed by signal 11 (Segmentation fault) during seed 3"); the cases it never reached fail
// as "not run". Without a log it reads as one failed case standing for the whole binary.
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
  std::string seed;  // the seed the case was running when it failed, where it is known
  // The emulator the case ran on instead of the device it tests (its property "emulated",
  // testing_util::running_emulated), or "".
  std::string emulated;
  std::string key() const { return target + ": " + suite + "." + name; }
};

// The cases of one report file. A missing file reads as one failed case saying so, so a
// target that never ran can't look like a pass.
std::vector<CaseResult> read_gtest_xml(const std::string& path);

// The message, ending with "seed N (rerun just this input with TT_SEEDS=N)" when the seed is
// known and the message does not already name it.
std::string message_with_seed(const CaseResult& c);

// "Task3LocalBackward" -> 3; a suite without the Task<k> prefix -> 0.
int task_of_suite(const std::string& suite);

}  // namespace report

#endif  // TOOLS_REPORT_GTEST_XML_H_
