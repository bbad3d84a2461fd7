#include <algorithm>
#include <stdexcept>

#include "ch02/ops.h"
#include "chapters/course.h"

namespace ch02 {
namespace {

// Given.
[[maybe_unused]] void check_matmul_shapes(const char* op, const Shape& a, const Shape& b) {
  if (a.size() != 2 || b.size() != 2 || a[1] != b[0]) {
    throw std::invalid_argument(std::string(op) + ": cannot multiply " + shape_str(a) + " by " +
                                shape_str(b) + " (need (M, K) @ (K, N))");
  }
}

// ch02.8's blocking (the README has the picture). Starting values that work well on x86 with
// SSE; measure before you change them.
constexpr int64_t kMR = 6;     // rows of the C tile a kernel call keeps in registers
constexpr int64_t kNR = 8;     // its columns
constexpr int64_t kKC = 256;   // k values per slab: one packed B panel (KC x NR) fits L1
constexpr int64_t kNC = 1024;  // columns of B packed at once

// C[0..mr, 0..nr) += (packed A panel) @ (packed B panel) over kc values of k, where the packed
// A panel holds a[k][0..MR) for k = 0..kc and the packed B panel b[k][0..NR).
template <typename T>
void micro_kernel(int64_t kc, const T* __restrict ap, const T* __restrict bp, T* __restrict c,
                  int64_t ldc, int64_t mr, int64_t nr) {
  // TODO(ch02.8): an MR x NR accumulator array, zero; for each k, acc[i][j] += a[i] * b[j];
  // then add the valid mr x nr corner into c (row stride ldc). Keeping acc in registers for
  // the whole k loop is what makes this fast: put `#pragma omp simd` on the j loop (vectorize
  // it) and `#pragma GCC unroll 6` on the i loop (unrolled, acc[i] needs no memory address).
  // Measure with and without (the README says how to run the benchmark).
  throw course::NotImplemented("ch02.8: micro_kernel");
}

}  // namespace

template <typename T>
Tensor<T> matmul_naive(const Tensor<T>& a, const Tensor<T>& b) {
  // TODO(ch02.7): check_matmul_shapes, then for i, for j, for k: read a and b through their
  // strides and offsets (no contiguous() copies needed) and sum into a row-major result.
  throw course::NotImplemented("ch02.7: matmul_naive");
}

template <typename T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  // TODO(ch02.8): for each slab of kKC values of k:
  //   pack A[:, slab] into MR-row panels (rows past M are zeros),
  //   for each block of kNC columns: pack B[slab, block] into NR-column panels (zeros past N),
  //     then call micro_kernel for every (B panel, A panel) pair: its C tile starts at row
  //     ip * MR, column jc + jp * NR. These calls are independent, so
  //     `#pragma omp parallel for collapse(2) if (parallel)` over the two panel loops can use
  //     every core, for products big enough to pay for the threads (next paragraph).
  // Packing reads a and b through their strides, so transposed inputs cost nothing extra.
  //
  // When threads pay: a parallel region costs microseconds to start on an idle machine and
  // waits for its slowest thread, which on a busy machine may sit out a whole time slice
  // (milliseconds). Chapter 3's MLP multiplies (64, 784) by (784, 128): 6.4 million
  // multiply-adds, about a millisecond on one core, and its training loop is 20 times slower
  // when every product runs on threads. Go parallel above roughly 2^24 multiply-adds
  // (M * N * K), and check with the benchmark: its "small products" lines time the MLP's
  // products on your threads and on one.
  throw course::NotImplemented("ch02.8: matmul (blocked)");
}

#define CH02_MATMUL(T)                                                      \
  template Tensor<T> matmul_naive(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> matmul(const Tensor<T>&, const Tensor<T>&);
CH02_MATMUL(float)
CH02_MATMUL(double)

}  // namespace ch02
