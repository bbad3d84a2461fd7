#include "tools/grade/grades.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace grade {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Chapter 09 has one test binary, a_test: task 1 has three cases, task 2 one. Alice passes two
// of task 1; bob's chapter did not build; carol did not hand it in.
TEST(Grades, PointsAreTheTasksShareOfCases) {
  const fs::path root = fs::path(std::getenv("TEST_TMPDIR")) / "batch";
  const fs::path logs = root / "testlogs";
  const std::string ok_cases = "<testsuites><testsuite name=\"Task1X\"><testcase name=\"A\"/><testcase name=\"B\"/>"
                               "<testcase name=\"C\"/></testsuite><testsuite name=\"Task2Y\"><testcase name=\"D\"/>"
                               "</testsuite></testsuites>";
  write(logs / "tests/09_x/a_test_solution/test.xml", ok_cases);
  write(logs / ".course/grade/alice/09/a_test/test.xml",
        "<testsuites><testsuite name=\"Task1X\"><testcase name=\"A\"/><testcase name=\"B\"><failure message=\"x\">"
        "<![CDATA[x.cc:3\n  Actual: false (task ch09.1: wrong)\nx.cc:1: seed 2 (rerun just this input with "
        "TT_SEEDS=2)]]></failure></testcase><testcase name=\"C\"/></testsuite><testsuite name=\"Task2Y\">"
        "<testcase name=\"D\"/></testsuite></testsuites>");
  write(root / "manifest.tsv",
        "alice\t09_x\tgraded\t\t.course/grade/alice/09\ta_test\n"
        "bob\t09_x\tgraded\t\t.course/grade/bob/09\ta_test\n"
        "carol\t09_x\tmissing\tnot handed in\t\ta_test\n");
  write(root / "bazel.log", "ERROR: /w/.course/grade/bob/09/BUILD:3:16: Compiling .course/grade/bob/09/value.cc failed\n"
                            ".course/grade/bob/09/value.cc:12:5: error: 'foo' was not declared in this scope\n");
  write(root / "tests/09_x/POINTS", "task 2 40\n");
  const Batch batch = read_batch({(root / "manifest.tsv").string(), logs.string(), (root / "bazel.log").string(),
                                  root.string(), "2,3", 30});
  ASSERT_EQ(batch.students.size(), 3u);
  const ChapterGrade& a = batch.students[0].chapters.at(0);
  ASSERT_EQ(a.tasks.size(), 2u);
  EXPECT_EQ(a.tasks[0].passed, 2);
  EXPECT_EQ(a.tasks[0].total, 3);
  EXPECT_DOUBLE_EQ(a.tasks[0].max_points, 60) << "POINTS gives task 2 40; task 1 takes the rest";
  EXPECT_DOUBLE_EQ(a.tasks[0].points, 40);
  EXPECT_DOUBLE_EQ(a.points(), 80);
  EXPECT_EQ(a.tasks[0].first_failure, "Task1X.B: Actual: false (task ch09.1: wrong) (seed 2)");
  const ChapterGrade& b = batch.students[1].chapters.at(0);
  EXPECT_EQ(b.status, "build_error");
  EXPECT_EQ(b.reason, "did not build: value.cc:12:5: error: 'foo' was not declared in this scope");
  EXPECT_DOUBLE_EQ(b.points(), 0);
  EXPECT_EQ(batch.students[2].chapters.at(0).status, "missing");

  write_csv(batch, (root / "grades.csv").string());
  std::ifstream csv(root / "grades.csv");
  std::string header, first;
  std::getline(csv, header);
  std::getline(csv, first);
  EXPECT_EQ(header, "student,chapter,task,passed,total,points,max_points,status,note");
  EXPECT_EQ(first, "alice,09_x,1,2,3,40.0,60.0,graded,Task1X.B: Actual: false (task ch09.1: wrong) (seed 2)");
  const std::string t = table(batch);
  EXPECT_NE(t.find("alice"), std::string::npos) << t;
  EXPECT_NE(t.find("80.0"), std::string::npos) << t;
}

}  // namespace
}  // namespace grade
