// The rewriter's state, shared by rewrite.cc (signatures, launches) and rewrite_body.cc
// (statements of device functions). Not part of the emulator's interface.
//
//   std::vector<Token> tokens = lex(source, "k.cu");
//   Rewriter(tokens, "k.cu").run();   // edits the tokens in place
#ifndef TOOLS_CUDAEMU_REWRITE_INTERNAL_H_
#define TOOLS_CUDAEMU_REWRITE_INTERNAL_H_

#include <string>
#include <string_view>
#include <vector>

#include "tools/cudaemu/lexer.h"

namespace cudaemu {

class Rewriter {
 public:
  Rewriter(std::vector<Token>& tokens, const std::string& file);
  void run();

 private:
  // A __shared__ name in scope: each later use of a scalar's name becomes name.at(), and
  // sizeof(name) the size of its declared type (not of the object standing in for it).
  struct SharedName {
    std::string name;
    size_t scope_end;  // the '}' closing the block it was declared in
    std::string type;  // "float[32][33]"; "" for extern __shared__ (its size is the launch's)
    bool scalar;
  };

  [[noreturn]] void fail(size_t i, const std::string& what) const;
  bool is(size_t i, std::string_view s) const;  // the original token i is s (never a string literal)
  bool ident(size_t i) const;
  bool specifier(size_t i) const;  // static, inline, __device__, ...
  bool attribute(size_t i) const;  // __launch_bounds__( ... and friends
  size_t match(size_t open) const;        // ( [ { -> the matching closer
  size_t match_angle(size_t open) const;  // < -> the matching >
  void wrap(size_t first, size_t last, const std::string& before, const std::string& after);

  // rewrite.cc
  size_t device_function(size_t marker);
  bool checked_pointer(size_t begin, size_t star);
  size_t lone_star(size_t begin, size_t end) const;
  void params(size_t lp, size_t rp);
  void launch(size_t open);
  void device_header_include(size_t i);

  // rewrite_body.cc
  void body(size_t lb, size_t rb);
  size_t statement_start(size_t s, size_t rb, std::vector<SharedName>& shared);
  size_t shared_declaration(size_t s, size_t rb, std::vector<SharedName>& shared);
  std::string spaced(size_t b, size_t e) const;
  void auto_declaration(size_t s);
  size_t pointer_declaration(size_t s);
  void expression_token(size_t j, const std::vector<SharedName>& shared);
  size_t operand_end(size_t k) const;
  bool cast_parens(size_t open, size_t close) const;
  bool unary_position(size_t j) const;
  void conditional(size_t q);

  std::vector<Token>& t_;
  std::vector<std::string> orig_;  // the tokens as lexed (string literals as '"')
  std::vector<bool> done_;         // consumed by a declaration's rewrite: no expression rules
  std::string file_;
};

}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_REWRITE_INTERNAL_H_
