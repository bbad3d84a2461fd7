#include "tinyref/codegen/c_style.h"

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "tinyref/error.h"

namespace tinyref {

namespace {

std::string vec_type(DType dt, int lanes) {
  return std::string(dt == DType::kFloat64 ? "f64" : dt == DType::kFloat32 ? "f32" : "i32") + "x" +
         std::to_string(lanes);
}

std::string type_of(DType dt, int lanes) { return lanes == 1 ? c_type(dt) : vec_type(dt, lanes); }

// The literal as C prints it, its sign included.
std::string signed_literal(double v, DType dt) {
  std::ostringstream os;
  if (dt == DType::kFloat32 || dt == DType::kFloat64) {
    const char* f = dt == DType::kFloat32 ? "f" : "";
    const char* F = dt == DType::kFloat32 ? "F" : "";
    if (std::isnan(v)) return std::string("TT_NAN") + F;
    if (std::isinf(v)) return std::string(v < 0 ? "(-TT_INF" : "(TT_INF") + F + ")";
    os.precision(dt == DType::kFloat32 ? 9 : 17);
    os << v;
    std::string s = os.str();
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s + f;
  }
  if (dt == DType::kBool) return v != 0 ? "true" : "false";
  if (dt == DType::kUInt8) return "(unsigned char)" + std::to_string(static_cast<int64_t>(v));
  if (v == -2147483648.0) return "(-2147483647-1)";
  return std::to_string(static_cast<int64_t>(v));
}

// A negative literal is parenthesized: ops.def's templates put operands next to operators, and
// "($0-$1)" of -2.25f would read "(val0--2.25f)", a decrement.
std::string literal(double v, DType dt) {
  const std::string s = signed_literal(v, dt);
  return s.starts_with('-') ? "(" + s + ")" : s;
}

class CStyleRenderer {
 public:
  CStyleRenderer(const Program& p, const CLanguage& lang) : p_(p), lang_(lang), expr_(p.uops.size()), uses_(p.uops.size(), 0) {
    for (const UOp& u : p.uops) {
      for (int s : u.src) ++uses_[s];
    }
  }

  std::string run() {
    std::ostringstream out;
    out << lang_.prefix;
    std::set<int64_t> wgmma_widths;  // the N of each WGMMA: one prefix function each
    for (const UOp& u : p_.uops) {
      if (u.kind == UOpKind::kWgmma) wgmma_widths.insert(u.arg);
    }
    TT_CHECK(wgmma_widths.empty() || lang_.wgmma != nullptr,
             "renderer: " << p_.name << " runs warpgroup MMAs (WGMMA), which this language lacks");
    for (int64_t n : wgmma_widths) out << lang_.wgmma(static_cast<int>(n));
    std::set<std::pair<DType, int>> vecs;
    for (const UOp& u : p_.uops) {
      if (u.lanes > 1) vecs.insert({u.dtype == DType::kBool ? DType::kInt32 : u.dtype, u.lanes});  // masks: i32 lanes
    }
    TT_CHECK(vecs.empty() || lang_.vectors || lang_.vector_structs,
             "renderer: " << p_.name << " has vector values, which this language lacks");
    for (auto [dt, lanes] : vecs) {
      if (lang_.vector_structs) {  // the prefix defines them (f32x4 only)
        TT_CHECK(dt == DType::kFloat32 && lanes == 4, "renderer: " << p_.name << " needs " << vec_type(dt, lanes)
                                                                  << "; this language has f32x4 only");
        continue;
      }
      const std::string v = vec_type(dt, lanes), s = c_type(dt);
      out << "typedef " << s << " " << v << " __attribute__((vector_size(" << lanes * itemsize(dt) << ")));\n";
      if (!is_float(dt)) continue;
      for (const char* fn : {"tt_exp2", "tt_log2", "tt_sin", "tt_sqrt"}) {
        out << "static inline " << v << " " << fn << "(" << v << " x) { " << v << " r; for (int i = 0; i < "
            << lanes << "; i++) r[i] = " << fn << "(x[i]); return r; }\n";
      }
    }
    out << lang_.kernel_prefix;
    if (!lang_.launch_bounds.empty()) out << lang_.launch_bounds << "(" << p_.local_size << ") ";
    out << p_.name << "(";
    bool first = true;
    for (size_t i = 0; i < p_.uops.size(); ++i) {
      const UOp& u = p_.uops[i];
      if (u.kind != UOpKind::kDefineGlobal) continue;
      expr_[i] = "data" + std::to_string(u.arg);
      out << (first ? "" : ", ") << (u.arg == 0 ? "" : "const ") << c_type(u.dtype) << "* __restrict__ " << expr_[i];
      first = false;
    }
    out << ") {\n";
    for (size_t i = 0; i < p_.uops.size(); ++i) statement(static_cast<int>(i));
    out << body_.str() << "}\n";
    return out.str();
  }

 private:
  std::string name(const std::string& prefix) { return prefix + std::to_string(counters_[prefix]++); }
  void line(const std::string& s) { body_ << std::string(2 * depth_, ' ') << s << "\n"; }
  const std::string& e(int id) const { return expr_[id]; }

  // GCC vector types (C++) take a scalar operand in arithmetic; a language's vector structs
  // (CUDA's f32x4) have a helper instead. Aligned accesses only where the language says so:
  // GCC's vector types may sit anywhere, a CUDA float4 access must be 16-byte aligned.
  // A mask (a bool vector, ops.def) holds 0 or -1 a lane, as GCC's comparisons leave it: a bool
  // becomes one as 0 - b, and a lane of one becomes a bool as m[l] != 0.
  std::string broadcast(const std::string& x, const UOp& u) const {
    const std::string vt = vec_type(u.dtype, u.lanes);
    if (lang_.vector_structs) return "tt_broadcast<" + vt + ">(" + x + ")";
    return u.dtype == DType::kBool ? "((" + vt + "){}-(" + x + "))" : "(" + x + "-(" + vt + "){})";
  }
  std::string zero_vector(const std::string& vt) const { return lang_.vector_structs ? vt + "{}" : "(" + vt + "){}"; }
  bool aligned(const UOp& u) const { return lang_.vector_structs && u.arg == 1; }
  // The language's text for a GPU-only kind, or a refusal that says which kind it lacks.
  const std::string& needs(const std::string& text, const UOp& u) const {
    TT_CHECK(!text.empty(), "renderer: " << p_.name << " has " << uop_kind_name(u.kind) << ", which this language lacks");
    return text;
  }

  std::string alu_expr(const UOp& u) {
    if (u.op == Op::CAST && u.lanes > 1 && !lang_.vector_structs) {  // a C cast would reinterpret the bits
      const std::string& x = e(u.src[0]);
      if (u.dtype == DType::kBool) return "(" + x + "!=0)";
      const bool from_mask = p_.uops[u.src[0]].dtype == DType::kBool;
      return "__builtin_convertvector(" + (from_mask ? "-" + x : x) + ", " + vec_type(u.dtype, u.lanes) + ")";
    }
    std::string t = op_template(u.op), out;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '$' && i + 1 < t.size() && t[i + 1] >= '0' && t[i + 1] <= '2') {
        out += e(u.src[t[i + 1] - '0']);
        ++i;
      } else if (t[i] == '$' && i + 1 < t.size() && t[i + 1] == 'T') {
        out += type_of(u.dtype, u.lanes);
        ++i;
      } else {
        out += t[i];
      }
    }
    return out;
  }

  // Defines a variable for uop i, or leaves its expression to be inlined into its one user.
  void bind(int i, const std::string& prefix, const std::string& value, bool inline_ok) {
    const UOp& u = p_.uops[i];
    if (inline_ok && uses_[i] <= 1) {
      expr_[i] = value;
      return;
    }
    expr_[i] = name(prefix);
    line(type_of(u.dtype, u.lanes) + " " + expr_[i] + " = " + value + ";");
  }

  void statement(int i) {
    const UOp& u = p_.uops[i];
    switch (u.kind) {
      case UOpKind::kDefineGlobal: break;
      case UOpKind::kDefineLocal:
        expr_[i] = name("part");
        if (u.tag == "pack") {  // aligned: a panel's vectors are read as whole vectors
          TT_CHECK(!lang_.thread_array_prefix.empty(), "renderer: " << p_.name << " packs a panel, which this language cannot hold");
          // Read through a pointer: a panel packed before the parallel loop is the calling
          // thread's, and inside the loop its name would be each thread's own (thread_local).
          line(lang_.thread_array_prefix + c_type(u.dtype) + " " + expr_[i] + "_[" + std::to_string(u.arg) +
               "] __attribute__((aligned(64)));");
          line(std::string(c_type(u.dtype)) + "* const " + expr_[i] + " = " + expr_[i] + "_;");
          break;
        }
        if (dynamic_shared_) {  // a pointer into the launch's block, 16 bytes (a float4) a step
          if (shared_offset_ == 0) line(lang_.dynamic_shared);
          line(std::string(c_type(u.dtype)) + "* " + expr_[i] + " = (" + c_type(u.dtype) + "*)(tt_shared + " +
               std::to_string(shared_offset_ / 16) + ");");
          shared_offset_ += shared_array_bytes(u);
          break;
        }
        line(lang_.shared_prefix + c_type(u.dtype) + " " + expr_[i] + "[" + std::to_string(u.arg) + "];");
        break;
      case UOpKind::kConst: expr_[i] = literal(u.value, u.dtype); break;
      case UOpKind::kDefineAcc: {
        std::string init = literal(u.value, u.dtype);
        if (u.lanes > 1) init = broadcast(init, u);
        expr_[i] = name("acc");
        line(type_of(u.dtype, u.lanes) + " " + expr_[i] + " = " + init + ";");
        break;
      }
      case UOpKind::kRange: {
        expr_[i] = name(u.tag.empty() ? "idx" : u.tag);
        if (u.parallel && lang_.openmp) line("#pragma omp parallel for");
        line("for (int " + e(i) + " = 0; " + e(i) + " < " + std::to_string(u.arg) + "; " + e(i) + "++) {");
        ++depth_;
        break;
      }
      case UOpKind::kEndRange:
        --depth_;
        line("}");
        break;
      case UOpKind::kLoad: {
        const std::string vt = vec_type(u.dtype, u.lanes);
        std::string v = u.lanes == 1 ? e(u.src[0]) + "[" + e(u.src[1]) + "]"
                        : aligned(u) ? "*(const " + vt + "*)(" + e(u.src[0]) + "+" + e(u.src[1]) + ")"
                                     : "tt_vload<" + vt + ">(" + e(u.src[0]) + "+" + e(u.src[1]) + ")";
        if (u.src.size() > 2) {
          const std::string zero = u.lanes > 1 ? zero_vector(vt) : literal(0, u.dtype);
          v = e(u.src[2]) + "?" + v + ":" + zero;
        }
        if (u.lanes > 1 && uses_[i] > 1 && !lang_.keep_in_register.empty()) v = lang_.keep_in_register + "(" + v + ")";
        bind(i, "val", v, false);
        break;
      }
      case UOpKind::kStore: {
        std::string value = e(u.src[2]);
        if (u.tag == "tf32") {
          TT_CHECK(!lang_.round_tf32.empty(), "renderer: " << p_.name << " rounds to TF32, which this language cannot");
          value = lang_.round_tf32 + "(" + value + ")";
        }
        std::string s = u.lanes == 1 ? e(u.src[0]) + "[" + e(u.src[1]) + "] = " + value + ";"
                        : aligned(u) ? "*(" + vec_type(u.dtype, u.lanes) + "*)(" + e(u.src[0]) + "+" + e(u.src[1]) + ") = " + value + ";"
                                     : "tt_vstore(" + e(u.src[0]) + "+" + e(u.src[1]) + ", " + value + ");";
        if (u.src.size() > 3) s = "if (" + e(u.src[3]) + ") " + s;
        line(s);
        break;
      }
      case UOpKind::kAlu: bind(i, "alu", alu_expr(u), true); break;
      case UOpKind::kAssign: line(e(u.src[0]) + " = " + e(u.src[1]) + ";"); break;
      case UOpKind::kVectorize: {
        std::string v = lang_.vector_structs ? vec_type(u.dtype, u.lanes) + "{" : "(" + vec_type(u.dtype, u.lanes) + "){";
        for (size_t j = 0; j < u.src.size(); ++j) v += std::string(j ? "," : "") + (u.dtype == DType::kBool ? "-" : "") + e(u.src[j]);
        bind(i, "vec", v + "}", true);
        break;
      }
      case UOpKind::kGep: {
        const std::string lane = e(u.src[0]) + "[" + std::to_string(u.arg) + "]";
        bind(i, "alu", u.dtype == DType::kBool ? "(" + lane + "!=0)" : lane, true);
        break;
      }
      case UOpKind::kBroadcast: bind(i, "vec", broadcast(e(u.src[0]), u), true); break;
      case UOpKind::kSpecial:
        expr_[i] = name(u.tag);
        line("int " + e(i) + " = " + (u.tag == "lidx" ? lang_.thread_index : lang_.block_index) + ";");
        break;
      case UOpKind::kBarrier: line(lang_.barrier); break;
      case UOpKind::kCopyAsync: {
        TT_CHECK(!lang_.copy_async.empty(), "renderer: " << p_.name << " copies asynchronously, which this language cannot");
        const std::string bytes = std::to_string(u.lanes * static_cast<int>(itemsize(u.dtype)));
        const UOp& active = p_.uops[u.src[5]];
        const bool always = active.kind == UOpKind::kConst && active.value != 0;
        line((always ? "" : "if (" + e(u.src[5]) + ") ") + lang_.copy_async + bytes + "(" + e(u.src[0]) + "+" + e(u.src[1]) +
             ", " + e(u.src[2]) + "+" + e(u.src[3]) + ", " + e(u.src[4]) + ");");
        break;
      }
      case UOpKind::kAsyncCommit: line(lang_.async_commit); break;
      case UOpKind::kAsyncWait: line(lang_.async_wait + "(" + std::to_string(u.arg) + ");"); break;
      case UOpKind::kMma: {
        const std::string& mma = u.arg == 1 ? lang_.mma_rounded : lang_.mma;
        TT_CHECK(!mma.empty(), "renderer: " << p_.name << " runs on tensor cores, which this language lacks");
        std::string call = mma + "(";
        for (size_t j = 0; j < u.src.size(); ++j) call += (j ? ", " : "") + e(u.src[j]);
        bind(i, "mma", call + ")", false);
        break;
      }
      case UOpKind::kWgmma: {  // A's four sources, B's four, then the accumulators, updated in place
        TT_CHECK(u.src.size() == 8 + static_cast<size_t>(u.arg / 2),
                 "renderer: " << p_.name << ": a WGMMA of N " << u.arg << " takes " << u.arg / 2 << " accumulators, not "
                              << static_cast<int64_t>(u.src.size()) - 8);
        const std::string& desc = needs(lang_.wgmma_desc, u);
        const auto operand = [&](size_t at) {
          return desc + "(" + e(u.src[at]) + "+" + e(u.src[at + 1]) + ", " + e(u.src[at + 2]) + ", " + e(u.src[at + 3]) + ")";
        };
        std::string call = "tt_wgmma_m64n" + std::to_string(u.arg) + "k8(" + operand(0) + ", " + operand(4);
        for (size_t j = 8; j < u.src.size(); ++j) {
          const UOp& acc = p_.uops[u.src[j]];
          TT_CHECK(acc.kind == UOpKind::kDefineAcc && acc.dtype == DType::kFloat32 && acc.lanes == 1,
                   "renderer: " << p_.name << ": a WGMMA adds into scalar float32 DEFINE_ACCs, not " << uop_kind_name(acc.kind));
          call += ", " + e(u.src[j]);
        }
        line(call + ");");
        break;
      }
      case UOpKind::kWgmmaFence: line(needs(lang_.wgmma_fence, u)); break;
      case UOpKind::kWgmmaCommit: line(needs(lang_.wgmma_commit, u)); break;
      case UOpKind::kWgmmaWait:
        line(needs(lang_.wgmma_wait, u) + "(" + std::to_string(u.arg) + ");");
        for (int acc : u.src) line(needs(lang_.wgmma_delivered, u) + "(" + e(acc) + ");");
        break;
      case UOpKind::kProxyFence: line(needs(lang_.proxy_fence, u)); break;
      case UOpKind::kHReduce: {
        const int lanes = p_.uops[u.src[0]].lanes;
        std::string acc = e(u.src[0]) + "[0]";
        for (int l = 1; l < lanes; ++l) {
          const std::string x = e(u.src[0]) + "[" + std::to_string(l) + "]";
          acc = u.op == Op::SUM ? "(" + acc + "+" + x + ")" : "tt_max(" + acc + "," + x + ")";
        }
        bind(i, "alu", acc, false);
        break;
      }
    }
  }

  const Program& p_;
  const CLanguage& lang_;
  std::vector<std::string> expr_;
  std::vector<int> uses_;
  std::map<std::string, int> counters_;
  const bool dynamic_shared_ = lang_.max_static_shared > 0 && shared_array_bytes(p_) > lang_.max_static_shared;
  int64_t shared_offset_ = 0;  // bytes of the dynamic block given out so far
  std::ostringstream body_;
  int depth_ = 1;
};

}  // namespace

std::string render_c_style(const Program& program, const CLanguage& language) {
  return CStyleRenderer(program, language).run();
}

}  // namespace tinyref
