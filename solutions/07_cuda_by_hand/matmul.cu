// The matmul ladder (matmul.h has the index): C = A @ B, row-major, A (M, K), B (K, N).
//
// Each rung moves fewer bytes from global memory per multiply-add. The naive kernel reads two
// floats for each FMA; the tiled one reads them from shared memory, where each was loaded once
// for kTile threads; the register-tiled one keeps 64 sums in registers and reads 16 shared
// values per 64 FMAs.
#include <cstdint>

#include "cuda_check.cuh"
#include "launch.h"
#include "matmul.h"

namespace ch07 {

namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

// ----------------------------------------------------------------------------
// rung 1: one thread per element of C

constexpr int kNaiveBlock = 16;  // 16 x 16 threads a block

// threadIdx.x runs along a row of C, so the 16 threads of a half-warp read 16 neighbouring
// floats of B (one transaction) and the same float of A (a broadcast).
__global__ void matmul_naive_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= M || col >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += A[static_cast<int64_t>(row) * K + k] * B[static_cast<int64_t>(k) * N + col];
  C[static_cast<int64_t>(row) * N + col] = acc;
}

void matmul_naive(int M, int N, int K, const float* A, const float* B, float* C) {
  check_dims("matmul_naive", M, N);
  check_dims("matmul_naive", K, 0);
  if (M == 0 || N == 0) return;
  const dim3 block(kNaiveBlock, kNaiveBlock);
  const dim3 grid(ceil_div(N, kNaiveBlock), ceil_div(M, kNaiveBlock));  // x: columns, y: rows
  matmul_naive_kernel<<<grid, block>>>(M, N, K, A, B, C);
  cuda_check(cudaGetLastError(), "matmul_naive: launch");
}

// ----------------------------------------------------------------------------
// rung 2: shared-memory tiles

constexpr int kTile = 32;  // 32 x 32 threads, each computing one element of a 32 x 32 tile of C

// The block walks along K one tile at a time. Each thread loads one float of the A tile and one
// of the B tile (zero where the tile sticks out past the matrix), the block waits until the
// tiles are complete, every thread does 32 FMAs out of shared memory, and the block waits again
// before the next iteration overwrites the tiles. Every thread reaches both barriers: threads
// past the edge of C load zeros and skip only the final store.
__global__ void matmul_tiled_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  __shared__ float As[kTile][kTile];
  __shared__ float Bs[kTile][kTile];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kTile + ty;
  const int col = blockIdx.x * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    As[ty][tx] = row < M && k0 + tx < K ? A[static_cast<int64_t>(row) * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = k0 + ty < K && col < N ? B[static_cast<int64_t>(k0 + ty) * N + col] : 0.0f;
    __syncthreads();
    for (int k = 0; k < kTile; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < M && col < N) C[static_cast<int64_t>(row) * N + col] = acc;
}

void matmul_tiled(int M, int N, int K, const float* A, const float* B, float* C) {
  check_dims("matmul_tiled", M, N);
  check_dims("matmul_tiled", K, 0);
  if (M == 0 || N == 0) return;
  const dim3 block(kTile, kTile);
  const dim3 grid(ceil_div(N, kTile), ceil_div(M, kTile));
  matmul_tiled_kernel<<<grid, block>>>(M, N, K, A, B, C);
  cuda_check(cudaGetLastError(), "matmul_tiled: launch");
}

// ----------------------------------------------------------------------------
// rung 3: register tiles

// A block computes a kBM x kBN tile of C with 16 x 16 threads; thread (tx, ty) owns the 8 x 8
// elements at rows ty + 16 i and columns tx + 16 j (i, j < 8): strided, so that the 16 threads
// along x read 16 neighbouring shared floats (no bank conflicts) and store 16 neighbouring
// floats of C. Per step k of a kBK slab a thread reads 8 values of A and 8 of B into registers
// and does 64 FMAs with them.
constexpr int kBM = 128, kBN = 128, kBK = 8;
constexpr int kThreads = 16;           // threads along each side of the block: 256 in all
constexpr int kTM = kBM / kThreads;    // 8 rows of C per thread
constexpr int kTN = kBN / kThreads;    // 8 columns of C per thread

__global__ void matmul_register_tiled_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  __shared__ float As[kBK][kBM];  // A's slab transposed: As[k][m], so step k reads a row
  __shared__ float Bs[kBK][kBN];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int t = ty * kThreads + tx;  // 0..255
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;
  float acc[kTM][kTN] = {};
  for (int k0 = 0; k0 < K; k0 += kBK) {
    // Stage the slabs: kBM * kBK = 1024 floats of A and as many of B, 4 of each per thread.
    for (int e = t; e < kBM * kBK; e += kThreads * kThreads) {
      const int m = e / kBK, k = e % kBK;
      const int gm = m0 + m, gk = k0 + k;
      As[k][m] = gm < M && gk < K ? A[static_cast<int64_t>(gm) * K + gk] : 0.0f;
    }
    for (int e = t; e < kBK * kBN; e += kThreads * kThreads) {
      const int k = e / kBN, n = e % kBN;
      const int gk = k0 + k, gn = n0 + n;
      Bs[k][n] = gk < K && gn < N ? B[static_cast<int64_t>(gk) * N + gn] : 0.0f;
    }
    __syncthreads();
    for (int k = 0; k < kBK; ++k) {
      float a[kTM], b[kTN];
      for (int i = 0; i < kTM; ++i) a[i] = As[k][ty + kThreads * i];
      for (int j = 0; j < kTN; ++j) b[j] = Bs[k][tx + kThreads * j];
      for (int i = 0; i < kTM; ++i)
        for (int j = 0; j < kTN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
  for (int i = 0; i < kTM; ++i) {
    const int gm = m0 + ty + kThreads * i;
    for (int j = 0; j < kTN; ++j) {
      const int gn = n0 + tx + kThreads * j;
      if (gm < M && gn < N) C[static_cast<int64_t>(gm) * N + gn] = acc[i][j];
    }
  }
}

void matmul_register_tiled(int M, int N, int K, const float* A, const float* B, float* C) {
  check_dims("matmul_register_tiled", M, N);
  check_dims("matmul_register_tiled", K, 0);
  if (M == 0 || N == 0) return;
  const dim3 block(kThreads, kThreads);
  const dim3 grid(ceil_div(N, kBN), ceil_div(M, kBM));
  matmul_register_tiled_kernel<<<grid, block>>>(M, N, K, A, B, C);
  cuda_check(cudaGetLastError(), "matmul_register_tiled: launch");
}

}  // namespace ch07
