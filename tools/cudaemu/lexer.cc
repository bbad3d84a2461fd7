#include "tools/cudaemu/lexer.h"

#include <array>
#include <cctype>

namespace cudaemu {

namespace {

// Longest first: the lexer takes the first that matches.
constexpr std::array<std::string_view, 30> kPuncts = {
    "<<<", ">>>", "<<=", ">>=", "->*", "...", "<=>", "::", "->", ".*", "++", "--", "<<", ">>", "<=",
    ">=",  "==",  "!=",  "&&",  "||",  "+=",  "-=",  "*=", "/=", "%=", "&=", "|=", "^=", "##", "#"};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

class Lexer {
 public:
  Lexer(std::string_view s, const std::string& file) : s_(s), file_(file) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      std::string space = skip_space();
      Token t{Tok::kEnd, "", std::move(space), line_, "", ""};
      if (i_ >= s_.size()) {
        out.push_back(std::move(t));
        return out;
      }
      const size_t start = i_;
      t.kind = next_kind();
      t.text = std::string(s_.substr(start, i_ - start));
      out.push_back(std::move(t));
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw RewriteError(file_ + ":" + std::to_string(line_) + ": " + what);
  }
  char at(size_t k) const { return k < s_.size() ? s_[k] : '\0'; }
  void advance() {
    if (s_[i_] == '\n') ++line_;
    ++i_;
  }
  bool at_line_start() const {
    for (size_t k = i_; k-- > 0;) {
      if (s_[k] == '\n') return true;
      if (s_[k] != ' ' && s_[k] != '\t') return false;
    }
    return true;
  }

  std::string skip_space() {
    const size_t start = i_;
    for (;;) {
      if (i_ >= s_.size()) break;
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        advance();
      } else if (c == '/' && at(i_ + 1) == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') advance();
      } else if (c == '/' && at(i_ + 1) == '*') {
        const int opened = line_;
        advance(), advance();
        while (i_ < s_.size() && !(s_[i_] == '*' && at(i_ + 1) == '/')) advance();
        if (i_ >= s_.size()) {
          line_ = opened;
          fail("a /* comment is never closed");
        }
        advance(), advance();
      } else {
        break;
      }
    }
    return std::string(s_.substr(start, i_ - start));
  }

  Tok next_kind() {
    const char c = s_[i_];
    if (c == '#' && at_line_start()) {  // a directive, continuation lines included
      while (i_ < s_.size() && s_[i_] != '\n') {
        if (s_[i_] == '\\' && at(i_ + 1) == '\n') advance();
        advance();
      }
      return Tok::kPreproc;
    }
    if (c == 'R' && at(i_ + 1) == '"') return raw_string();
    if ((c == 'u' || c == 'U' || c == 'L') && (at(i_ + 1) == '"' || at(i_ + 1) == '\'')) advance();
    if (s_[i_] == '"' || s_[i_] == '\'') return quoted(s_[i_]);
    if (ident_start(c)) {
      while (i_ < s_.size() && ident_char(s_[i_])) advance();
      return Tok::kIdent;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && std::isdigit(static_cast<unsigned char>(at(i_ + 1))))) {
      while (i_ < s_.size()) {  // a pp-number: digits, letters, dots, ' and signed exponents
        const char d = s_[i_];
        if ((d == '+' || d == '-') && i_ > 0 && std::string_view("eEpP").find(s_[i_ - 1]) != std::string_view::npos) {
          advance();
        } else if (ident_char(d) || d == '.' || d == '\'') {
          advance();
        } else {
          break;
        }
      }
      return Tok::kNumber;
    }
    for (std::string_view p : kPuncts) {
      if (s_.substr(i_, p.size()) == p) {
        for (size_t k = 0; k < p.size(); ++k) advance();
        return Tok::kPunct;
      }
    }
    advance();
    return Tok::kPunct;
  }

  Tok quoted(char q) {
    const int opened = line_;
    advance();
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') advance();
      if (i_ < s_.size() && s_[i_] == '\n') {
        line_ = opened;
        fail(q == '"' ? "a string is not closed on its line" : "a character literal is not closed on its line");
      }
      if (i_ < s_.size()) advance();
    }
    if (i_ >= s_.size()) {
      line_ = opened;
      fail("a string or character literal is never closed");
    }
    advance();
    return q == '"' ? Tok::kString : Tok::kChar;
  }

  Tok raw_string() {
    const int opened = line_;
    advance(), advance();  // R"
    std::string delim;
    while (i_ < s_.size() && s_[i_] != '(') delim += s_[i_], advance();
    const std::string end = ")" + delim + "\"";
    while (i_ < s_.size() && s_.substr(i_, end.size()) != end) advance();
    if (i_ >= s_.size()) {
      line_ = opened;
      fail("a raw string is never closed");
    }
    for (size_t k = 0; k < end.size(); ++k) advance();
    return Tok::kString;
  }

  std::string_view s_;
  const std::string& file_;
  size_t i_ = 0;
  int line_ = 1;
};

}  // namespace

std::vector<Token> lex(std::string_view source, const std::string& file) { return Lexer(source, file).run(); }

std::string join(const std::vector<Token>& tokens) {
  std::string out;
  for (const Token& t : tokens) {
    // `c?a:b` wrapped is `c?::cudaemu::value(a): ::cudaemu::value(b)`: glued, `:::` would read as `::` `:`.
    const bool after_colon = t.space.empty() && !out.empty() && out.back() == ':';
    if (after_colon && !t.pre.empty() && t.pre[0] == ':') out += ' ';
    out += t.space + t.pre + t.text + t.post;
  }
  return out;
}

}  // namespace cudaemu
