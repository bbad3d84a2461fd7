// The one thing every chapter skeleton shares: the exception an unfinished task throws.
//
//   double Value::data() const { throw course::NotImplemented("ch01.1: Value::data"); }
//
// A test that reaches unfinished code fails with the task's name, so the tree always builds
// and no test of an unfinished task can pass by accident.
#ifndef CHAPTERS_COURSE_H_
#define CHAPTERS_COURSE_H_

#include <stdexcept>
#include <string>

namespace course {

class NotImplemented : public std::logic_error {
 public:
  explicit NotImplemented(const std::string& task)
      : std::logic_error("not implemented yet: " + task +
                         " (this is your task: see TODO(" + task.substr(0, task.find(':')) +
                         ") in the chapter's source)") {}
};

}  // namespace course

#endif  // CHAPTERS_COURSE_H_
