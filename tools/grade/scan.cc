#include "tools/grade/scan.h"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace grade {
namespace {

// One kind of access: a name for the report and the pattern that finds it (in code without
// comments).
struct Access {
  const char* what;
  std::regex pattern;
};

const std::vector<Access>& accesses() {
  static const std::vector<Access> kAccesses = {
      {"opens or lists files (a test's expected values on disk?)",
       std::regex(R"(\bifstream\b|\bstd::fstream\b|\bFILE\b|\b(fopen|freopen|open|openat|opendir|readdir|mmap|stat|access|readlink)\s*\(|std::filesystem|<(filesystem|fcntl\.h|dirent\.h|sys/mman\.h|sys/stat\.h)>)")},
      {"writes files (outside its build folder?)",
       std::regex(R"(\bofstream\b|\b(fwrite|fputs|fputc|putc|creat|unlink|unlinkat|rmdir|mkdir|truncate|symlink)\s*\(|\bfprintf\s*\(\s*(?!stdout|stderr))")},
      {"runs a program or loads code", std::regex(R"(\b(system|popen|execl|execlp|execle|execv|execvp|execve|fork|vfork|posix_spawn|dlopen|dlsym)\s*\()")},
      {"reads the environment (TT_SEEDS?)", std::regex(R"(\b(getenv|secure_getenv|environ)\b)")},
      {"uses inline assembly or raw system calls", std::regex(R"(\b(asm|__asm__|syscall)\b|\.incbin)")},
  };
  return kAccesses;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Project paths a chapter may include: its own and other chapters' headers, the exception
// every skeleton throws, and whatever its solution includes (datasets/mnist.h in chapter 3).
bool include_allowed(const std::string& path, bool angle, const std::set<std::string>& solution_includes) {
  if (path.find("..") != std::string::npos || path.empty() || path[0] == '/') return false;
  if (solution_includes.count(path)) return true;
  if (angle) return path.find('/') == std::string::npos || path.rfind("sys/", 0) == 0 || path.rfind("bits/", 0) == 0;
  static const std::regex kChapterHeader(R"(ch\d\d/[^/]+)");
  return std::regex_match(path, kChapterHeader) || path == "chapters/course.h";
}

struct Include {
  int line;
  std::string path;
  bool angle;
  bool computed;  // #include MACRO, or #import / #embed / __has_include tricks
};

std::vector<Include> includes_of(const std::string& code) {
  static const std::regex kInclude(R"re(^\s*#\s*(include|import|include_next|embed)\s*(<([^>]*)>|"([^"]*)"|(.*)))re");
  std::vector<Include> out;
  std::istringstream lines(code);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    std::smatch m;
    if (std::regex_search(line, m, kInclude)) {
      const bool angle = m[3].matched;
      const bool computed = m[5].matched || m[1] != "include";
      out.push_back({n, angle ? m[3].str() : m[4].matched ? m[4].str() : m[5].str(), angle, computed});
    } else if (line.find("__has_include") != std::string::npos) {
      out.push_back({n, line, false, true});
    }
  }
  return out;
}

int line_of(const std::string& text, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

}  // namespace

std::string strip_comments(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  enum { kCode, kLine, kBlock, kString, kChar } state = kCode;
  for (size_t i = 0; i < source.size(); ++i) {
    const char c = source[i], next = i + 1 < source.size() ? source[i + 1] : '\0';
    switch (state) {
      case kCode:
        if (c == '/' && next == '/') {
          state = kLine;
          ++i;
          continue;
        }
        if (c == '/' && next == '*') {
          state = kBlock;
          ++i;
          continue;
        }
        if (c == '"') state = kString;
        if (c == '\'') state = kChar;
        out += c;
        break;
      case kLine:
        if (c == '\n') {
          state = kCode;
          out += c;
        }
        break;
      case kBlock:
        if (c == '*' && next == '/') {
          state = kCode;
          ++i;
        } else if (c == '\n') {
          out += c;
        }
        break;
      case kString:
      case kChar:
        out += c;
        if (c == '\\' && next != '\0') {
          out += next;
          ++i;
        } else if ((state == kString && c == '"') || (state == kChar && c == '\'') || c == '\n') {
          state = kCode;
        }
        break;
    }
  }
  return out;
}

std::vector<Flag> scan_chapter(const std::filesystem::path& submitted, const std::filesystem::path& solution,
                               const std::vector<std::string>& files) {
  // What the solution does is allowed.
  std::set<std::string> solution_includes;
  std::vector<bool> solution_uses(accesses().size(), false);
  for (const std::string& f : files) {
    const std::string code = strip_comments(read_file(solution / f));
    for (const Include& inc : includes_of(code)) solution_includes.insert(inc.path);
    for (size_t k = 0; k < accesses().size(); ++k) {
      solution_uses[k] = solution_uses[k] || std::regex_search(code, accesses()[k].pattern);
    }
  }
  std::vector<Flag> flags;
  for (const std::string& f : files) {
    if (!std::filesystem::is_regular_file(submitted / f)) continue;
    const std::string code = strip_comments(read_file(submitted / f));
    for (const Include& inc : includes_of(code)) {
      if (inc.computed) {
        flags.push_back({f, inc.line, "an include the scan cannot read (" + inc.path + "): name headers literally"});
      } else if (!include_allowed(inc.path, inc.angle, solution_includes)) {
        flags.push_back({f, inc.line, "includes \"" + inc.path + "\": the course's own code (the oracle, tests, "
                                      "solutions) and paths outside the chapter are off limits"});
      }
    }
    for (size_t k = 0; k < accesses().size(); ++k) {
      if (solution_uses[k]) continue;
      std::smatch m;
      if (std::regex_search(code, m, accesses()[k].pattern)) {
        flags.push_back({f, line_of(code, m.position(0)), std::string(accesses()[k].what) + ": \"" + m.str(0) + "\""});
      }
    }
  }
  return flags;
}

}  // namespace grade
