#include "tools/report/gtest_xml.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace report {
namespace {

std::string write_file(const std::string& relative, const std::string& text) {
  const std::filesystem::path path = std::filesystem::path(std::getenv("TEST_TMPDIR")) / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
  return path.string();
}

// The shape gtest 1.12 writes: a pass, a failure, a skip and a pass that recorded a property.
const char* kGtestReport = R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" failures="1" name="AllTests">
  <testsuite name="Task2UnaryOps" tests="4" failures="1">
    <testcase name="Exp" file="tests/x.cc" line="7" status="run" result="completed" classname="Task2UnaryOps"/>
    <testcase name="Log" file="tests/x.cc" line="9" status="run" result="completed" classname="Task2UnaryOps">
      <failure message="short"><![CDATA[tests/x.cc:11
expected 1, got 2
seed 3]]></failure>
    </testcase>
    <testcase name="Cuda" file="tests/x.cc" line="13" status="run" result="skipped" classname="Task2UnaryOps">
      <skipped message="no CUDA device"/>
    </testcase>
    <testcase name="CudaEmulated" file="tests/x.cc" line="15" status="run" result="completed" classname="Task2UnaryOps">
      <properties>
        <property name="emulated" value="CUDA_EMU"/>
      </properties>
    </testcase>
  </testsuite>
</testsuites>)";

// What Bazel writes when the binary died before gtest could write its own report.
const char* kBazelCrashReport = R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
<testsuite name="tests/x/value_test" tests="1" failures="0" errors="1">
<testcase name="tests/x/value_test" status="run" duration="0" time="0"><error message="exited with error code 134"></error></testcase>
</testsuite>
</testsuites>)";

TEST(GtestXmlTest, ReadsPassFailAndSkip) {
  auto cases = read_gtest_xml(write_file("logs/value_test_solution/test.xml", kGtestReport));
  ASSERT_EQ(cases.size(), 4u);
  EXPECT_EQ(cases[0].target, "value_test");  // the _solution twin matches the student target
  EXPECT_EQ(cases[0].suite, "Task2UnaryOps");
  EXPECT_EQ(cases[0].outcome, Outcome::kPassed);
  EXPECT_EQ(cases[0].location, "tests/x.cc:7");
  EXPECT_EQ(cases[1].outcome, Outcome::kFailed);
  EXPECT_FALSE(cases[1].whole_binary);
  EXPECT_NE(cases[1].message.find("seed 3"), std::string::npos);
  EXPECT_EQ(cases[2].outcome, Outcome::kSkipped);
  EXPECT_EQ(cases[2].message, "no CUDA device");
  EXPECT_EQ(cases[0].emulated, "");
  EXPECT_EQ(cases[3].outcome, Outcome::kPassed);
  EXPECT_EQ(cases[3].emulated, "CUDA_EMU");
}

TEST(GtestXmlTest, CrashReportIsOneFailedCase) {
  auto cases = read_gtest_xml(write_file("logs/value_test/test.xml", kBazelCrashReport));
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].outcome, Outcome::kFailed);
  EXPECT_EQ(cases[0].target, "value_test");
  EXPECT_TRUE(cases[0].whole_binary);
}

// A segfault in the second of four cases, during seed 3: the log still accounts for all four.
const char* kCrashLog = R"([ CASES    ] Task1A.One Task1A.Two Task2B.Three Task2B.Four
[==========] Running 4 tests from 2 test suites.
[ RUN      ] Task1A.One
[       OK ] Task1A.One (0 ms)
[ RUN      ] Task1A.Two
reading row 7
[ SIGNAL   ] 11 during seed 3
)";

TEST(GtestXmlTest, CrashedBinaryIsReadFromItsLog) {
  std::string report = kBazelCrashReport;
  report.replace(report.find("134"), 3, "139");  // 128 + SIGSEGV
  const std::string xml = write_file("logs/crash_test/test.xml", report);
  write_file("logs/crash_test/test.log", kCrashLog);
  const auto cases = read_gtest_xml(xml);
  ASSERT_EQ(cases.size(), 4u) << "every listed case, the ones after the crash too";
  EXPECT_EQ(cases[0].outcome, Outcome::kPassed);
  EXPECT_EQ(cases[1].outcome, Outcome::kFailed);
  EXPECT_NE(cases[1].message.find("signal 11 (Segmentation fault)"), std::string::npos) << cases[1].message;
  EXPECT_NE(cases[1].message.find("reading row 7"), std::string::npos) << "the case's last output";
  EXPECT_EQ(cases[1].seed, "3");
  EXPECT_NE(message_with_seed(cases[1]).find("TT_SEEDS=3"), std::string::npos);
  EXPECT_EQ(cases[3].suite, "Task2B");
  EXPECT_EQ(cases[3].outcome, Outcome::kFailed);
  EXPECT_NE(cases[3].message.find("not run"), std::string::npos) << cases[3].message;
  EXPECT_FALSE(cases[3].whole_binary);
}

TEST(GtestXmlTest, TimedOutBinaryNamesTheCaseThatHung) {
  const std::string xml = write_file("logs/hang_test/test.xml", kBazelCrashReport);
  write_file("logs/hang_test/test.log", std::string(kCrashLog).substr(0, std::string(kCrashLog).find("reading")) +
                                            "[ SIGNAL   ] 15 during seed 2\n-- Test timed out at 2026-01-01 --\n");
  const auto cases = read_gtest_xml(xml);
  ASSERT_EQ(cases.size(), 4u);
  EXPECT_NE(cases[1].message.find("timed out"), std::string::npos) << cases[1].message;
  EXPECT_EQ(cases[1].seed, "2");
}

// The limit the binary ran under (its "[ LIMIT ]" line, from bazel's TEST_TIMEOUT) is named:
// a whole training run has an hour where a unit test has five minutes.
TEST(GtestXmlTest, TimedOutBinaryNamesItsLimit) {
  const std::string xml = write_file("logs/slow_test/test.xml", kBazelCrashReport);
  write_file("logs/slow_test/test.log", "[ LIMIT    ] 3600 s\n" +
                                            std::string(kCrashLog).substr(0, std::string(kCrashLog).find("reading")) +
                                            "-- Test timed out at 2026-01-01 --\n");
  const auto cases = read_gtest_xml(xml);
  ASSERT_EQ(cases.size(), 4u);
  EXPECT_NE(cases[1].message.find("timed out after 3600 s"), std::string::npos) << cases[1].message;
}

// gtest reports an exception thrown in the test body without the seed's trace; the course's
// listener records it as a property.
TEST(GtestXmlTest, SeedPropertyIsAddedToTheMessage) {
  const char* report = R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="1" failures="1" name="AllTests">
  <testsuite name="Task1A" tests="1" failures="1">
    <testcase name="Throws" file="x.cc" line="3" status="run" result="completed" classname="Task1A">
      <failure message="x"><![CDATA[C++ exception with description "boom" thrown in the test body.]]></failure>
      <properties>
        <property name="seed" value="4"/>
      </properties>
    </testcase>
  </testsuite>
</testsuites>)";
  const auto cases = read_gtest_xml(write_file("logs/throw_test/test.xml", report));
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].seed, "4");
  const std::string m = message_with_seed(cases[0]);
  EXPECT_NE(m.find("boom"), std::string::npos);
  EXPECT_NE(m.find("seed 4 (rerun just this input with TT_SEEDS=4)"), std::string::npos) << m;
}

TEST(GtestXmlTest, MissingReportIsOneFailedCase) {
  auto cases = read_gtest_xml("/nonexistent/never_built/test.xml");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].outcome, Outcome::kFailed);
  EXPECT_NE(cases[0].message.find("did not run"), std::string::npos);
  EXPECT_TRUE(cases[0].whole_binary);
}

TEST(GtestXmlTest, TaskNumberComesFromSuitePrefix) {
  EXPECT_EQ(task_of_suite("Task3LocalBackward"), 3);
  EXPECT_EQ(task_of_suite("Task12Big"), 12);
  EXPECT_EQ(task_of_suite("MilestoneMnist"), 0);
  EXPECT_EQ(task_of_suite("Tasks"), 0);
}

}  // namespace
}  // namespace report
