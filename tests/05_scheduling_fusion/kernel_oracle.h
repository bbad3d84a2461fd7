// A second, deliberately slow way to run a kernel: every output element on its own, the tree
// walked recursively, every read through ShapeTracker::index, arithmetic in double rounded to
// the kernel's dtype after each op. It shares no code with the InterpretedRunner, so the
// interpreter's tests compare against it, and the scheduler's tests run your kernels with it
// (so a scheduler test never depends on your interpreter).
//
//   oracle::run(kernel, {out.get(), in1.get(), ...});   // like KernelRunner::run
//   oracle::run_schedule(ch05::create_schedule({y}));   // allocates, runs and realizes each
//
// Header-only: compiled into each test with the ch04 and ch05 that test links.
#ifndef TESTS_05_SCHEDULING_FUSION_KERNEL_ORACLE_H_
#define TESTS_05_SCHEDULING_FUSION_KERNEL_ORACLE_H_

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ch04/lazy.h"
#include "ch05/kernel.h"

namespace oracle {

inline double rounded(ch04::DType dtype, double v) {
  return dtype == ch04::DType::kFloat32 ? static_cast<double>(static_cast<float>(v)) : v;
}

inline double alu(ch04::Op op, double a, double b, double c) {
  using ch04::Op;
  switch (op) {
    case Op::NEG: return -a;
    case Op::EXP2: return std::exp2(a);
    case Op::LOG2: return std::log2(a);
    case Op::SIN: return std::sin(a);
    case Op::SQRT: return std::sqrt(a);
    case Op::RECIP: return 1 / a;
    case Op::ADD: return a + b;
    case Op::SUB: return a - b;
    case Op::MUL: return a * b;
    case Op::DIV: return a / b;
    case Op::MAX: return a > b ? a : b;
    case Op::CMPLT: return a < b ? 1 : 0;
    case Op::CMPNE: return a != b ? 1 : 0;
    case Op::WHERE: return a != 0 ? b : c;
    default: throw std::logic_error(std::string("oracle: ") + ch04::op_name(op) + " is not elementwise");
  }
}

struct Context {
  const ch05::Kernel& kernel;
  const std::vector<ch04::Buffer*>& bufs;
};

// The value of node n at full-shape coordinates idx (the reduced axes at 0 above the reduce).
inline double value(const Context& c, const ch05::KernelNode& n, std::vector<int64_t>& idx) {
  switch (n.kind) {
    case ch05::NodeKind::kLoad: {
      const int64_t pos = n.st.index(idx);
      return pos < 0 ? 0.0 : c.bufs.at(n.buffer)->get(pos);
    }
    case ch05::NodeKind::kConst: return n.st.index(idx) < 0 ? 0.0 : n.value;
    case ch05::NodeKind::kAlu: {
      double v[3] = {0, 0, 0};
      for (size_t i = 0; i < n.src.size(); ++i) v[i] = value(c, *n.src[i], idx);
      return rounded(n.dtype, alu(n.op, v[0], v[1], v[2]));
    }
    case ch05::NodeKind::kReduce: {
      const bool sum = n.op == ch04::Op::SUM;
      double acc = sum ? 0.0 : -std::numeric_limits<double>::infinity();
      for (int ax : n.axes) {
        if (c.kernel.shape[ax] == 0) return acc;  // nothing to reduce
      }
      // Every position of the reduced axes, in row-major order, as an odometer.
      const std::vector<int64_t> saved = idx;
      for (bool more = true; more;) {
        const double v = value(c, *n.src[0], idx);
        acc = rounded(n.dtype, sum ? acc + v : (acc > v ? acc : v));
        more = false;
        for (size_t i = n.axes.size(); i-- > 0 && !more;) {
          more = ++idx[n.axes[i]] < c.kernel.shape[n.axes[i]];
          if (!more) idx[n.axes[i]] = 0;
        }
      }
      idx = saved;
      return acc;
    }
    case ch05::NodeKind::kStore: break;
  }
  throw std::logic_error("oracle: a STORE below the root");
}

// Runs kernel k on bufs (bufs[0] written): KernelRunner::run's contract.
inline void run(const ch05::Kernel& k, const std::vector<ch04::Buffer*>& bufs) {
  ch05::verify(k);
  const Context c{k, bufs};
  const std::vector<int64_t> out = k.output_shape();
  int64_t total = 1;
  for (int64_t d : out) total *= d;
  std::vector<int64_t> idx(out.size(), 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t rest = i;
    for (size_t d = out.size(); d-- > 0;) {
      idx[d] = rest % out[d];
      rest /= out[d];
    }
    bufs[0]->set(k.ast->st.index(idx), value(c, *k.ast->src[0], idx));
  }
}

// Runs a schedule the way an engine does: a fresh buffer per kernel, run, realize.
inline void run_schedule(const std::vector<ch05::Kernel>& kernels) {
  for (const ch05::Kernel& k : kernels) {
    auto out = std::make_shared<ch04::Buffer>(k.buffers[0]->dtype(), k.buffers[0]->numel());
    std::vector<ch04::Buffer*> bufs = {out.get()};
    for (size_t i = 1; i < k.buffers.size(); ++i) {
      if (!k.buffers[i]->realized()) {
        throw std::logic_error("kernel " + k.name() + " reads buffer " + std::to_string(i) +
                               " before any kernel wrote it: the schedule is out of order");
      }
      bufs.push_back(k.buffers[i]->buffer().get());
    }
    run(k, bufs);
    k.buffers[0]->set_realized(out);
  }
}

}  // namespace oracle

#endif  // TESTS_05_SCHEDULING_FUSION_KERNEL_ORACLE_H_
