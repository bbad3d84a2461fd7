#include "tools/grade/scan.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace grade {
namespace {

namespace fs = std::filesystem;

// A chapter of one file, value.cc, as the solution and a student wrote it.
class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(std::getenv("TEST_TMPDIR")) / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(root_ / "solution");
    fs::create_directories(root_ / "student");
    write("solution", "#include \"ch01/value.h\"\n#include <cmath>\n#include \"chapters/course.h\"\n"
                      "double twice(double x) { return 2 * x; }\n");
  }
  void write(const std::string& who, const std::string& text) { std::ofstream(root_ / who / "value.cc") << text; }
  std::vector<Flag> scan(const std::string& student) {
    write("student", student);
    return scan_chapter(root_ / "student", root_ / "solution", {"value.cc", "value.h"});
  }

  fs::path root_;
};

TEST_F(ScanTest, HonestCodePasses) {
  EXPECT_TRUE(scan("#include \"ch01/value.h\"\n#include <vector>\n#include <sys/types.h>\n"
                   "// not std::ifstream, not getenv(\"TT_SEEDS\"): comments do not count\n"
                   "/* #include \"tinyref/tensor.h\" */\n"
                   "const char* name = \"tinyref\";\nint system_of_units = 0;\n")
                  .empty());
}

TEST_F(ScanTest, IncludingTheOracleIsFlagged) {
  for (const char* include : {"#include \"tinyref/tensor.h\"", "#include \"solutions/01_scalar_autograd/value.h\"",
                              "#include \"tests/01_scalar_autograd/tensor_oracle.h\"",
                              "#include \"../../solutions/01_scalar_autograd/value.cc\"", "#include </etc/passwd>",
                              "#  include <Eigen/Dense>"}) {
    const auto flags = scan(std::string("#include <cmath>\n") + include + "\n");
    ASSERT_EQ(flags.size(), 1u) << include;
    EXPECT_EQ(flags[0].line, 2) << include;
    EXPECT_NE(flags[0].reason.find("off limits"), std::string::npos) << flags[0].reason;
  }
  const auto computed = scan("#define ORACLE \"tinyref/tensor.h\"\n#include ORACLE\n");
  ASSERT_EQ(computed.size(), 1u);
  EXPECT_NE(computed[0].reason.find("cannot read"), std::string::npos);
}

TEST_F(ScanTest, ReadingWritingAndEscapingAreFlagged) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"std::ifstream in(\"expected.txt\");", "opens or lists files"},
      {"FILE* f = fopen(\"/tmp/answers\", \"r\");", "opens or lists files"},
      {"std::ofstream out(\"../../../leak.txt\");", "writes files"},
      {"fprintf(log_file, \"%d\", 1);", "writes files"},
      {"int r = std::system(\"cat tests/x.cc\");", "runs a program"},
      {"void* h = dlopen(\"libtinyref.so\", 0);", "runs a program"},
      {"const char* s = std::getenv(\"TT_SEEDS\");", "reads the environment"},
      {"asm volatile(\"nop\");", "inline assembly"},
  };
  for (const auto& [line, what] : cases) {
    const auto flags = scan("#include \"ch01/value.h\"\nvoid f() {\n  " + line + "\n}\n");
    ASSERT_EQ(flags.size(), 1u) << line;
    EXPECT_EQ(flags[0].line, 3) << line;
    EXPECT_NE(flags[0].reason.find(what), std::string::npos) << line << ": " << flags[0].reason;
  }
  EXPECT_TRUE(scan("void f() { fprintf(stderr, \"debug\\n\"); }\n").empty()) << "printing to stderr is fine";
  const auto writes = scan("#include <fstream>\nvoid f() { std::ofstream(\"../../x\") << 1; }\n");
  ASSERT_EQ(writes.size(), 1u) << "<fstream> alone reads nothing: only the ofstream counts";
  EXPECT_NE(writes[0].reason.find("writes files"), std::string::npos) << writes[0].reason;
}

TEST_F(ScanTest, WhatTheSolutionDoesIsAllowed) {
  write("solution", "#include <fstream>\nvoid save() { std::ofstream out(\"kernel.cc\"); }\n");
  EXPECT_TRUE(scan("#include <fstream>\nvoid save() { std::ofstream o(\"k.cc\"); o << 1; }\n").empty())
      << "a chapter whose solution writes files (code generation) may write files";
  EXPECT_EQ(scan("void f() { system(\"g++ k.cc\"); }\n").size(), 1u) << "but not run programs its solution does not";
}

TEST(StripComments, KeepsLinesAndStrings) {
  EXPECT_EQ(strip_comments("a // b\nc /* d\ne */ f \"// g\" '/'"), "a \nc \n f \"// g\" '/'");
}

}  // namespace
}  // namespace grade
