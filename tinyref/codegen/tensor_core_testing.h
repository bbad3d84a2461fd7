// What the tensor-core tests share: a fresh GPU Kernel of a tensor's last kernel, and codegen
// options that put tensor cores first.
//
//   const Kernel k = gpu_kernel(a.matmul(b));              // (m, n, k), no optimization yet
//   for (const Kernel& v : gpu_variants(k, gpu_tf32_options())) ...   // tensor-core ones first
#ifndef TINYREF_CODEGEN_TENSOR_CORE_TESTING_H_
#define TINYREF_CODEGEN_TENSOR_CORE_TESTING_H_

#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/options.h"
#include "tinyref/engine/realize.h"
#include "tinyref/schedule/schedule.h"
#include "tinyref/tensor.h"

namespace tinyref {

inline CodegenOptions gpu_tf32_options() {
  CodegenOptions o;
  o.gpu = true;
  o.tf32 = Tf32::kAll;
  o.language = Language::kCuda;
  return o;
}

inline Kernel gpu_kernel(const Tensor& t) {
  const ScheduleItem item = create_schedule({t.lazy()}).back();
  Kernel k(item.ast, buffer_args(item));
  k.gpu = true;
  return k;
}

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_TENSOR_CORE_TESTING_H_
