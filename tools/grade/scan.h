// The cheating scan of `./course grade`: what a submitted chapter's files do that its solution
// does not. Each flag names the file, the line and the reason.
//
//   std::vector<grade::Flag> flags = grade::scan_chapter(
//       "submissions/alice/chapters/01_scalar_autograd", "solutions/01_scalar_autograd",
//       {"value.cc", "value.h", "nn.cc", "nn.h"});
//   // {{"value.cc", 3, "includes \"tinyref/tensor.h\": the course's own code (the oracle,
//   //   tests, solutions) is off limits"}}
//
// Three kinds of easy cheating are caught this way:
//   - calling the oracle: an #include of tinyref/, solutions/, tests/ or any other project
//     path the solution does not include, a relative or absolute path, or a computed include;
//   - reading the test's expected values from disk: file and directory access;
//   - writing outside the build folder, or escaping it: writing files, running programs,
//     loading libraries, reading the environment (TT_SEEDS), inline assembly and raw syscalls.
// A kind of access is allowed when the chapter's solution uses it too (chapter 6 compiles code
// and writes files: its students may as well). Comments do not count; string literals do, so
// a file name in a string is still only a string until a call opens it.
//
// This is a tripwire for the tries that are easy, not a proof: a determined student can hide a
// call (macros from a system header, a function pointer found at run time). Read what it flags,
// and read the code of the top of the class.
#ifndef TOOLS_GRADE_SCAN_H_
#define TOOLS_GRADE_SCAN_H_

#include <filesystem>
#include <string>
#include <vector>

namespace grade {

struct Flag {
  std::string file;  // relative to the chapter folder
  int line = 0;
  std::string reason;
};

// The file's text without its comments (line breaks kept, so line numbers stay right).
std::string strip_comments(const std::string& source);

// Flags for `files` (relative paths) of the chapter in `submitted`; `solution` is the same
// chapter's solution folder. A file missing from `submitted` is skipped (the skeleton's is used).
std::vector<Flag> scan_chapter(const std::filesystem::path& submitted, const std::filesystem::path& solution,
                               const std::vector<std::string>& files);

}  // namespace grade

#endif  // TOOLS_GRADE_SCAN_H_
