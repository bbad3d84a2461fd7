// The matmul ladder (matmul.h has the index): C = A @ B, row-major, A (M, K), B (K, N).
//
// Each rung moves fewer bytes from global memory per multiply-add, or moves them in fewer
// transactions. The naive kernel's warps touch 32 rows at once; the coalesced one reads a row of
// B per warp; the tiled one reads A and B from shared memory, where each value was loaded once
// for kTile threads; the register-tiled one keeps 64 sums in registers and reads 16 shared values
// per 64 FMAs; the vectorized one stages its slabs with 16-byte loads.
#include <cstdint>

#include "cuda_check.cuh"
#include "launch.h"
#include "matmul.h"

namespace ch07 {

namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

// ----------------------------------------------------------------------------
// rungs 1 and 2: one thread per element of C

constexpr int kNaiveBlock = 16;  // 16 x 16 threads a block

// Row `row` of A times column `col` of B: what both kernels compute, for different threads.
__device__ float row_times_column(int N, int K, const float* A, const float* B, int row, int col) {
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += A[static_cast<int64_t>(row) * K + k] * B[static_cast<int64_t>(k) * N + col];
  return acc;
}

// threadIdx.x runs down a column of C: the 16 threads of a half-warp read A[row][k] from 16
// different rows, K floats apart, and store 16 floats N apart. Each access is a transaction of
// its own.
__global__ void matmul_naive_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  const int col = blockIdx.y * blockDim.y + threadIdx.y;
  if (row < M && col < N) C[static_cast<int64_t>(row) * N + col] = row_times_column(N, K, A, B, row, col);
}

void matmul_naive(int M, int N, int K, const float* A, const float* B, float* C) {
  check_dims("matmul_naive", M, N);
  check_dims("matmul_naive", K, 0);
  if (M == 0 || N == 0) return;
  const dim3 block(kNaiveBlock, kNaiveBlock);
  const dim3 grid(ceil_div(M, kNaiveBlock), ceil_div(N, kNaiveBlock));  // x: rows, y: columns
  matmul_naive_kernel<<<grid, block>>>(M, N, K, A, B, C);
  cuda_check(cudaGetLastError(), "matmul_naive: launch");
}

// The same sum with threadIdx.x along a row of C: the 16 threads of a half-warp read 16
// neighbouring floats of B (one transaction), the same float of A (a broadcast), and store 16
// neighbouring floats of C.
__global__ void matmul_coalesced_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row < M && col < N) C[static_cast<int64_t>(row) * N + col] = row_times_column(N, K, A, B, row, col);
}

void matmul_coalesced(int M, int N, int K, const float* A, const float* B, float* C) {
  check_dims("matmul_coalesced", M, N);
  check_dims("matmul_coalesced", K, 0);
  if (M == 0 || N == 0) return;
  const dim3 block(kNaiveBlock, kNaiveBlock);
  const dim3 grid(ceil_div(N, kNaiveBlock), ceil_div(M, kNaiveBlock));  // x: columns, y: rows
  matmul_coalesced_kernel<<<grid, block>>>(M, N, K, A, B, C);
  cuda_check(cudaGetLastError(), "matmul_coalesced: launch");
}

// ----------------------------------------------------------------------------
// rung 3: shared-memory tiles

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
// rungs 4 and 5: register tiles, staged float by float or with float4 loads

// A block computes a kBM x kBN tile of C with 16 x 16 threads; thread (tx, ty) owns the 8 x 8
// elements at rows ty + 16 i and columns tx + 16 j (i, j < 8): strided, so that the 16 threads
// along x read 16 neighbouring shared floats (no bank conflicts) and store 16 neighbouring
// floats of C. Per step k of a kBK slab a thread reads 8 values of A and 8 of B into registers
// and does 64 FMAs with them.
constexpr int kBM = 128, kBN = 128, kBK = 8;
constexpr int kThreads = 16;           // threads along each side of the block: 256 in all
constexpr int kTM = kBM / kThreads;    // 8 rows of C per thread
constexpr int kTN = kBN / kThreads;    // 8 columns of C per thread

// Four neighbouring floats of row r of a rows x cols matrix X, from column c (a multiple of 4),
// zero past its edges. One 16-byte load where the four lie inside the row and the row starts on
// a 16-byte boundary (cols a multiple of 4; cudaMalloc aligns X itself); float by float otherwise.
__device__ float4 load_float4(const float* X, int rows, int cols, int r, int c) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (r >= rows) return v;
  const float* row = X + static_cast<int64_t>(r) * cols;
  if (cols % 4 == 0 && c + 3 < cols) return *reinterpret_cast<const float4*>(row + c);
  if (c < cols) v.x = row[c];
  if (c + 1 < cols) v.y = row[c + 1];
  if (c + 2 < cols) v.z = row[c + 2];
  if (c + 3 < cols) v.w = row[c + 3];
  return v;
}

template <bool kFloat4Loads>
__global__ void matmul_register_tiled_kernel(int M, int N, int K, const float* A, const float* B, float* C) {
  __shared__ float As[kBK][kBM];  // A's slab transposed: As[k][m], so step k reads a row
  __shared__ float Bs[kBK][kBN];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int t = ty * kThreads + tx;  // 0..255
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;
  float acc[kTM][kTN] = {};
  for (int k0 = 0; k0 < K; k0 += kBK) {
    if constexpr (kFloat4Loads) {
      // One float4 of each slab per thread: A's slab is 128 rows of 2 float4s, B's 8 rows of 32.
      const int am = t / (kBK / 4), ak = t % (kBK / 4) * 4;
      const float4 a = load_float4(A, M, K, m0 + am, k0 + ak);
      As[ak][am] = a.x;
      As[ak + 1][am] = a.y;
      As[ak + 2][am] = a.z;
      As[ak + 3][am] = a.w;
      const int bk = t / (kBN / 4), bn = t % (kBN / 4) * 4;
      const float4 b = load_float4(B, K, N, k0 + bk, n0 + bn);
      Bs[bk][bn] = b.x;
      Bs[bk][bn + 1] = b.y;
      Bs[bk][bn + 2] = b.z;
      Bs[bk][bn + 3] = b.w;
    } else {
      // kBM * kBK = 1024 floats of A and as many of B, 4 of each per thread.
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
  matmul_register_tiled_kernel<false><<<grid, block>>>(M, N, K, A, B, C);
  cuda_check(cudaGetLastError(), "matmul_register_tiled: launch");
}

void matmul_vectorized(int M, int N, int K, const float* A, const float* B, float* C) {
  check_dims("matmul_vectorized", M, N);
  check_dims("matmul_vectorized", K, 0);
  if (M == 0 || N == 0) return;
  const dim3 block(kThreads, kThreads);
  const dim3 grid(ceil_div(N, kBN), ceil_div(M, kBM));
  matmul_register_tiled_kernel<true><<<grid, block>>>(M, N, K, A, B, C);
  cuda_check(cudaGetLastError(), "matmul_vectorized: launch");
}

}  // namespace ch07
