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
