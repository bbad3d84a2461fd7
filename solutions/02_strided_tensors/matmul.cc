#include <algorithm>
#include <stdexcept>

#include "ch02/ops.h"

namespace ch02 {
namespace {

void check_matmul_shapes(const char* op, const Shape& a, const Shape& b) {
  if (a.size() != 2 || b.size() != 2 || a[1] != b[0]) {
    throw std::invalid_argument(std::string(op) + ": cannot multiply " + shape_str(a) + " by " +
                                shape_str(b) + " (need (M, K) @ (K, N))");
  }
}

// The blocking of ch02.8 (see the README's picture). C = A @ B is computed in slabs of KC
// values of k; each slab's A (all M rows) and B (NC columns at a time) are first copied
// ("packed") into buffers where the micro-kernel reads them strictly in order:
//   packed A: MR rows at a time, k by k   (a[k][0..MR) is MR consecutive values)
//   packed B: NR columns at a time, k by k (b[k][0..NR) likewise)
// Packing also makes the kernel independent of the inputs' strides: a transposed or sliced
// view costs nothing extra after it.
constexpr int64_t kMR = 6;     // rows of the C tile a kernel call keeps in registers
constexpr int64_t kNR = 8;     // columns: two SSE registers of floats per row
constexpr int64_t kKC = 256;   // k values per slab: one packed B panel (KC x NR) fits L1
constexpr int64_t kNC = 1024;  // columns of B packed at once: the packed slab stays in L2/L3
// Below this many multiply-adds (about a millisecond on one core) the product runs on one
// thread. Starting and joining threads costs microseconds on an idle machine, but on a busy one
// a parallel loop waits for its slowest thread, and a thread the OS has paused costs a whole
// time slice (milliseconds). Small products, like an MLP's on a batch of 64, lose more than
// they gain: training the chapter-3 MLP with every matmul parallel ran 20 times slower on a
// loaded 2-core machine than on one thread.
constexpr int64_t kParallelWork = int64_t(1) << 24;

// C[0..mr, 0..nr) += (packed A panel) @ (packed B panel) over kc values of k. The MR x NR
// accumulator must live in registers for the whole k loop: the compiler vectorizes the j loop
// (omp simd), and unrolling the i loop completely turns acc[i] into 12 named registers instead
// of an array in memory. Without the unroll pragma GCC -O2 keeps acc in memory: half the speed.
template <typename T>
void micro_kernel(int64_t kc, const T* __restrict ap, const T* __restrict bp, T* __restrict c,
                  int64_t ldc, int64_t mr, int64_t nr) {
  T acc[kMR][kNR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    const T* a = ap + k * kMR;
    const T* b = bp + k * kNR;
#pragma GCC unroll 6
    for (int64_t i = 0; i < kMR; ++i) {
#pragma omp simd
      for (int64_t j = 0; j < kNR; ++j) acc[i][j] += a[i] * b[j];
    }
  }
  for (int64_t i = 0; i < mr; ++i) {
    for (int64_t j = 0; j < nr; ++j) c[i * ldc + j] += acc[i][j];
  }
}

}  // namespace

template <typename T>
Tensor<T> matmul_naive(const Tensor<T>& a, const Tensor<T>& b) {
  check_matmul_shapes("matmul_naive", a.shape(), b.shape());
  const int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  const T* A = a.storage()->data.data() + a.offset();
  const T* B = b.storage()->data.data() + b.offset();
  const int64_t sa0 = a.strides()[0], sa1 = a.strides()[1];
  const int64_t sb0 = b.strides()[0], sb1 = b.strides()[1];
  std::vector<T> c(M * N);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += A[i * sa0 + k * sa1] * B[k * sb0 + j * sb1];
      c[i * N + j] = acc;
    }
  }
  return Tensor<T>::from_vector({M, N}, std::move(c));
}

template <typename T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  check_matmul_shapes("matmul", a.shape(), b.shape());
  const int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  const T* A = a.storage()->data.data() + a.offset();
  const T* B = b.storage()->data.data() + b.offset();
  const int64_t sa0 = a.strides()[0], sa1 = a.strides()[1];
  const int64_t sb0 = b.strides()[0], sb1 = b.strides()[1];
  std::vector<T> c(M * N, T(0));
  T* C = c.data();
  const bool parallel = M * N * K >= kParallelWork;

  const int64_t m_panels = (M + kMR - 1) / kMR;
  std::vector<T> ap(m_panels * kMR * std::min(K, kKC));
  std::vector<T> bp(((std::min(N, kNC) + kNR - 1) / kNR) * kNR * std::min(K, kKC));
  for (int64_t pc = 0; pc < K; pc += kKC) {
    const int64_t kc = std::min(kKC, K - pc);
    // Pack A[:, pc:pc+kc]; rows past M are zeros, so edge tiles need no special kernel.
#pragma omp parallel for if (parallel)
    for (int64_t ip = 0; ip < m_panels; ++ip) {
      T* dst = ap.data() + ip * kc * kMR;
      for (int64_t k = 0; k < kc; ++k) {
        for (int64_t i = 0; i < kMR; ++i) {
          const int64_t row = ip * kMR + i;
          dst[k * kMR + i] = row < M ? A[row * sa0 + (pc + k) * sa1] : T(0);
        }
      }
    }
    for (int64_t jc = 0; jc < N; jc += kNC) {
      const int64_t nc = std::min(kNC, N - jc);
      const int64_t n_panels = (nc + kNR - 1) / kNR;
      // Pack B[pc:pc+kc, jc:jc+nc], columns past N as zeros.
#pragma omp parallel for if (parallel)
      for (int64_t jp = 0; jp < n_panels; ++jp) {
        T* dst = bp.data() + jp * kc * kNR;
        for (int64_t k = 0; k < kc; ++k) {
          for (int64_t j = 0; j < kNR; ++j) {
            const int64_t col = jc + jp * kNR + j;
            dst[k * kNR + j] = col < N ? B[(pc + k) * sb0 + col * sb1] : T(0);
          }
        }
      }
      // Every (B panel, A panel) pair is one independent C tile: the threads split them. A
      // thread's consecutive tiles share a B panel, which stays in its L1 cache.
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
      for (int64_t jp = 0; jp < n_panels; ++jp) {
        for (int64_t ip = 0; ip < m_panels; ++ip) {
          const int64_t i0 = ip * kMR, j0 = jc + jp * kNR;
          micro_kernel(kc, ap.data() + ip * kc * kMR, bp.data() + jp * kc * kNR,
                       C + i0 * N + j0, N, std::min(kMR, M - i0), std::min(kNR, N - j0));
        }
      }
    }
  }
  return Tensor<T>::from_vector({M, N}, std::move(c));
}

#define CH02_MATMUL(T)                                                      \
  template Tensor<T> matmul_naive(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> matmul(const Tensor<T>&, const Tensor<T>&);
CH02_MATMUL(float)
CH02_MATMUL(double)

}  // namespace ch02
