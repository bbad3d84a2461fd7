#include "tinyref/fuzz/graph.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "tinyref/backends/registry.h"
#include "tinyref/error.h"
#include "tinyref/shape/shapetracker.h"

namespace tinyref::fuzz {

namespace {

using Kind = FuzzNode::Kind;

// Values an exact node may reach: its multiples of `quantum` up to `bound` must fit the dtype's
// mantissa (int32: its range), or sums could round and different orders disagree.
bool fits_exactly(DType dt, double bound, double quantum) {
  switch (dt) {
    case DType::kFloat32: return bound / quantum < 0x1p23;
    case DType::kFloat64: return bound / quantum < 0x1p52;
    case DType::kInt32: return bound < 0x1p30;
    case DType::kUInt8: return bound <= 255;
    case DType::kBool: return true;
  }
  return false;
}

// What an op does to its values: a bound on their magnitude (kept for every node: the
// comparison's tolerance scales with it) and, while they stay exact, the quantum they are
// multiples of.
void track_values(FuzzNode& n, const std::vector<const FuzzNode*>& in) {
  bool exact = true;
  for (const FuzzNode* s : in) exact = exact && s->exact;
  double b = 0, q = 1;
  for (const FuzzNode* s : in) {
    b = std::max(b, s->bound);
    q = std::min(q, s->quantum);
  }
  switch (n.op) {
    case Op::NEG: case Op::MAX: case Op::RMAX: case Op::MOD: case Op::IDIV: break;
    case Op::SUM: break;  // reduce() scales the bound by the count
    case Op::ADD: case Op::SUB: b = in[0]->bound + in[1]->bound; break;
    case Op::MUL:
      b = in[0]->bound * in[1]->bound;
      q = in[0]->quantum * in[1]->quantum;
      break;
    case Op::MULACC:
      b = in[0]->bound * in[1]->bound + in[2]->bound;
      q = std::min(in[0]->quantum * in[1]->quantum, in[2]->quantum);
      break;
    case Op::WHERE:
      b = std::max(in[1]->bound, in[2]->bound);
      q = std::min(in[1]->quantum, in[2]->quantum);
      break;
    case Op::CMPLT: case Op::CMPNE: case Op::AND: b = 1; break;
    case Op::CAST:
      if (!is_float(n.dtype)) q = 1;  // truncation of an exact value is exact
      if (n.dtype == DType::kBool) b = 1;
      // A float that does not fit a uint8 converts to it undefined in C++: not a fair test.
      if (n.dtype == DType::kUInt8) exact = exact && in[0]->bound <= 255;
      break;
    // The rest round differently on each backend (libm against CUDA's, float against double).
    case Op::EXP2: exact = false; b = std::exp2(b); break;
    case Op::LOG2: exact = false; b = std::max(std::abs(std::log2(b)), std::abs(std::log2(q))) + 1; break;
    case Op::SQRT: exact = false; b = std::sqrt(b); break;
    case Op::SIN: exact = false; b = 1; break;
    case Op::RECIP: exact = false; b = 1 / q; break;
    case Op::DIV: exact = false; b = in[0]->bound / in[1]->quantum; break;
    default: exact = false;
  }
  n.exact = exact && fits_exactly(n.dtype, b, q);
  n.bound = b;
  n.quantum = q;
}

// Ops whose result jumps where an operand crosses a point (a comparison, a truncation, a pole,
// the edge of a domain): fed a value that backends round differently, their results may differ
// by more than rounding, so the generator gives them exact operands only.
bool needs_exact_operands(Op op, DType out) {
  switch (op) {
    case Op::CMPLT: case Op::CMPNE: case Op::MOD: case Op::IDIV: case Op::DIV: case Op::RECIP:
    case Op::LOG2: case Op::SQRT:
      return true;
    case Op::CAST: return !is_float(out);
    default: return false;
  }
}

const char* dtype_code(DType t) {
  switch (t) {
    case DType::kBool: return "DType::kBool";
    case DType::kUInt8: return "DType::kUInt8";
    case DType::kInt32: return "DType::kInt32";
    case DType::kFloat32: return "DType::kFloat32";
    case DType::kFloat64: return "DType::kFloat64";
  }
  return "";
}

std::string list_code(const std::vector<int64_t>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "}";
}

}  // namespace

std::vector<double> input_values(const FuzzNode& n) {
  std::mt19937_64 rng(n.seed);
  std::vector<double> v(static_cast<size_t>(prod(n.shape)));
  for (double& x : v) {
    const int64_t r = static_cast<int64_t>(rng() % 33) - 16;  // -16 .. 16
    switch (n.dtype) {
      case DType::kBool: x = r > 0; break;
      case DType::kUInt8: x = static_cast<double>(r + 16) / 2; x = std::floor(x); break;
      case DType::kInt32: x = static_cast<double>(r / 2); break;
      default: x = static_cast<double>(r) / 4; break;
    }
  }
  return v;
}

int FuzzGraph::add(FuzzNode n) {
  nodes.push_back(std::move(n));
  return static_cast<int>(nodes.size()) - 1;
}

int FuzzGraph::input(const Shape& shape, DType dtype, uint64_t seed) {
  FuzzNode n;
  n.kind = Kind::kInput;
  n.shape = ShapeTracker::from_shape(shape).shape();  // checks the shape
  n.dtype = dtype;
  n.seed = seed;
  n.bound = dtype == DType::kUInt8 ? 16 : 4;
  n.quantum = is_float(dtype) ? 0.25 : 1;
  return add(std::move(n));
}

int FuzzGraph::constant(double value, DType dtype, const Shape& shape) {
  FuzzNode n;
  n.kind = Kind::kConst;
  n.shape = ShapeTracker::from_shape(shape).shape();
  n.dtype = dtype;
  n.value = value;
  n.bound = std::abs(value);
  n.quantum = value == std::floor(value * 4) / 4 ? 0.25 : 0;
  n.exact = n.quantum > 0;
  return add(std::move(n));
}

int FuzzGraph::alu(Op op, const std::vector<int>& src, DType cast_to) {
  TT_CHECK(is_elementwise(op) && static_cast<int>(src.size()) == op_arity(op), "fuzz: " << op_name(op) << " is no "
                                                                                  << src.size() << "-operand op");
  std::vector<const FuzzNode*> in;
  for (int s : src) {
    TT_CHECK(s >= 0 && s < static_cast<int>(nodes.size()), "fuzz: no node " << s);
    in.push_back(&nodes[s]);
    TT_CHECK(in.back()->shape == in[0]->shape, "fuzz: " << op_name(op) << " of shapes " << in[0]->shape << " and "
                                                        << in.back()->shape);
  }
  const bool where = op == Op::WHERE;
  const DType dt = in[where ? 1 : 0]->dtype;
  TT_CHECK(!where || in[0]->dtype == DType::kBool, "fuzz: WHERE needs a bool condition");
  for (size_t i = where ? 1 : 0; i < in.size(); ++i) TT_CHECK(in[i]->dtype == dt, "fuzz: " << op_name(op) << " of two dtypes");
  TT_CHECK(!op_has(op, kFloatOnly) || is_float(dt), "fuzz: " << op_name(op) << " needs floats");
  TT_CHECK(!op_has(op, kIntOnly) || is_int(dt), "fuzz: " << op_name(op) << " needs integers");
  TT_CHECK(!op_has(op, kBoolOnly) || dt == DType::kBool, "fuzz: " << op_name(op) << " needs bools");
  TT_CHECK(op != Op::NEG || dt != DType::kBool, "fuzz: NEG of bools");
  FuzzNode n;
  n.kind = Kind::kAlu;
  n.op = op;
  n.src = src;
  n.shape = in[0]->shape;
  n.dtype = op == Op::CAST ? cast_to : op_has(op, kBoolResult) ? DType::kBool : dt;
  for (const FuzzNode* s : in) {
    TT_CHECK(s->exact || !needs_exact_operands(op, n.dtype), "fuzz: " << op_name(op) << " of an inexact operand");
  }
  track_values(n, in);
  TT_CHECK(n.exact || is_float(n.dtype), "fuzz: " << op_name(op) << " may overflow " << dtype_name(n.dtype));
  return add(std::move(n));
}

int FuzzGraph::reduce(Op op, int src, const std::vector<int64_t>& axes) {
  TT_CHECK(is_reduce(op) && src >= 0 && src < static_cast<int>(nodes.size()), "fuzz: bad reduce");
  const FuzzNode& s = nodes[src];
  TT_CHECK(s.dtype != DType::kBool && s.dtype != DType::kUInt8, "fuzz: reduces take int32 or floats");
  FuzzNode n;
  n.kind = Kind::kReduce;
  n.op = op;
  n.src = {src};
  n.dtype = s.dtype;
  n.shape = s.shape;
  n.ints = axes;
  double count = 1;
  for (int64_t ax : axes) {
    TT_CHECK(ax >= 0 && ax < static_cast<int64_t>(s.shape.size()), "fuzz: axis " << ax << " of " << s.shape);
    count *= static_cast<double>(n.shape[ax]);
    n.shape[ax] = 1;
  }
  track_values(n, {&s});
  if (op == Op::SUM) n.bound = s.bound * count;
  n.exact = n.exact && fits_exactly(n.dtype, n.bound, n.quantum);
  TT_CHECK(n.exact || is_float(n.dtype), "fuzz: " << op_name(op) << " may overflow " << dtype_name(n.dtype));
  return add(std::move(n));
}

int FuzzGraph::move(int src, Op op, const std::vector<int64_t>& ints, const Pairs& pairs) {
  TT_CHECK(is_movement(op) && src >= 0 && src < static_cast<int>(nodes.size()), "fuzz: bad movement");
  const ShapeTracker st = ShapeTracker::from_shape(nodes[src].shape);
  FuzzNode n = nodes[src];
  n.kind = Kind::kMove;
  n.op = op;
  n.src = {src};
  n.ints = ints;
  n.pairs = pairs;
  switch (op) {
    case Op::RESHAPE: n.shape = st.reshape(ints).shape(); break;
    case Op::PERMUTE: n.shape = st.permute({ints.begin(), ints.end()}).shape(); break;
    case Op::EXPAND: n.shape = st.expand(ints).shape(); break;
    case Op::PAD: n.shape = st.pad(pairs).shape(); break;
    case Op::SHRINK: n.shape = st.shrink(pairs).shape(); break;
    case Op::FLIP: n.shape = st.flip({ints.begin(), ints.end()}).shape(); break;
    default: TT_ASSERT(false);
  }
  return add(std::move(n));
}

int FuzzGraph::contiguous(int src) {
  TT_CHECK(src >= 0 && src < static_cast<int>(nodes.size()), "fuzz: no node " << src);
  FuzzNode n = nodes[src];
  n.kind = Kind::kContiguous;
  n.src = {src};
  return add(std::move(n));
}

std::vector<LazyRef> FuzzGraph::build(const std::string& device) const {
  std::vector<LazyRef> lazy;
  for (const FuzzNode& n : nodes) {
    auto src = [&](size_t i) { return lazy[n.src[i]]; };
    switch (n.kind) {
      case Kind::kInput: {
        const std::vector<double> v = input_values(n);
        auto buf = std::make_shared<Buffer>(get_device(device), n.dtype, v.size());
        std::vector<unsigned char> bytes(buf->nbytes());
        for (size_t i = 0; i < v.size(); ++i) {
          unsigned char* p = bytes.data() + i * itemsize(n.dtype);
          switch (n.dtype) {
            case DType::kBool: *reinterpret_cast<bool*>(p) = v[i] != 0; break;
            case DType::kUInt8: *p = static_cast<uint8_t>(v[i]); break;
            case DType::kInt32: *reinterpret_cast<int32_t*>(p) = static_cast<int32_t>(v[i]); break;
            case DType::kFloat32: *reinterpret_cast<float*>(p) = static_cast<float>(v[i]); break;
            case DType::kFloat64: *reinterpret_cast<double*>(p) = v[i]; break;
          }
        }
        buf->copy_in(bytes.data());
        lazy.push_back(LazyBuffer::buffer(buf, n.shape, device));
        break;
      }
      case Kind::kConst: lazy.push_back(LazyBuffer::constant(n.value, n.dtype, device, n.shape)); break;
      case Kind::kAlu: {
        std::vector<LazyRef> s;
        for (size_t i = 0; i < n.src.size(); ++i) s.push_back(src(i));
        lazy.push_back(LazyBuffer::alu(n.op, s, n.dtype));
        break;
      }
      case Kind::kReduce: lazy.push_back(src(0)->reduce(n.op, {n.ints.begin(), n.ints.end()})); break;
      case Kind::kMove:
        switch (n.op) {
          case Op::RESHAPE: lazy.push_back(src(0)->reshape(n.ints)); break;
          case Op::PERMUTE: lazy.push_back(src(0)->permute({n.ints.begin(), n.ints.end()})); break;
          case Op::EXPAND: lazy.push_back(src(0)->expand(n.ints)); break;
          case Op::PAD: lazy.push_back(src(0)->pad(n.pairs)); break;
          case Op::SHRINK: lazy.push_back(src(0)->shrink(n.pairs)); break;
          default: lazy.push_back(src(0)->flip({n.ints.begin(), n.ints.end()})); break;
        }
        break;
      case Kind::kContiguous: lazy.push_back(src(0)->contiguous()); break;
    }
  }
  std::vector<LazyRef> outs;
  for (int o : outputs) outs.push_back(lazy[o]->contiguous());
  return outs;
}

std::string FuzzGraph::to_code() const {
  std::ostringstream os;
  os.precision(17);
  os << "FuzzGraph g;\n";
  for (size_t i = 0; i < nodes.size(); ++i) {
    const FuzzNode& n = nodes[i];
    os << "int n" << i << " = ";
    switch (n.kind) {
      case Kind::kInput: os << "g.input(" << list_code(n.shape) << ", " << dtype_code(n.dtype) << ", " << n.seed << ");"; break;
      case Kind::kConst: os << "g.constant(" << n.value << ", " << dtype_code(n.dtype) << ", " << list_code(n.shape) << ");"; break;
      case Kind::kAlu: {
        os << "g.alu(Op::" << op_name(n.op) << ", {";
        for (size_t j = 0; j < n.src.size(); ++j) os << (j ? ", " : "") << "n" << n.src[j];
        os << "}" << (n.op == Op::CAST ? std::string(", ") + dtype_code(n.dtype) : "") << ");";
        break;
      }
      case Kind::kReduce: os << "g.reduce(Op::" << op_name(n.op) << ", n" << n.src[0] << ", " << list_code(n.ints) << ");"; break;
      case Kind::kMove: {
        os << "g.move(n" << n.src[0] << ", Op::" << op_name(n.op) << ", " << list_code(n.ints);
        if (!n.pairs.empty()) {
          os << ", {";
          for (size_t j = 0; j < n.pairs.size(); ++j) os << (j ? ", " : "") << "{" << n.pairs[j].first << ", " << n.pairs[j].second << "}";
          os << "}";
        }
        os << ");";
        break;
      }
      case Kind::kContiguous: os << "g.contiguous(n" << n.src[0] << ");"; break;
    }
    os << "  // " << n.shape << " " << dtype_name(n.dtype) << "\n";
  }
  os << "g.outputs = {";
  for (size_t i = 0; i < outputs.size(); ++i) os << (i ? ", " : "") << "n" << outputs[i];
  os << "};\n";
  return os.str();
}

std::optional<FuzzGraph> FuzzGraph::checked() const {
  FuzzGraph again;
  try {
    for (const FuzzNode& n : nodes) {
      for (int s : n.src) {
        if (s < 0 || s >= static_cast<int>(again.nodes.size())) return std::nullopt;
      }
      switch (n.kind) {
        case Kind::kInput: again.input(n.shape, n.dtype, n.seed); break;
        case Kind::kConst: again.constant(n.value, n.dtype, n.shape); break;
        case Kind::kAlu: again.alu(n.op, n.src, n.dtype); break;
        case Kind::kReduce: again.reduce(n.op, n.src[0], n.ints); break;
        case Kind::kMove: again.move(n.src[0], n.op, n.ints, n.pairs); break;
        case Kind::kContiguous: again.contiguous(n.src[0]); break;
      }
      const FuzzNode& made = again.nodes.back();
      if (made.shape != n.shape || made.dtype != n.dtype) return std::nullopt;
    }
  } catch (const Error&) {
    return std::nullopt;
  }
  for (int o : outputs) {
    if (o < 0 || o >= static_cast<int>(nodes.size())) return std::nullopt;
  }
  if (outputs.empty()) return std::nullopt;
  again.outputs = outputs;
  return again;
}

FuzzGraph FuzzGraph::without_dead_nodes() const {
  std::vector<bool> live(nodes.size(), false);
  for (int o : outputs) live[o] = true;
  for (size_t i = nodes.size(); i-- > 0;) {
    if (!live[i]) continue;
    for (int s : nodes[i].src) live[s] = true;
  }
  FuzzGraph out;
  std::vector<int> renumber(nodes.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!live[i]) continue;
    FuzzNode n = nodes[i];
    for (int& s : n.src) s = renumber[s];
    renumber[i] = static_cast<int>(out.nodes.size());
    out.nodes.push_back(std::move(n));
  }
  for (int o : outputs) out.outputs.push_back(renumber[o]);
  return out;
}

}  // namespace tinyref::fuzz
