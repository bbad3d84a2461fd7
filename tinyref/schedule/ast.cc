#include "tinyref/schedule/ast.h"

#include <sstream>
#include <unordered_map>

namespace tinyref {

namespace {

void ast_text(const AstRef& a, std::ostringstream& os, std::unordered_map<const AstNode*, int>& ids,
              int indent, bool pretty) {
  if (auto it = ids.find(a.get()); it != ids.end() && !pretty) {
    os << "@" << it->second;
    return;
  }
  ids.emplace(a.get(), static_cast<int>(ids.size()));
  if (pretty) os << std::string(2 * indent, ' ');
  os << op_name(a->op) << " " << dtype_name(a->dtype);
  if (a->op == Op::BUFFER || a->op == Op::STORE) os << " buf" << a->buf;
  if (a->op == Op::CONST) os << " " << a->value;
  if (!a->axes.empty()) {
    os << " axes(";
    for (int ax : a->axes) os << ax << ",";
    os << ")";
  }
  if (a->op == Op::BUFFER || a->op == Op::CONST || a->op == Op::STORE) os << " " << a->st.to_string();
  os << (pretty ? "\n" : "(");
  for (const AstRef& s : a->src) {
    ast_text(s, os, ids, indent + 1, pretty);
    if (!pretty) os << ",";
  }
  if (!pretty) os << ")";
}

}  // namespace

std::string ast_key(const AstRef& ast) {
  std::ostringstream os;
  os.precision(17);
  std::unordered_map<const AstNode*, int> ids;
  ast_text(ast, os, ids, 0, false);
  return os.str();
}

std::string print_ast(const AstRef& ast) {
  std::ostringstream os;
  std::unordered_map<const AstNode*, int> ids;
  ast_text(ast, os, ids, 0, true);
  return os.str();
}

}  // namespace tinyref
