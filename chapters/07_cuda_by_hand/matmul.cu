// The matmul ladder (matmul.h has the index): C = A @ B, row-major, A (M, K), B (K, N).
//
// Each rung moves fewer bytes from global memory per multiply-add. Every launcher starts with
// check_dims(name, M, N) and check_dims(name, K, 0), and launches nothing when C is empty
// (M == 0 or N == 0). K == 0 is a real product: C is all zeros.
#include <cstdint>

#include "chapters/course.h"
#include "cuda_check.cuh"
#include "launch.h"
#include "matmul.h"

namespace ch07 {

// ----------------------------------------------------------------------------
// rung 1: one thread per element of C

[[maybe_unused]] constexpr int kNaiveBlock = 16;  // 16 x 16 threads a block

__global__ void matmul_naive_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.12): x runs along a row of C (col = blockIdx.x * blockDim.x + threadIdx.x), y down
  // a column (row, likewise with .y). Threads past the edge of C do nothing; the others sum
  // A[row][k] * B[k][col] over k (A[row][k] is A[row * K + k]; use int64_t for the products of
  // indices) and store C[row][col].
}

void matmul_naive(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.12): dim3 block(kNaiveBlock, kNaiveBlock) and a dim3 grid covering N columns (x)
  // and M rows (y), rounded up.
  throw course::NotImplemented("ch07.12: matmul_naive");
}

// ----------------------------------------------------------------------------
// rung 2: shared-memory tiles

[[maybe_unused]] constexpr int kTile = 32;  // 32 x 32 threads, each computing one element of a 32 x 32 tile of C

__global__ void matmul_tiled_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.13): __shared__ float As[kTile][kTile], Bs[kTile][kTile]. Thread (tx, ty) owns
  // C[row][col] with row = blockIdx.y * kTile + ty, col = blockIdx.x * kTile + tx. For each
  // tile k0 = 0, kTile, 2 kTile, ... < K:
  //   As[ty][tx] = A[row][k0 + tx] and Bs[ty][tx] = B[k0 + ty][col], or 0 where that is past
  //   the edge of A or B (the last tile sticks out);
  //   barrier; acc += As[ty][k] * Bs[k][tx] for k < kTile; barrier.
  // Then store C[row][col] if it is inside C. Do not return early for threads outside C: every
  // thread of the block must reach every barrier (and load its zeros).
}

void matmul_tiled(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.13): blocks of kTile x kTile threads covering C.
  throw course::NotImplemented("ch07.13: matmul_tiled");
}

// ----------------------------------------------------------------------------
// rung 3: register tiles

// A block computes a kBM x kBN tile of C with 16 x 16 threads; thread (tx, ty) owns the 8 x 8
// elements at rows ty + 16 i and columns tx + 16 j (i, j < 8) of the tile (README: "Register
// tiles" has the picture).
[[maybe_unused]] constexpr int kBM = 128, kBN = 128, kBK = 8;
[[maybe_unused]] constexpr int kThreads = 16;           // threads along each side of the block: 256 in all
[[maybe_unused]] constexpr int kTM = kBM / kThreads;    // 8 rows of C per thread
[[maybe_unused]] constexpr int kTN = kBN / kThreads;    // 8 columns of C per thread

__global__ void matmul_register_tiled_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.14): __shared__ float As[kBK][kBM] (A's slab transposed: As[k][m]) and
  // Bs[kBK][kBN]; float acc[kTM][kTN] = {} in registers. For each slab k0 = 0, kBK, ... < K:
  //   the 256 threads stage the kBM x kBK slab of A (1024 floats, 4 each: element e = t,
  //   t + 256, ... with t = ty * 16 + tx, at m = e / kBK, k = e % kBK) and likewise the
  //   kBK x kBN slab of B, zeros past the edges; barrier;
  //   for k < kBK: copy As[k][ty + 16 i] into a[i] and Bs[k][tx + 16 j] into b[j] (registers),
  //   then acc[i][j] += a[i] * b[j] for all 64 pairs; barrier.
  // Finally store each acc[i][j] that lies inside C.
}

void matmul_register_tiled(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.14): blocks of kThreads x kThreads threads, one per kBM x kBN tile of C.
  throw course::NotImplemented("ch07.14: matmul_register_tiled");
}

}  // namespace ch07
