// A smoke test of the CUDA build machinery: one .cu compiled by nvcc through cuda_library.
//
//   std::string error = vector_add_on_device(a.data(), b.data(), out.data(), n);
//   if (!error.empty()) ...   // "no CUDA device", "built without CUDA", or the CUDA error
#ifndef TOOLS_CUDA_VECTOR_ADD_H_
#define TOOLS_CUDA_VECTOR_ADD_H_

#include <string>

// out = a + b on the first GPU. Returns "" on success, else why it could not run.
std::string vector_add_on_device(const float* a, const float* b, float* out, int n);

#endif  // TOOLS_CUDA_VECTOR_ADD_H_
