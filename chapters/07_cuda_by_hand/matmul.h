// The matmul ladder: C = A @ B with A (M, K), B (K, N) and C (M, N), float32, row-major, five
// ways, each reading global memory fewer times (or in fewer transactions) per multiply-add than
// the one before.
//
//   rung 1  matmul_naive           a 16 x 16 block of threads per 16 x 16 block of C; each
//                                  thread reads a row of A and a column of B (2K loads, K FMAs);
//                                  threadIdx.x runs down a column of C, so a warp's loads of A
//                                  are 16 rows apart
//   rung 2  matmul_coalesced       the same with threadIdx.x along a row of C: a warp reads
//                                  neighbouring floats of B and one float of A
//   rung 3  matmul_tiled           the block stages 32 x 32 tiles of A and B in shared memory:
//                                  each global value is read once per tile, not 32 times
//   rung 4  matmul_register_tiled  128 x 128 tiles of C, 256 threads, each thread keeping an
//                                  8 x 8 piece of C in registers: 16 shared reads per 64 FMAs
//   rung 5  matmul_vectorized      rung 4 staging its slabs with float4 (16-byte) loads where
//                                  a row's length is a multiple of 4, float by float elsewhere
//
//   float *A, *B, *C;                          // device pointers: M*K, K*N and M*N floats
//   ch07::matmul_tiled(M, N, K, A, B, C);      // C is overwritten; any M, N, K >= 0
//
// The block shapes are part of each kernel's design, so these launchers take no Launch. cuBLAS
// is the sixth rung and the bound (./course bench ch07_ladder). A launcher returns once the
// kernel is queued; it throws std::invalid_argument for negative sizes and std::runtime_error
// when CUDA refuses the launch.
#ifndef CH07_MATMUL_H_
#define CH07_MATMUL_H_

#include "launch.h"

namespace ch07 {

// ch07.12: one thread per element of C, threadIdx.x down a column.
void matmul_naive(int M, int N, int K, const float* A, const float* B, float* C);

// ch07.13: one thread per element of C, threadIdx.x along a row.
void matmul_coalesced(int M, int N, int K, const float* A, const float* B, float* C);

// ch07.14: 32 x 32 shared-memory tiles, one thread per element of C.
void matmul_tiled(int M, int N, int K, const float* A, const float* B, float* C);

// ch07.15: 128 x 128 x 8 shared tiles, an 8 x 8 register tile per thread.
void matmul_register_tiled(int M, int N, int K, const float* A, const float* B, float* C);

// ch07.16: ch07.15 with float4 loads from global memory.
void matmul_vectorized(int M, int N, int K, const float* A, const float* B, float* C);

using MatmulLauncher = void (*)(int M, int N, int K, const float* A, const float* B, float* C);
inline constexpr Rung<MatmulLauncher> kMatmulLadder[] = {
    {"matmul_naive", matmul_naive},
    {"matmul_coalesced", matmul_coalesced},
    {"matmul_tiled", matmul_tiled},
    {"matmul_register_tiled", matmul_register_tiled},
    {"matmul_vectorized", matmul_vectorized},
};

}  // namespace ch07

#endif  // CH07_MATMUL_H_
