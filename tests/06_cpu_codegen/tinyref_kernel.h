// The oracle of chapter 6's kernel tests: a kernel written as tinyref's AST (the same tree the
// test builds for chapter 5's Kernel), run by tinyref's INTERP backend, unoptimized.
//
//   tinyref::AstRef ast = ...;                       // STORE(SUM(MUL(BUFFER 1, BUFFER 2)))
//   std::vector<double> out = tinyref_kernel::run(ast, {DType::kFloat32, ...}, inputs, out_numel);
#ifndef TESTS_06_CPU_CODEGEN_TINYREF_KERNEL_H_
#define TESTS_06_CPU_CODEGEN_TINYREF_KERNEL_H_

#include <cstdint>
#include <vector>

#include "tinyref/dtype.h"
#include "tinyref/schedule/schedule.h"

namespace tinyref_kernel {

// The output (out_numel values) of the kernel `ast` with buffers 1.. holding inputs[0..] (one
// dtype per buffer, buffer 0 first).
std::vector<double> run(const tinyref::AstRef& ast, const std::vector<tinyref::DType>& dtypes,
                        const std::vector<std::vector<double>>& inputs, int64_t out_numel);

}  // namespace tinyref_kernel

#endif  // TESTS_06_CPU_CODEGEN_TINYREF_KERNEL_H_
