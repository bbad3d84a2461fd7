#include "tinyref/backends/interp/interp.h"

#include <array>
#include <cmath>
#include <cstring>

#include "tinyref/codegen/uops.h"
#include "tinyref/error.h"
#include "tinyref/ops_eval.h"

namespace tinyref {

namespace {

constexpr int kMaxLanes = 16;
using Lanes = std::array<double, kMaxLanes>;

double read(const void* base, DType dt, int64_t i) {
  switch (dt) {
    case DType::kBool: return static_cast<const bool*>(base)[i] ? 1.0 : 0.0;
    case DType::kUInt8: return static_cast<const uint8_t*>(base)[i];
    case DType::kInt32: return static_cast<const int32_t*>(base)[i];
    case DType::kFloat32: return static_cast<const float*>(base)[i];
    case DType::kFloat64: return static_cast<const double*>(base)[i];
  }
  return 0;
}

void write(void* base, DType dt, int64_t i, double v) {
  v = round_to(dt, v);
  switch (dt) {
    case DType::kBool: static_cast<bool*>(base)[i] = v != 0; break;
    case DType::kUInt8: static_cast<uint8_t*>(base)[i] = static_cast<uint8_t>(v); break;
    case DType::kInt32: static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v); break;
    case DType::kFloat32: static_cast<float*>(base)[i] = static_cast<float>(v); break;
    case DType::kFloat64: static_cast<double*>(base)[i] = v; break;
  }
}

class InterpKernel : public CompiledKernel {
 public:
  explicit InterpKernel(const Program& p) : program(p), text(p.to_string()) {
    end_of.assign(p.uops.size(), -1);
    for (size_t i = 0; i < p.uops.size(); ++i) {
      TT_ASSERT(p.uops[i].lanes <= kMaxLanes);
      if (p.uops[i].kind == UOpKind::kEndRange) end_of[p.uops[i].src[0]] = static_cast<int>(i);
    }
  }
  const std::string& source() const override { return text; }

  void run(const std::vector<void*>& buffers) const {
    const std::vector<UOp>& uops = program.uops;
    std::vector<Lanes> val(uops.size());
    std::vector<std::vector<double>> local(uops.size());
    auto get = [&](int id, int lane) { return val[id][uops[id].lanes == 1 ? 0 : lane]; };
    // Where a LOAD/STORE points: a global buffer (with its dtype and size) or a local array.
    auto access = [&](const UOp& u, int64_t index, int lanes, bool is_store, const Lanes* src) -> Lanes {
      const UOp& mem = uops[u.src[0]];
      Lanes out{};
      int64_t size;
      if (mem.kind == UOpKind::kDefineLocal) {
        size = mem.arg;
      } else {
        size = program.bufs[mem.arg].size;
      }
      TT_ASSERT(index >= 0 && index + lanes <= size);
      for (int l = 0; l < lanes; ++l) {
        if (mem.kind == UOpKind::kDefineLocal) {
          std::vector<double>& arr = local[u.src[0]];
          if (is_store) arr[index + l] = round_to(mem.dtype, (*src)[l]);
          else out[l] = arr[index + l];
        } else if (is_store) {
          write(buffers[mem.arg], mem.dtype, index + l, (*src)[l]);
        } else {
          out[l] = read(buffers[mem.arg], mem.dtype, index + l);
        }
      }
      return out;
    };
    for (size_t pc = 0; pc < uops.size();) {
      const UOp& u = uops[pc];
      switch (u.kind) {
        case UOpKind::kDefineGlobal: break;
        case UOpKind::kDefineLocal: local[pc].assign(u.arg, 0.0); break;
        case UOpKind::kDefineAcc:
        case UOpKind::kConst: val[pc].fill(round_to(u.dtype, u.value)); break;
        case UOpKind::kRange:
          val[pc][0] = 0;
          if (u.arg <= 0) {
            pc = end_of[pc] + 1;
            continue;
          }
          break;
        case UOpKind::kEndRange: {
          const int r = u.src[0];
          if (++val[r][0] < uops[r].arg) {
            pc = r + 1;
            continue;
          }
          break;
        }
        case UOpKind::kLoad: {
          const bool gate = u.src.size() < 3 || val[u.src[2]][0] != 0;
          if (gate) val[pc] = access(u, static_cast<int64_t>(val[u.src[1]][0]), u.lanes, false, nullptr);
          else val[pc].fill(0);
          break;
        }
        case UOpKind::kStore: {
          const bool gate = u.src.size() < 4 || val[u.src[3]][0] != 0;
          Lanes v;
          for (int l = 0; l < u.lanes; ++l) v[l] = get(u.src[2], l);
          if (gate) access(u, static_cast<int64_t>(val[u.src[1]][0]), u.lanes, true, &v);
          break;
        }
        case UOpKind::kAlu: {
          const DType in = uops[u.src[u.op == Op::WHERE ? 1 : 0]].dtype;
          for (int l = 0; l < u.lanes; ++l) {
            double a = get(u.src[0], l);
            double b = u.src.size() > 1 ? get(u.src[1], l) : 0;
            double c = u.src.size() > 2 ? get(u.src[2], l) : 0;
            val[pc][l] = eval_alu(u.op, u.dtype, in, a, b, c);
          }
          break;
        }
        case UOpKind::kAssign:
          for (int l = 0; l < u.lanes; ++l) val[u.src[0]][l] = get(u.src[1], l);
          break;
        case UOpKind::kVectorize:
          for (int l = 0; l < u.lanes; ++l) val[pc][l] = val[u.src[l]][0];
          break;
        case UOpKind::kGep: val[pc][0] = val[u.src[0]][u.arg]; break;
        case UOpKind::kBroadcast: val[pc].fill(val[u.src[0]][0]); break;
        case UOpKind::kSpecial:
        case UOpKind::kBarrier:
        case UOpKind::kMma:
        case UOpKind::kCopyAsync:
        case UOpKind::kAsyncCommit:
        case UOpKind::kAsyncWait:
        case UOpKind::kWgmma:
        case UOpKind::kWgmmaFence:
        case UOpKind::kWgmmaCommit:
        case UOpKind::kWgmmaWait:
        case UOpKind::kProxyFence:
          // The interpreter runs loops only; CodegenOptions without `gpu` never produce these.
          TT_CHECK(false, "INTERP: " << program.name << " is a GPU program (" << uop_kind_name(u.kind) << ")");
          break;
        case UOpKind::kHReduce: {
          const UOp& s = uops[u.src[0]];
          double acc = val[u.src[0]][0];
          for (int l = 1; l < s.lanes; ++l) {
            acc = eval_alu(u.op == Op::SUM ? Op::ADD : Op::MAX, u.dtype, u.dtype, acc, val[u.src[0]][l]);
          }
          val[pc][0] = acc;
          break;
        }
      }
      ++pc;
    }
  }

 private:
  Program program;
  std::string text;
  std::vector<int> end_of;
};

class InterpDevice : public HostDevice {
 public:
  const std::string& name() const override { return name_; }
  std::shared_ptr<CompiledKernel> compile(const Program& program) override {
    return std::make_shared<InterpKernel>(program);
  }
  void launch(const CompiledKernel& kernel, const std::vector<void*>& buffers) override {
    static_cast<const InterpKernel&>(kernel).run(buffers);
  }
  // The CPU backend's options, so that INTERP runs (serially) the very IR the CPU runs; no
  // language: it runs the uops, not a rendering of them.
  CodegenOptions codegen_options() const override { return {.vector_bytes = 32, .threads = 2, .max_upcast = 64}; }

 private:
  std::string name_ = "INTERP";
};

}  // namespace

std::unique_ptr<Device> make_interp_device() { return std::make_unique<InterpDevice>(); }

}  // namespace tinyref
