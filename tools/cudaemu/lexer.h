// The rewriter's view of a .cu file: C++ tokens that keep everything between them (spaces,
// comments, newlines), so that joining them gives the file back byte for byte, and an edited
// token list keeps every line where it was.
//
//   std::vector<Token> t = lex("k<<<g, b>>>(x); // go\n");
//   // t[0] {kIdent "k"}, t[1] {kPunct "<<<"}, ... t[9] {kEnd "", space " // go\n"}
//   t[1].text = ", ::cudaemu::config(";   // edit
//   std::string out = join(t);           // the file with the edit, same lines
//
// A preprocessor directive is one token (its continuation lines included). Three-character
// <<< and >>> are tokens of their own (a launch's brackets; templates count >>> as three >).
#ifndef TOOLS_CUDAEMU_LEXER_H_
#define TOOLS_CUDAEMU_LEXER_H_

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cudaemu {

enum class Tok { kIdent, kNumber, kString, kChar, kPunct, kPreproc, kEnd };

struct Token {
  Tok kind;
  std::string text;   // what the token is now (edits replace it)
  std::string space;  // whitespace and comments before it
  int line = 0;       // 1-based line of the token in the source
  std::string pre, post;  // text inserted before / after the token by edits

  bool is(std::string_view s) const { return text == s && kind != Tok::kString && kind != Tok::kChar; }
};

// Bad input (an unterminated comment or string; a construct the rewriter cannot follow),
// with the file and line.
class RewriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Always ends with one kEnd token carrying the trailing space.
std::vector<Token> lex(std::string_view source, const std::string& file);
std::string join(const std::vector<Token>& tokens);

}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_LEXER_H_
