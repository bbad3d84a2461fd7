// The statements of a device function. At the start of each statement: a __shared__
// declaration (replaced whole), an `auto` declaration (its initialisers wrapped in value()), a
// pointer declaration (its type made checked). Then, token by token: pointer casts, unary `*`,
// uses of __shared__ shared, assert.
#include <algorithm>
#include <set>

#include "tools/cudaemu/rewrite_internal.h"

namespace cudaemu {

namespace {

const std::set<std::string, std::less<>> kNotTypes = {"return", "case",   "goto",   "delete",  "throw",
                                                      "sizeof", "new",    "using",  "typedef", "else",
                                                      "do",     "co_return", "operator", "break", "continue"};
const std::set<std::string, std::less<>> kNamedCasts = {"reinterpret_cast", "static_cast", "const_cast"};
const std::set<std::string, std::less<>> kValueTypes = {"float",  "double", "int",  "unsigned", "signed", "long",
                                                        "short",  "char",   "bool", "void",     "const",  "volatile",
                                                        "size_t", "int64_t", "uint64_t", "int32_t", "uint32_t"};

std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out;
}

}  // namespace

void Rewriter::body(size_t lb, size_t rb) {
  std::vector<SharedName> shared;
  std::vector<size_t> blocks = {lb};  // the open braces that hold statements (not initialisers)
  std::vector<bool> brace_is_block;
  std::set<size_t> starts = {lb + 1};
  bool at_start = false;
  for (size_t j = lb + 1; j < rb; ++j) {
    std::erase_if(shared, [&](const SharedName& s) { return j > s.scope_end; });
    at_start = at_start || starts.count(j) > 0;
    if (t_[j].kind == Tok::kPreproc) continue;  // #pragma unroll: the statement starts after it
    if (at_start && !done_[j]) {
      at_start = false;
      std::vector<SharedName> declared;
      const size_t next = statement_start(j, rb, declared);
      for (SharedName& s : declared) s.scope_end = match(blocks.back()), shared.push_back(s);
      if (next != j) {
        j = next - 1;
        at_start = true;
        continue;
      }
    }
    at_start = false;
    if ((is(j, "for") || is(j, "if") || is(j, "while") || is(j, "switch")) && is(j + 1, "(")) {
      if (is(j, "for")) starts.insert(j + 2);
      starts.insert(match(j + 1) + 1);
    } else if (is(j, "else") || is(j, "do")) {
      starts.insert(j + 1);
    } else if (is(j, "{")) {
      const bool block = is(j - 1, ")") || is(j - 1, "{") || is(j - 1, "}") || is(j - 1, ";") || is(j - 1, "else") ||
                         is(j - 1, "do") || is(j - 1, ":") || is(j - 1, "]") || t_[j - 1].kind == Tok::kPreproc;
      brace_is_block.push_back(block);
      if (block) blocks.push_back(j), at_start = true;
    } else if (is(j, "}")) {
      if (!brace_is_block.empty()) {
        if (brace_is_block.back()) blocks.pop_back(), at_start = true;
        brace_is_block.pop_back();
      }
    } else if (is(j, ";")) {
      at_start = true;
    }
    expression_token(j, shared);
  }
}

size_t Rewriter::statement_start(size_t s, size_t rb, std::vector<SharedName>& shared) {
  for (size_t k = s; ident(k); ++k) {
    if (is(k, "__shared__")) return shared_declaration(s, rb, shared);
    if (attribute(k)) k = match(k + 1);
    else if (!is(k, "extern") && !is(k, "static") && !is(k, "volatile")) break;
  }
  auto_declaration(s);
  return pointer_declaration(s);
}

// [extern|static|volatile|__align__(n)]* __shared__ type name[dims], name2[dims2];
size_t Rewriter::shared_declaration(size_t s, size_t rb, std::vector<SharedName>& shared) {
  size_t k = s;
  bool dynamic = false;
  std::string align = "0";
  for (;; ++k) {
    if (is(k, "extern")) {
      dynamic = true;
    } else if ((is(k, "__align__") || is(k, "alignas")) && is(k + 1, "(")) {
      const size_t m = match(k + 1);
      align.clear();
      for (size_t a = k + 2; a < m; ++a) align += t_[a].text;
      k = m;
    } else if (!is(k, "static") && !is(k, "volatile") && !is(k, "__shared__")) {
      break;
    }
  }
  size_t semi = k;
  while (!is(semi, ";")) {
    if (semi >= rb) fail(s, "a __shared__ declaration without its ';'");
    semi = is(semi, "[") || is(semi, "(") || is(semi, "{") ? match(semi) + 1 : semi + 1;
  }
  // Declarators: split at top-level commas; in each the name is the identifier before its dims.
  std::vector<std::pair<size_t, size_t>> parts;
  size_t begin = k;
  for (size_t p = k; p <= semi; ++p) {
    if (is(p, "[") || is(p, "(")) p = match(p);
    else if (is(p, "<")) p = match_angle(p);
    else if (p == semi || is(p, ",")) parts.emplace_back(begin, p), begin = p + 1;
  }
  std::string type, text;
  for (size_t n = 0; n < parts.size(); ++n) {
    auto [b, e] = parts[n];
    size_t name = e;
    while (name > b && is(name - 1, "]")) {  // back over the dims
      size_t open = name - 1;
      for (int depth = 0; open > b; --open) {
        if (is(open, "]")) ++depth;
        if (is(open, "[") && --depth == 0) break;
      }
      name = open;
    }
    --name;
    if (name < b || !ident(name) || (n == 0 && name == b))
      fail(b, "cannot read this __shared__ declaration (write `__shared__ type name[size];`)");
    if (n == 0) {
      for (size_t a = b; a < name; ++a)
        if (is(a, "*")) fail(a, "a __shared__ pointer variable is not supported by the emulator");
      type = spaced(b, name);
    } else if (name != b) {
      fail(b, "a __shared__ declarator with its own type parts");
    }
    const std::string dims = spaced(name + 1, e);
    const std::string& id = t_[name].text;
    const std::string site = "CUDAEMU_SITE(\"" + escaped(type + " " + id + dims) + "\", " + std::to_string(t_[name].line) + ")";
    if (dynamic) {
      if (dims != "[]") fail(name, "an extern __shared__ array is declared with empty brackets: name[]");
      text += "::cudaemu::dynamic_shared<" + type + "> " + id + "{" + site + "};";
      shared.push_back({id, 0, "", false});
    } else if (!dims.empty()) {
      text += "::cudaemu::shared_array<" + type + dims + "> " + id + "{" + site + ", " + align + "};";
      shared.push_back({id, 0, type + dims, false});
    } else {
      text += "::cudaemu::shared_var<" + type + "> " + id + "{" + site + ", " + align + "};";
      shared.push_back({id, 0, type, true});
    }
  }
  t_[s].text = text;
  for (size_t a = s; a <= semi; ++a) {
    if (a > s) t_[a].text.clear();
    done_[a] = true;
  }
  return semi + 1;
}

// The tokens [b, e) as written, with one space where the source had any.
std::string Rewriter::spaced(size_t b, size_t e) const {
  std::string out;
  for (size_t a = b; a < e; ++a) out += (a > b && !t_[a].space.empty() ? " " : "") + t_[a].text;
  return out;
}

// auto x = e, y = f;  ->  auto x = ::cudaemu::value(e), y = ::cudaemu::value(f);
void Rewriter::auto_declaration(size_t s) {
  size_t k = s;
  while (is(k, "const") || is(k, "static") || is(k, "constexpr") || is(k, "volatile")) ++k;
  if (!is(k, "auto")) return;
  ++k;
  for (;;) {
    while (is(k, "&") || is(k, "&&") || is(k, "*") || is(k, "const")) {
      if (is(k, "*")) t_[k].text.clear(), done_[k] = true;  // auto* p = ...: the ptr is deduced
      ++k;
    }
    if (!ident(k)) return;  // auto [a, b] = ..., or not a declaration
    ++k;
    if (is(k, "=")) {
      size_t e = k + 1;
      while (!is(e, ",") && !is(e, ";") && !is(e, ")") && t_[e].kind != Tok::kEnd)
        e = is(e, "(") || is(e, "[") || is(e, "{") ? match(e) + 1 : e + 1;
      if (e == k + 1) return;
      wrap(k + 1, e - 1, "::cudaemu::value(", ")");
      k = e;
    } else if (is(k, "{") || is(k, "(")) {
      const size_t m = match(k);
      if (m > k + 1) wrap(k + 1, m - 1, "::cudaemu::value(", ")");
      k = m + 1;
    }
    if (!is(k, ",")) return;
    ++k;
  }
}

// type *a = e, *b;  ->  ::cudaemu::ptr<type> a = e, b;   (left alone unless it is surely that)
size_t Rewriter::pointer_declaration(size_t s) {
  if (!ident(s) || kNotTypes.count(orig_[s]) || is(s, "auto")) return s;
  size_t k = s;
  while (ident(k) || is(k, "::")) {
    if (ident(k) && is(k + 1, "<")) {  // a template type, if a '*' or '::' follows its '>'
      size_t m = k + 1;
      int depth = 0;
      for (; t_[m].kind != Tok::kEnd && !is(m, ";") && !is(m, "{"); ++m) {
        if (is(m, "<")) ++depth;
        if ((is(m, ">") || is(m, ">>")) && (depth -= static_cast<int>(orig_[m].size())) <= 0) break;
      }
      if (!(is(m + 1, "*") || is(m + 1, "::"))) return s;
      k = m;
    }
    ++k;
  }
  if (!is(k, "*")) return s;
  const size_t star = k;
  std::vector<size_t> stars, restricts;
  for (size_t d = star;;) {
    if (!is(d, "*")) fail(d, "declare pointers and non-pointers in separate statements");
    if (is(d + 1, "*")) return s;  // a pointer to pointer: left unchecked
    stars.push_back(d);
    size_t e = d + 1;
    while (is(e, "const") || is(e, "volatile") || is(e, "__restrict__") || is(e, "__restrict")) {
      if (!is(e, "const") && !is(e, "volatile")) restricts.push_back(e);
      ++e;
    }
    if (!ident(e)) return s;
    ++e;
    while (is(e, "[")) e = match(e) + 1;
    if (is(e, "=")) {
      while (!is(e, ",") && !is(e, ";") && !is(e, ")") && t_[e].kind != Tok::kEnd)
        e = is(e, "(") || is(e, "[") || is(e, "{") ? match(e) + 1 : e + 1;
    }
    if (is(e, ";") || is(e, ")") || is(e, ":")) break;
    if (!is(e, ",")) return s;
    d = e + 1;
  }
  if (!checked_pointer(s, star)) return s;
  for (size_t d : stars) t_[d].text.clear(), done_[d] = true;
  for (size_t r : restricts) t_[r].text.clear();
  for (size_t a = s; a < star; ++a) done_[a] = true;
  return s;
}

void Rewriter::expression_token(size_t j, const std::vector<SharedName>& shared) {
  if (done_[j]) return;
  if (kNamedCasts.count(orig_[j]) && is(j + 1, "<")) {
    const size_t m = match_angle(j + 1);
    if (is(m - 1, "*") && !is(m - 2, "*")) {
      t_[j].text = "::cudaemu::ptr_cast";
      t_[m - 1].text.clear();
      done_[m - 1] = true;
    }
  } else if (is(j, "(") && j > 0) {
    const size_t m = match(j);
    const bool after_operand = (ident(j - 1) && !kNotTypes.count(orig_[j - 1])) || is(j - 1, ")") || is(j - 1, "]") ||
                               is(j - 1, "sizeof") || is(j - 1, "alignof") || is(j - 1, "decltype");
    if (!after_operand && m > j + 1 && is(m - 1, "*") && !is(m - 2, "*") && cast_parens(j, m)) {
      const size_t e = operand_end(m + 1);
      t_[j].text = "::cudaemu::ptr_cast<";
      t_[m - 1].text = ">(";
      t_[m].text.clear();
      t_[e - 1].post = ")" + t_[e - 1].post;
      done_[m - 1] = done_[m] = true;
    }
  } else if (is(j, "*") && unary_position(j)) {
    const size_t e = operand_end(j + 1);
    t_[j].text = "::cudaemu::deref(";
    t_[e - 1].post = ")" + t_[e - 1].post;
  } else if (is(j, "?")) {
    conditional(j);
  } else if (is(j, "assert") && is(j + 1, "(")) {
    t_[j].text = "CUDAEMU_ASSERT";
  } else if (is(j, "sizeof") && is(j + 1, "(") && is(j + 3, ")")) {
    for (const SharedName& s : shared) {  // the declared type's size, not the proxy's
      if (orig_[j + 2] != s.name || s.type.empty()) continue;
      t_[j + 2].text = s.type;
      done_[j + 2] = true;
    }
  } else if (ident(j) && !is(j - 1, ".") && !is(j - 1, "->") && !is(j - 1, "::") && !is(j + 1, "::")) {
    for (const SharedName& s : shared)
      if (orig_[j] == s.name && s.scalar) t_[j].text += ".at()";
  }
}

// c ? a : b -> c ? ::cudaemu::value(a) : ::cudaemu::value(b). With a proxy on one side and, say,
// an int literal on the other (`i < n ? x[i] : 0`), C++ would convert the proxy to int: only
// that direction exists. As values, the usual arithmetic conversions apply, as on a GPU.
void Rewriter::conditional(size_t q) {
  size_t colon = q + 1;
  for (int nested = 0; t_[colon].kind != Tok::kEnd; ++colon) {
    if (is(colon, "(") || is(colon, "[") || is(colon, "{")) colon = match(colon);
    else if (is(colon, "?")) ++nested;
    else if (is(colon, ":") && nested-- == 0) break;
    else if (is(colon, ";")) fail(q, "a '?' without its ':'");
  }
  size_t end = colon + 1;
  for (int nested = 0; t_[end].kind != Tok::kEnd; ++end) {
    if (is(end, "(") || is(end, "[") || is(end, "{")) {
      end = match(end);
    } else if (is(end, "?")) {
      ++nested;
    } else if (is(end, ":")) {
      if (nested-- == 0) break;
    } else if (is(end, ")") || is(end, "]") || is(end, "}") || is(end, ",") || is(end, ";")) {
      break;
    }
  }
  if (colon == q + 1 || end == colon + 1) fail(q, "cannot read this conditional expression");
  wrap(q + 1, colon - 1, "::cudaemu::value(", ")");
  wrap(colon + 1, end - 1, "::cudaemu::value(", ")");
}

bool Rewriter::unary_position(size_t j) const {
  const size_t p = j - 1;
  if (t_[p].kind == Tok::kIdent) return kNotTypes.count(orig_[p]) > 0 && !is(p, "sizeof");
  if (t_[p].kind == Tok::kNumber || t_[p].kind == Tok::kString || t_[p].kind == Tok::kChar) return false;
  return !is(p, ")") && !is(p, "]") && !is(p, "++") && !is(p, "--");
}

// ( type ) or ( type * ): what may stand in a cast's parentheses.
bool Rewriter::cast_parens(size_t open, size_t close) const {
  bool builtin_only = true;
  for (size_t k = open + 1; k < close; ++k) {
    if (is(k, "<") && ident(k - 1)) {
      k = match_angle(k);
      builtin_only = false;
    } else if (ident(k)) {
      if (!kValueTypes.count(orig_[k])) builtin_only = false;
    } else if (!is(k, "::") && !is(k, "*") && !is(k, "&")) {
      return false;
    }
  }
  return close > open + 1 && (builtin_only || is(close - 1, "*") || is(close - 1, "&"));
}

// The end (one past) of the unary expression starting at k: what a '*' or a cast applies to.
size_t Rewriter::operand_end(size_t k) const {
  while (is(k, "*") || is(k, "&") || is(k, "-") || is(k, "+") || is(k, "!") || is(k, "~") || is(k, "++") ||
         is(k, "--"))
    ++k;
  if (is(k, "(")) {
    const size_t m = match(k);
    if (cast_parens(k, m)) return operand_end(m + 1);
    k = m + 1;
  } else if (kNamedCasts.count(orig_[k]) && is(k + 1, "<")) {
    k = match_angle(k + 1) + 1;
  } else if (t_[k].kind == Tok::kIdent || t_[k].kind == Tok::kNumber || t_[k].kind == Tok::kString ||
             t_[k].kind == Tok::kChar) {
    ++k;
    while (is(k, "::") && ident(k + 1)) k += 2;
  } else {
    fail(k, "cannot tell what this '*' or cast applies to");
  }
  for (;;) {
    if (is(k, "[") || is(k, "(")) {
      k = match(k) + 1;
    } else if ((is(k, ".") || is(k, "->")) && ident(k + 1)) {
      k += 2;
    } else if (is(k, "++") || is(k, "--")) {
      ++k;
    } else {
      return k;
    }
  }
}

}  // namespace cudaemu
