// Given: builders, names, printing and the invariant check of kernel.h.
#include "ch05/kernel.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace ch05 {

const char* kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::kLoad: return "LOAD";
    case NodeKind::kConst: return "CONST";
    case NodeKind::kAlu: return "ALU";
    case NodeKind::kReduce: return "REDUCE";
    case NodeKind::kStore: return "STORE";
  }
  return "?";
}

namespace {

NodeRef make(KernelNode n) { return std::make_shared<const KernelNode>(std::move(n)); }

KernelNode node(NodeKind kind, ch04::Op op, ch04::DType dtype) {
  KernelNode n;
  n.kind = kind;
  n.op = op;
  n.dtype = dtype;
  return n;
}

// "(8, 4, 16) strides (16, 0, 1)", plus the offset and mask when they matter; a ShapeTracker
// of several views prints each, bottom first.
std::string st_text(const ch04::ShapeTracker& st) {
  std::ostringstream os;
  for (size_t i = 0; i < st.views.size(); ++i) {
    const ch04::View& v = st.views[i];
    os << (i ? " | " : "") << ch04::shape_str(v.shape) << " strides " << ch04::shape_str(v.strides);
    if (v.offset != 0) os << " offset " << v.offset;
    if (v.mask) os << " mask " << ch04::pairs_str(*v.mask);
  }
  return os.str();
}

void print(const KernelNode& n, int depth, std::ostringstream& os) {
  os << std::string(2 * depth, ' ');
  switch (n.kind) {
    case NodeKind::kLoad: os << "LOAD buf" << n.buffer << " " << st_text(n.st); break;
    case NodeKind::kConst: os << "CONST " << n.value << " " << st_text(n.st); break;
    case NodeKind::kAlu: os << ch04::op_name(n.op); break;
    case NodeKind::kReduce: {
      os << ch04::op_name(n.op) << " axes (";
      for (size_t i = 0; i < n.axes.size(); ++i) os << (i ? ", " : "") << n.axes[i];
      os << ")";
      break;
    }
    case NodeKind::kStore: os << "STORE buf" << n.buffer << " " << st_text(n.st); break;
  }
  os << "\n";
  for (const NodeRef& s : n.src) print(*s, depth + 1, os);
}

}  // namespace

NodeRef load(int buffer, ch04::DType dtype, ch04::ShapeTracker st) {
  KernelNode n = node(NodeKind::kLoad, ch04::Op::LOAD, dtype);
  n.buffer = buffer;
  n.st = std::move(st);
  return make(std::move(n));
}

NodeRef constant(double value, ch04::DType dtype, ch04::ShapeTracker st) {
  KernelNode n = node(NodeKind::kConst, ch04::Op::CONST, dtype);
  n.value = value;
  n.st = std::move(st);
  return make(std::move(n));
}

NodeRef alu(ch04::Op op, std::vector<NodeRef> src) {
  KernelNode n = node(NodeKind::kAlu, op, src.empty() ? ch04::DType::kFloat32 : src[0]->dtype);
  n.src = std::move(src);
  return make(std::move(n));
}

NodeRef reduce(ch04::Op op, NodeRef src, std::vector<int> axes) {
  KernelNode n = node(NodeKind::kReduce, op, src->dtype);
  n.src = {std::move(src)};
  n.axes = std::move(axes);
  return make(std::move(n));
}

// The STORE's op is unused (its kind says it all).
NodeRef store(NodeRef src, ch04::ShapeTracker st) {
  KernelNode n = node(NodeKind::kStore, ch04::Op::CONTIGUOUS, src->dtype);
  n.src = {std::move(src)};
  n.buffer = 0;
  n.st = std::move(st);
  return make(std::move(n));
}

const KernelNode* Kernel::reduce_node() const {
  std::vector<const KernelNode*> todo = {ast.get()};
  while (!todo.empty()) {
    const KernelNode* n = todo.back();
    todo.pop_back();
    if (n->kind == NodeKind::kReduce) return n;
    for (const NodeRef& s : n->src) todo.push_back(s.get());
  }
  return nullptr;
}

ch04::Shape Kernel::output_shape() const { return ast->st.shape(); }

std::string Kernel::name() const {
  std::string out = reduce_node() ? "r" : "E";
  for (int64_t d : shape) out += "_" + std::to_string(d);
  return out;
}

std::string to_string(const Kernel& kernel) {
  std::ostringstream os;
  os << kernel.name() << " -> " << ch04::shape_str(kernel.output_shape()) << "\n";
  print(*kernel.ast, 1, os);
  return os.str();
}

void verify(const Kernel& k) {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("kernel " + (k.ast ? k.name() : std::string("(no ast)")) + ": " + what);
  };
  if (!k.ast || k.ast->kind != NodeKind::kStore || k.ast->src.size() != 1 || k.ast->buffer != 0) {
    fail("the root must be a STORE of one source into buffer 0");
  }
  if (k.buffers.empty() || !k.buffers[0]) fail("buffers[0] (the output) is missing");
  ch04::Shape out = k.shape;
  if (const KernelNode* r = k.reduce_node()) {
    for (int ax : r->axes) {
      if (ax < 0 || ax >= static_cast<int>(out.size())) fail("reduce axis " + std::to_string(ax) + " out of range");
      out[ax] = 1;
    }
  }
  if (k.ast->st.shape() != out || !k.ast->st.is_contiguous()) {
    fail("the STORE's ShapeTracker must be contiguous of shape " + ch04::shape_str(out) + ", got " + st_text(k.ast->st));
  }
  const ch04::DType dtype = k.ast->dtype;
  int reduces = 0;
  std::vector<const KernelNode*> todo = {k.ast->src[0].get()};
  std::unordered_set<const KernelNode*> seen;
  while (!todo.empty()) {
    const KernelNode& n = *todo.back();
    todo.pop_back();
    if (!seen.insert(&n).second) continue;  // shared below two parents: checked once
    if (n.dtype != dtype) fail(std::string("mixed dtypes: ") + ch04::dtype_name(n.dtype) + " and " + ch04::dtype_name(dtype));
    switch (n.kind) {
      case NodeKind::kLoad:
        if (n.buffer < 1 || n.buffer >= static_cast<int>(k.buffers.size())) {
          fail("LOAD of buffer " + std::to_string(n.buffer) + ", but the kernel reads buffers 1.." +
               std::to_string(k.buffers.size() - 1));
        }
        [[fallthrough]];
      case NodeKind::kConst:
        if (n.st.shape() != k.shape) {
          fail(std::string(kind_name(n.kind)) + " reads shape " + ch04::shape_str(n.st.shape()) +
               ", not the full shape " + ch04::shape_str(k.shape));
        }
        break;
      case NodeKind::kAlu:
        if (!ch04::is_elementwise(n.op) || static_cast<int>(n.src.size()) != ch04::op_arity(n.op)) {
          fail(std::string("ALU node ") + ch04::op_name(n.op) + " with " + std::to_string(n.src.size()) + " sources");
        }
        break;
      case NodeKind::kReduce:
        if ((n.op != ch04::Op::SUM && n.op != ch04::Op::RMAX) || n.src.size() != 1 || ++reduces > 1) {
          fail("one reduce (SUM or RMAX of one source) at most per kernel");
        }
        if (!std::is_sorted(n.axes.begin(), n.axes.end())) fail("reduce axes must be ascending");
        break;
      case NodeKind::kStore: fail("a STORE inside the tree"); break;
    }
    for (const NodeRef& s : n.src) todo.push_back(s.get());
  }
}

}  // namespace ch05
