// Runs a GpuProgram on the CPU, one thread after another, the way the GPU would run its CUDA:
// every block, every thread of it, the SPECIALs set from the block and thread number. A group
// reduce runs in two phases: every thread up to combine_after, then each group's accumulators
// combined (as the shared-memory tree would), then every thread to the end. Indices are checked,
// and so is that every output is written by exactly one thread (no thread writes what another
// one does, no output is left out; one thread may store a value twice: chapter 6 stores reduced
// values and reads them back before the ops after the reduce): the tests of planning and lowering need neither a renderer nor
// a GPU.
//
//   std::vector<std::vector<double>> bufs = {out, in1};     // buffer 0 is written
//   std::string error = gpu_interpreter::run(program, bufs); // "" or what went wrong
//
// Header-only: it reads chapter 6 and 8 types, so it compiles with whichever chapters a test links.
#ifndef TESTS_08_CUDA_CODEGEN_GPU_INTERPRETER_H_
#define TESTS_08_CUDA_CODEGEN_GPU_INTERPRETER_H_

#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "ch08/gpu_program.h"
#include "tests/06_cpu_codegen/uop_interpreter.h"

namespace gpu_interpreter {

struct Thread {
  int64_t id = 0;  // block * threads + thread
  std::map<std::string, int64_t> vars;
  std::vector<double> val;
};

class Interpreter {
 public:
  Interpreter(const ch08::GpuProgram& g, std::vector<std::vector<double>>& buffers)
      : g_(g), p_(g.program), buffers_(buffers), writer_(buffers[0].size(), -1), end_of_(p_.uops.size(), p_.uops.size()) {
    for (size_t i = 0; i < p_.uops.size(); ++i) {
      if (p_.uops[i].kind == ch06::UOpKind::kEndRange) end_of_.at(static_cast<size_t>(p_.uops[i].src.at(0))) = i;
    }
  }

  void run() {
    std::fill(buffers_[0].begin(), buffers_[0].end(), std::numeric_limits<double>::quiet_NaN());
    for (int64_t b = 0; b < g_.dims.blocks; ++b) {
      std::vector<Thread> threads(static_cast<size_t>(g_.dims.threads));
      for (int64_t t = 0; t < g_.dims.threads; ++t) {
        Thread& th = threads[static_cast<size_t>(t)];
        th.id = b * g_.dims.threads + t;
        th.val.assign(p_.uops.size(), std::numeric_limits<double>::quiet_NaN());
        for (const ch08::GpuIndex& d : g_.indices) th.vars[d.var] = ((d.block ? b : t) / d.stride) % d.extent;
      }
      const size_t split = g_.combine_after < 0 ? p_.uops.size() : static_cast<size_t>(g_.combine_after) + 1;
      for (Thread& th : threads) execute(th, 0, split);
      if (g_.combine_after >= 0) combine(threads);
      for (Thread& th : threads) execute(th, split, p_.uops.size());
    }
    for (size_t i = 0; i < writer_.size(); ++i) {
      if (writer_[i] < 0) {
        throw std::runtime_error("output " + std::to_string(i) + " was never written; every output must be written by "
                                 "exactly one thread");
      }
    }
  }

 private:
  // A group is the threads that differ only in the group digit: each accumulator of theirs
  // becomes the group's combined value.
  void combine(std::vector<Thread>& threads) {
    std::map<std::vector<int64_t>, std::vector<Thread*>> groups;
    for (Thread& th : threads) {
      std::vector<int64_t> key;
      for (const ch08::GpuIndex& d : g_.indices) {
        if (!d.block && d.var != g_.group) key.push_back(th.vars.at(d.var));
      }
      groups[key].push_back(&th);
    }
    for (size_t i = 0; i < p_.uops.size(); ++i) {
      const ch06::UOp& u = p_.uops[i];
      if (u.kind != ch06::UOpKind::kDefineAcc) continue;
      for (auto& [key, members] : groups) {
        double total = members[0]->val[i];
        for (size_t m = 1; m < members.size(); ++m) {
          total = uop_interpreter::alu_value(u.op == ch04::Op::SUM ? ch04::Op::ADD : ch04::Op::MAX, {total, members[m]->val[i]});
        }
        for (Thread* th : members) th->val[i] = total;
      }
    }
  }

  bool holds(const Thread& th, const ch04::Expr& valid) const { return !valid || ch04::evaluate(valid, th.vars) != 0; }
  double rounded(ch04::DType d, double v) const { return d == ch04::DType::kFloat32 ? static_cast<double>(static_cast<float>(v)) : v; }

  int64_t position(const Thread& th, const ch06::UOp& u) const {
    const int64_t i = ch04::evaluate(u.index, th.vars);
    const size_t b = static_cast<size_t>(u.buffer);
    if (b >= buffers_.size() || i < 0 || i >= static_cast<int64_t>(buffers_[b].size())) {
      throw std::out_of_range(std::string(u.kind == ch06::UOpKind::kLoad ? "LOAD" : "STORE") + " of buf" +
                              std::to_string(u.buffer) + "[" + std::to_string(i) + "] (" + ch04::render(u.index) +
                              "), outside its " + std::to_string(b < buffers_.size() ? buffers_[b].size() : 0) +
                              " elements");
    }
    return i;
  }

  void execute(Thread& th, size_t from, size_t to) {
    using ch06::UOpKind;
    size_t pc = from;
    while (pc < to) {
      const ch06::UOp& u = p_.uops[pc];
      switch (u.kind) {
        case UOpKind::kDefineGlobal:
        case UOpKind::kSpecial: break;
        case UOpKind::kRange:
          if (u.extent <= 0) {
            pc = end_of_[pc] + 1;
            continue;
          }
          th.vars[u.var] = 0;
          break;
        case UOpKind::kEndRange: {
          const ch06::UOp& r = p_.uops.at(static_cast<size_t>(u.src.at(0)));
          if (++th.vars[r.var] < r.extent) {
            pc = static_cast<size_t>(u.src[0]) + 1;
            continue;
          }
          th.vars.erase(r.var);
          break;
        }
        case UOpKind::kConst: th.val[pc] = holds(th, u.valid) ? rounded(u.dtype, u.value) : 0; break;
        case UOpKind::kLoad: th.val[pc] = holds(th, u.valid) ? buffers_[u.buffer][position(th, u)] : 0; break;
        case UOpKind::kAlu: {
          std::vector<double> a;
          for (int s : u.src) a.push_back(th.val.at(static_cast<size_t>(s)));
          th.val[pc] = rounded(u.dtype, uop_interpreter::alu_value(u.op, a));
          break;
        }
        case UOpKind::kDefineAcc: th.val[pc] = u.value; break;
        case UOpKind::kAccumulate:
          if (holds(th, u.valid)) {
            const ch04::Op combine = u.op == ch04::Op::SUM ? ch04::Op::ADD : ch04::Op::MAX;
            double& acc = th.val.at(static_cast<size_t>(u.src[0]));
            acc = rounded(u.dtype, uop_interpreter::alu_value(combine, {acc, th.val.at(static_cast<size_t>(u.src[1]))}));
          }
          break;
        case UOpKind::kStore:
          if (holds(th, u.valid)) {
            const int64_t i = position(th, u);
            buffers_[0][static_cast<size_t>(i)] = rounded(u.dtype, th.val.at(static_cast<size_t>(u.src.at(0))));
            int64_t& writer = writer_[static_cast<size_t>(i)];
            if (writer >= 0 && writer != th.id) {
              throw std::runtime_error("output " + std::to_string(i) + " was written by threads " + std::to_string(writer) +
                                       " and " + std::to_string(th.id) + " (block * threads + thread); every output "
                                       "must be written by exactly one thread");
            }
            writer = th.id;
          }
          break;
      }
      ++pc;
    }
  }

  const ch08::GpuProgram& g_;
  const ch06::Program& p_;
  std::vector<std::vector<double>>& buffers_;
  std::vector<int64_t> writer_;  // the thread that wrote each output, -1 for none yet
  std::vector<size_t> end_of_;
};

inline std::string run(const ch08::GpuProgram& g, std::vector<std::vector<double>>& buffers) {
  try {
    Interpreter(g, buffers).run();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace gpu_interpreter

#endif  // TESTS_08_CUDA_CODEGEN_GPU_INTERPRETER_H_
