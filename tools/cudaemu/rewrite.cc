// The rewriter works on tokens (lexer.h) and never moves a line: an edit replaces a token's text
// or adds text before or after it. Decisions read the original tokens (orig_), so one edit never
// confuses the next. Two levels: this file finds device functions (their signatures) and
// launches; rewrite_body.cc walks a device function's statements.
#include "tools/cudaemu/rewrite.h"

#include <set>

#include "tools/cudaemu/rewrite_internal.h"

namespace cudaemu {

namespace {

const std::set<std::string, std::less<>> kSpecifiers = {
    "static",    "inline",        "extern",    "__device__", "__host__", "__global__", "__forceinline__",
    "__noinline__", "constexpr",  "virtual",   "explicit",   "friend",   "__inline__", "register",
    "thread_local", "mutable"};
// Words that end the search for a launch's kernel name (`else k<<<...>>>()`).
const std::set<std::string, std::less<>> kStatementWords = {"else", "return", "do", "case", "default", "goto"};
const std::set<std::string, std::less<>> kAttributes = {"__launch_bounds__", "__align__", "alignas", "__attribute__",
                                                        "__declspec"};

}  // namespace

Rewriter::Rewriter(std::vector<Token>& tokens, const std::string& file) : t_(tokens), file_(file) {
  for (const Token& t : t_) orig_.push_back(t.kind == Tok::kString || t.kind == Tok::kChar ? "\"" : t.text);
  done_.assign(t_.size(), false);
}

void Rewriter::fail(size_t i, const std::string& what) const {
  throw RewriteError(file_ + ":" + std::to_string(t_[std::min(i, t_.size() - 1)].line) + ": " + what);
}

bool Rewriter::is(size_t i, std::string_view s) const { return i < orig_.size() && orig_[i] == s; }

bool Rewriter::ident(size_t i) const { return i < t_.size() && t_[i].kind == Tok::kIdent; }

bool Rewriter::specifier(size_t i) const { return ident(i) && kSpecifiers.count(orig_[i]) > 0; }

bool Rewriter::attribute(size_t i) const { return ident(i) && kAttributes.count(orig_[i]) > 0 && is(i + 1, "("); }

size_t Rewriter::match(size_t open) const {
  const std::string o = orig_[open];
  const std::string c = o == "(" ? ")" : o == "[" ? "]" : "}";
  int depth = 0;
  for (size_t k = open; k < t_.size(); ++k) {
    if (t_[k].kind != Tok::kPunct) continue;
    if (orig_[k] == o) ++depth;
    if (orig_[k] == c && --depth == 0) return k;
  }
  fail(open, "'" + o + "' is never closed");
}

size_t Rewriter::match_angle(size_t open) const {
  int depth = 0;
  for (size_t k = open; k < t_.size(); ++k) {
    const std::string& s = orig_[k];
    if (s == "(" || s == "[") {
      k = match(k);
    } else if (s == "<") {
      ++depth;
    } else if (s == ">" || s == ">>" || s == ">>>") {
      depth -= static_cast<int>(s.size());
      if (depth <= 0) return k;
    } else if (s == ";" || s == "{") {
      break;
    }
  }
  fail(open, "a template argument list '<' is never closed");
}

void Rewriter::wrap(size_t first, size_t last, const std::string& before, const std::string& after) {
  t_[first].pre += before;
  t_[last].post = after + t_[last].post;
}

// [begin, star): specifiers and the pointee type; star: the '*'. The type becomes
// ::cudaemu::ptr<type> and the star (with a __restrict__ after it) goes.
bool Rewriter::checked_pointer(size_t begin, size_t star) {
  size_t first = star, last = star;
  for (size_t k = begin; k < star; ++k) {
    if (is(k, "template") && is(k + 1, "<")) {
      k = match_angle(k + 1);
    } else if (attribute(k)) {
      k = match(k + 1);
    } else if (specifier(k) || is(k, "__shared__") || t_[k].kind == Tok::kString) {
      if (first != star) fail(k, "a specifier inside a pointer's type");
    } else if (ident(k) || is(k, "::") || is(k, "<")) {
      if (first == star) first = k;
      if (is(k, "<")) k = match_angle(k);
      last = k;
    } else {
      return false;  // not a plain type (a function pointer, a reference ...): left alone
    }
  }
  if (first == star || is(first, "auto")) return false;
  wrap(first, last, "::cudaemu::ptr<", ">");
  t_[star].text.clear();
  for (size_t k = star + 1; k < t_.size() && (is(k, "__restrict__") || is(k, "__restrict") || is(k, "const") ||
                                              is(k, "volatile"));
       ++k)
    if (!is(k, "const") && !is(k, "volatile")) t_[k].text.clear();
  return true;
}

// The top-level '*' of [begin, end), if exactly one ("" otherwise: none, or a pointer to pointer).
size_t Rewriter::lone_star(size_t begin, size_t end) const {
  size_t star = end;
  int stars = 0;
  for (size_t k = begin; k < end; ++k) {
    if (is(k, "(") || is(k, "[")) {
      k = match(k);
    } else if (is(k, "<") && k > begin && ident(k - 1)) {
      k = match_angle(k);
    } else if (is(k, "*")) {
      ++stars;
      star = k;
    } else if (is(k, "=")) {
      break;  // a default argument
    }
  }
  return stars == 1 ? star : end;
}

void Rewriter::params(size_t lp, size_t rp) {
  size_t begin = lp + 1;
  for (size_t k = lp + 1; k <= rp; ++k) {
    if (is(k, "(") || is(k, "[") || is(k, "{")) {
      k = match(k);
      continue;
    }
    if (is(k, "<") && ident(k - 1)) {
      k = match_angle(k);
      continue;
    }
    if (k == rp || is(k, ",")) {
      if (const size_t star = lone_star(begin, k); star != k) checked_pointer(begin, star);
      begin = k + 1;
    }
  }
}

// A function marked __global__ or __device__ at `marker`: its signature and body. Returns the
// index of its last token (the body's '}' or the declaration's ';'), or marker where it is not
// a function (a __device__ variable).
size_t Rewriter::device_function(size_t marker) {
  size_t start = marker;
  while (start > 0 && (ident(start - 1) || is(start - 1, "::") || is(start - 1, "*") || is(start - 1, "&")) &&
         t_[start - 1].kind != Tok::kPreproc)
    --start;
  size_t k = marker + 1, name = marker, lp = 0;
  for (; t_[k].kind != Tok::kEnd; ++k) {
    if (is(k, ";") || is(k, "=") || is(k, "{") || is(k, "}")) return marker;
    if (attribute(k)) {
      k = match(k + 1);
    } else if (is(k, "operator")) {
      name = k;
      k += is(k + 1, "(") ? 3 : 1;
      while (!is(k, "(") && t_[k].kind != Tok::kEnd) ++k;
      lp = k;
      break;
    } else if (is(k, "<") && ident(k - 1)) {
      k = match_angle(k);
    } else if (is(k, "(")) {
      name = k - 1;
      lp = k;
      break;
    }
  }
  if (lp == 0) return marker;
  const size_t rp = match(lp);
  if (const size_t star = lone_star(start, name); star != name) checked_pointer(start, star);
  params(lp, rp);
  size_t q = rp + 1;
  while (t_[q].kind != Tok::kEnd && !is(q, "{") && !is(q, ";")) q = is(q, "(") ? match(q) + 1 : q + 1;
  if (!is(q, "{")) return q;
  const size_t rb = match(q);
  body(q, rb);
  return rb;
}

// kernel<<<config>>>(args) -> ::cudaemu::launch("kernel", kernel, ::cudaemu::config(config), args)
void Rewriter::launch(size_t open) {
  size_t callee = open;
  while (callee > 0) {
    const size_t p = callee - 1;
    if ((ident(p) && !kStatementWords.count(orig_[p])) || is(p, "::")) {
      callee = p;
    } else if (is(p, ">")) {  // template arguments: back to the matching '<'
      int depth = 0;
      size_t k = p;
      for (; k > 0; --k) {
        if (is(k, ">")) ++depth;
        if (is(k, "<") && --depth == 0) break;
      }
      if (depth != 0) fail(open, "cannot find the kernel's template arguments before <<<");
      callee = k;
    } else {
      break;
    }
  }
  if (callee == open) fail(open, "a launch <<< >>> needs a kernel name before it");
  size_t close = open + 1;
  for (; t_[close].kind != Tok::kEnd && !is(close, ">>>"); ++close)
    if (is(close, "(") || is(close, "[") || is(close, "{")) close = match(close);
  if (!is(close, ">>>")) fail(open, "a launch's <<< has no >>>");
  if (!is(close + 1, "(")) fail(close, "a launch's >>> must be followed by the kernel's arguments in parentheses");
  const size_t rp = match(close + 1);
  std::string name;
  for (size_t k = callee; k < open; ++k) name += orig_[k];
  t_[callee].pre += "::cudaemu::launch(\"" + name + "\", ";
  t_[open].text = ", ::cudaemu::config(";
  t_[close].text = ")";
  t_[close + 1].text = rp == close + 2 ? "" : ", ";
}

// #include "dir/x.cuh" -> #include "dir/x.emu.cuh": device headers are rewritten too
// (cuda_emu_library's cu_hdrs), and the rewritten copy sits beside the build's other outputs.
void Rewriter::device_header_include(size_t i) {
  std::string& d = t_[i].text;
  const size_t inc = d.find("include");
  const size_t open = d.find('"', inc == std::string::npos ? d.size() : inc);
  const size_t close = open == std::string::npos ? open : d.find('"', open + 1);
  if (close == std::string::npos || close < 4 || d.compare(close - 4, 4, ".cuh") != 0) return;
  d.replace(close - 4, 4, ".emu.cuh");
}

void Rewriter::run() {
  for (size_t i = 0; i < t_.size(); ++i) {
    if (t_[i].kind == Tok::kPreproc) {
      device_header_include(i);
    } else if (is(i, "__global__") || is(i, "__device__")) {
      // __host__ __device__ and __device__ __host__: one function, handled at its first marker.
      size_t end = device_function(i);
      if (end != i) i = end;
    } else if (is(i, "<<<")) {
      launch(i);
    } else if (is(i, "__shared__")) {
      fail(i, "__shared__ outside a __global__ or __device__ function");
    }
  }
}

std::string rewrite_cuda(std::string_view source, const RewriteOptions& options) {
  std::vector<Token> tokens = lex(source, options.file);
  Rewriter(tokens, options.file).run();
  std::string file;
  for (char c : options.file) file += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return "#include \"" + options.prelude + "\"\n#line 1 \"" + file + "\"\n" + join(tokens);
}

}  // namespace cudaemu
