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
// rungs 1 and 2: one thread per element of C

[[maybe_unused]] constexpr int kNaiveBlock = 16;  // 16 x 16 threads a block

// Row `row` of A times column `col` of B: what both kernels compute, for different threads.
__device__ float row_times_column(int N, int K, const float* A, const float* B, int row, int col) {
  // TODO(ch07.12): the sum of A[row][k] * B[k][col] over k < K (A[row][k] is A[row * K + k];
  // use int64_t for the products of indices).
  return 0.0f;
}

__global__ void matmul_naive_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.12): x runs down a column of C (row = blockIdx.x * blockDim.x + threadIdx.x), y
  // along a row (col, likewise with .y). Threads past the edge of C do nothing; the others store
  // row_times_column(...) in C[row][col].
}

void matmul_naive(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.12): dim3 block(kNaiveBlock, kNaiveBlock) and a dim3 grid covering M rows (x) and
  // N columns (y), rounded up.
  throw course::NotImplemented("ch07.12: matmul_naive");
}

__global__ void matmul_coalesced_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.13): matmul_naive_kernel with the axes the other way round: x along a row of C
  // (col from .x), y down a column (row from .y), so that neighbouring threads of a warp read
  // neighbouring floats of B and write neighbouring floats of C.
}

void matmul_coalesced(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.13): the grid covers N columns along x and M rows along y.
  throw course::NotImplemented("ch07.13: matmul_coalesced");
}

// ----------------------------------------------------------------------------
// rung 3: shared-memory tiles

[[maybe_unused]] constexpr int kTile = 32;  // 32 x 32 threads, each computing one element of a 32 x 32 tile of C

__global__ void matmul_tiled_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.14): __shared__ float As[kTile][kTile], Bs[kTile][kTile]. Thread (tx, ty) owns
  // C[row][col] with row = blockIdx.y * kTile + ty, col = blockIdx.x * kTile + tx. For each
  // tile k0 = 0, kTile, 2 kTile, ... < K:
  //   As[ty][tx] = A[row][k0 + tx] and Bs[ty][tx] = B[k0 + ty][col], or 0 where that is past
  //   the edge of A or B (the last tile sticks out);
  //   barrier; acc += As[ty][k] * Bs[k][tx] for k < kTile; barrier.
  // Then store C[row][col] if it is inside C. Do not return early for threads outside C: every
  // thread of the block must reach every barrier (and load its zeros).
}

void matmul_tiled(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.14): blocks of kTile x kTile threads covering C.
  throw course::NotImplemented("ch07.14: matmul_tiled");
}

// ----------------------------------------------------------------------------
// rungs 4 and 5: register tiles, staged float by float or with float4 loads

// A block computes a kBM x kBN tile of C with 16 x 16 threads; thread (tx, ty) owns the 8 x 8
// elements at rows ty + 16 i and columns tx + 16 j (i, j < 8) of the tile (README: "Register
// tiles" has the picture).
[[maybe_unused]] constexpr int kBM = 128, kBN = 128, kBK = 8;
[[maybe_unused]] constexpr int kThreads = 16;           // threads along each side of the block: 256 in all
[[maybe_unused]] constexpr int kTM = kBM / kThreads;    // 8 rows of C per thread
[[maybe_unused]] constexpr int kTN = kBN / kThreads;    // 8 columns of C per thread

// Four neighbouring floats of row r of a rows x cols matrix X, from column c (a multiple of 4),
// zero past its edges.
__device__ float4 load_float4(const float* X, int rows, int cols, int r, int c) {
  // TODO(ch07.16): zeros when r >= rows. One 16-byte load, *reinterpret_cast<const float4*>(p),
  // where all four floats lie inside the row AND the row starts on a 16-byte boundary (cols a
  // multiple of 4: the emulator reports a misaligned float4); otherwise float by float, each
  // checked against cols.
  return make_float4(0.0f, 0.0f, 0.0f, 0.0f);
}

// kFloat4Loads: false for matmul_register_tiled (ch07.15), true for matmul_vectorized (ch07.16).
template <bool kFloat4Loads>
__global__ void matmul_register_tiled_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.15): __shared__ float As[kBK][kBM] (A's slab transposed: As[k][m]) and
  // Bs[kBK][kBN]; float acc[kTM][kTN] = {} in registers. For each slab k0 = 0, kBK, ... < K:
  //   the 256 threads stage the kBM x kBK slab of A (1024 floats, 4 each: element e = t,
  //   t + 256, ... with t = ty * 16 + tx, at m = e / kBK, k = e % kBK) and likewise the
  //   kBK x kBN slab of B, zeros past the edges;
  //   [TODO(ch07.16): if constexpr (kFloat4Loads), stage them with load_float4 instead, one
  //   float4 of each slab per thread: A's slab is 128 rows of 2 float4s, B's 8 rows of 32;]
  //   barrier;
  //   for k < kBK: copy As[k][ty + 16 i] into a[i] and Bs[k][tx + 16 j] into b[j] (registers),
  //   then acc[i][j] += a[i] * b[j] for all 64 pairs; barrier.
  // Finally store each acc[i][j] that lies inside C.
}

void matmul_register_tiled(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.15): blocks of kThreads x kThreads threads, one per kBM x kBN tile of C.
  // Launch as matmul_register_tiled_kernel<false><<<grid, block>>>(...).
  throw course::NotImplemented("ch07.15: matmul_register_tiled");
}

void matmul_vectorized(int M, int N, int K, const float* A, const float* B, float* C) {
  // TODO(ch07.16): as matmul_register_tiled, launching matmul_register_tiled_kernel<true>.
  throw course::NotImplemented("ch07.16: matmul_vectorized");
}

}  // namespace ch07
