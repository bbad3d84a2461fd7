// The grades of a batch: per student, chapter and task, from the reports of one bazel run.
//
//   grade::Batch batch = grade::read_batch({.manifest = ".course/grade/manifest.tsv",
//                                          .testlogs = "bazel-testlogs", .build_log = ...});
//   grade::write_csv(batch, "grades.csv");     // a row per student, chapter and task + summaries
//   grade::write_json(batch, "grades.json");
//   std::cout << grade::table(batch);          // one screen
//
// The cases of a chapter are those its tests run on the solution in the same bazel run, with
// the same seeds (the _solution targets): a case the student's binary never reports (it did
// not build, it crashed before reaching it) counts as failed. Points: each chapter is worth 100;
// a task's share is its share of the chapter's cases, unless tests/NN_topic/POINTS gives it
// ("task 9 40": task 9 is worth 40, the other tasks share the rest by their cases).
#ifndef TOOLS_GRADE_GRADES_H_
#define TOOLS_GRADE_GRADES_H_

#include <string>
#include <vector>

namespace grade {

struct TaskGrade {
  int task = 0;  // 0: cases outside any Task<k> suite
  int passed = 0, total = 0;
  double points = 0, max_points = 0;
  std::string first_failure;  // "Suite.Case: first line of the message"
};

struct ChapterGrade {
  std::string chapter;  // "01_scalar_autograd"
  // graded; missing (not handed in); flagged (the cheating scan); build_error
  std::string status;
  std::string reason;  // why not graded, or the compiler's first error
  std::vector<TaskGrade> tasks;
  double points() const;
  double max_points() const;
};

struct StudentGrade {
  std::string student;
  std::vector<ChapterGrade> chapters;
  double points() const;
  double max_points() const;
};

struct Batch {
  std::vector<StudentGrade> students;
  std::string seeds;
  int timeout_seconds = 0;
  std::vector<std::string> warnings;  // the course's own problems (a solution failing a case)
};

struct Inputs {
  std::string manifest;   // ./course's: student, chapter, status, reason, package, tests (TSV)
  std::string testlogs;   // bazel-testlogs of the run
  std::string build_log;  // bazel's output, for compiler errors
  std::string root = ".";  // the course (for tests/NN_topic/POINTS)
  std::string seeds;
  int timeout_seconds = 0;
};

Batch read_batch(const Inputs& in);

void write_csv(const Batch& batch, const std::string& path);
void write_json(const Batch& batch, const std::string& path);
std::string table(const Batch& batch, int width = 100);

}  // namespace grade

#endif  // TOOLS_GRADE_GRADES_H_
