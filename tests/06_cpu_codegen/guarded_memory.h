// Running generated code on buffers it cannot read far past. Each buffer is placed near a page
// that may not be touched (PROT_NONE): once just before its first element, once just after its
// last. A kernel that reads a padded element's memory anyway, or a tail position past the end,
// faults on that page; the fault is caught and reported as a test failure that names the buffer
// and the side, instead of a crash (or, worse, a silently wrong number).
//
// Between a buffer and its guard page lie 64 bytes of NaN: GCC may load a whole vector whose
// first or last lanes lie outside the buffer when it knows it will discard them (a masked load
// with a mask known at compile time becomes a plain load and a blend), so a read of those bytes
// is allowed as long as it changes no result (a NaN that is used shows in the output). Writes
// there are not: the NaNs must still be there after the run.
//
//   std::vector<std::vector<double>> data = {out, in1, in2};   // buffer 0 is written
//   std::string error = guarded_memory::run(kernel_fn, {DType::kFloat32, ...}, data);
//   error.empty()    // else: "the kernel touched memory 4 bytes before buffer 1 ..."
//   data[0]          // what the kernel wrote (starting from NaN everywhere)
//
// The kernel runs on one OpenMP thread here (a fault on another thread could not be caught).
#ifndef TESTS_06_CPU_CODEGEN_GUARDED_MEMORY_H_
#define TESTS_06_CPU_CODEGEN_GUARDED_MEMORY_H_

#include <string>
#include <vector>

namespace guarded_memory {

using KernelFunction = void (*)(void** buffers);

// Runs f twice, buffers against a guard page after them, then before them; buffers[i] holds
// doubles and is stored as float when is_double[i] is false. buffers[0] is the output: it is
// filled with NaN before each run and holds the second run's result after. Returns "" or what
// went wrong (a fault, or the two runs disagreeing).
std::string run(KernelFunction f, const std::vector<bool>& is_double, std::vector<std::vector<double>>& buffers);

}  // namespace guarded_memory

#endif  // TESTS_06_CPU_CODEGEN_GUARDED_MEMORY_H_
