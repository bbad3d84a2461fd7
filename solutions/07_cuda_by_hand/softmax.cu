// The softmax ladder (softmax.h has the index): each row r of `in` (rows x cols, row-major)
// becomes exp(in[r][c] - m) / s, with m the row's maximum and s = sum_c exp(in[r][c] - m).
#include <cstdint>

#include "cuda_check.cuh"
#include "softmax.h"
#include "warp.cuh"

namespace ch07 {

// ----------------------------------------------------------------------------
// rung 1: a thread per row

// Three passes over the row: its maximum, the sum of exponentials (written to out on the way),
// then the division. Correct and simple, but neighbouring threads read addresses `cols` floats
// apart: each load instruction of a warp touches 32 different cache lines.
__global__ void softmax_thread_per_row_kernel(int rows, int cols, const float* in, float* out) {
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const float* x = in + static_cast<int64_t>(r) * cols;
  float* y = out + static_cast<int64_t>(r) * cols;
  float m = -INFINITY;
  for (int c = 0; c < cols; ++c) m = fmaxf(m, x[c]);
  float s = 0.0f;
  for (int c = 0; c < cols; ++c) {
    y[c] = expf(x[c] - m);
    s += y[c];
  }
  const float inv = 1.0f / s;
  for (int c = 0; c < cols; ++c) y[c] *= inv;
}

void softmax_thread_per_row(int rows, int cols, const float* in, float* out, Launch launch) {
  check_launch("softmax_thread_per_row", rows, launch);
  check_dims("softmax_thread_per_row", rows, cols);
  if (rows == 0 || cols == 0) return;
  softmax_thread_per_row_kernel<<<(rows + launch.block - 1) / launch.block, launch.block>>>(rows, cols, in, out);
  cuda_check(cudaGetLastError(), "softmax_thread_per_row: launch");
}

// ----------------------------------------------------------------------------
// rung 2: a warp per row

// Lane l reads columns l, l + 32, l + 64, ...: a warp's load covers 32 consecutive floats
// (coalesced), and each lane keeps its own running max and sum, which warp_max and warp_sum
// then combine (every lane gets the result). A warp leaves as a whole when its row is past the
// end (r is the same for its 32 lanes), so the shuffles always see all 32 lanes.
__global__ void softmax_warp_per_row_kernel(int rows, int cols, const float* in, float* out) {
  const int r = (blockIdx.x * blockDim.x + threadIdx.x) / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  if (r >= rows) return;
  const float* x = in + static_cast<int64_t>(r) * cols;
  float* y = out + static_cast<int64_t>(r) * cols;
  float m = -INFINITY;
  for (int c = lane; c < cols; c += kWarpSize) m = fmaxf(m, x[c]);
  m = warp_max(m);
  float s = 0.0f;
  for (int c = lane; c < cols; c += kWarpSize) s += expf(x[c] - m);
  s = warp_sum(s);
  const float inv = 1.0f / s;
  for (int c = lane; c < cols; c += kWarpSize) y[c] = expf(x[c] - m) * inv;
}

// One warp a row: blocks of launch.block / 32 rows, enough blocks for every row.
int warp_per_row_blocks(int rows, const Launch& launch) {
  const int rows_per_block = launch.block / kWarpSize;
  return (rows + rows_per_block - 1) / rows_per_block;
}

void softmax_warp_per_row(int rows, int cols, const float* in, float* out, Launch launch) {
  check_launch("softmax_warp_per_row", rows, launch, kWarpSize);
  check_dims("softmax_warp_per_row", rows, cols);
  if (rows == 0 || cols == 0) return;
  softmax_warp_per_row_kernel<<<warp_per_row_blocks(rows, launch), launch.block>>>(rows, cols, in, out);
  cuda_check(cudaGetLastError(), "softmax_warp_per_row: launch");
}

// ----------------------------------------------------------------------------
// rung 3: online softmax (Milakov and Gimelshein, 2018)

// A running pair (m, s): m the largest value so far, s the sum of exp(value - m) so far. When a
// value v beats m, the terms already in s were scaled by exp(-m) and must now be scaled by
// exp(-v): multiply s by exp(m - v). Two pairs merge the same way, which is how the 32 lanes
// combine theirs. The max and sum pass reads the row once instead of twice.
struct MaxSum {
  float m, s;
};

__device__ inline MaxSum merge(MaxSum a, MaxSum b) {
  const float m = fmaxf(a.m, b.m);
  if (m == -INFINITY) return {m, 0.0f};  // both empty: exp(-inf - -inf) would be NaN
  return {m, a.s * expf(a.m - m) + b.s * expf(b.m - m)};
}

__global__ void softmax_online_kernel(int rows, int cols, const float* in, float* out) {
  const int r = (blockIdx.x * blockDim.x + threadIdx.x) / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  if (r >= rows) return;
  const float* x = in + static_cast<int64_t>(r) * cols;
  float* y = out + static_cast<int64_t>(r) * cols;
  MaxSum acc{-INFINITY, 0.0f};
  for (int c = lane; c < cols; c += kWarpSize) {
    const float v = x[c];
    if (v > acc.m) {
      acc.s = acc.s * expf(acc.m - v) + 1.0f;  // exp(v - v) = 1 for v itself
      acc.m = v;
    } else {
      acc.s += expf(v - acc.m);  // a NaN lands here and makes s NaN, as in rungs 1 and 2
    }
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    const MaxSum other{__shfl_xor_sync(kFullMask, acc.m, offset), __shfl_xor_sync(kFullMask, acc.s, offset)};
    acc = merge(acc, other);
  }
  const float inv = 1.0f / acc.s;
  for (int c = lane; c < cols; c += kWarpSize) y[c] = expf(x[c] - acc.m) * inv;
}

void softmax_online(int rows, int cols, const float* in, float* out, Launch launch) {
  check_launch("softmax_online", rows, launch, kWarpSize);
  check_dims("softmax_online", rows, cols);
  if (rows == 0 || cols == 0) return;
  softmax_online_kernel<<<warp_per_row_blocks(rows, launch), launch.block>>>(rows, cols, in, out);
  cuda_check(cudaGetLastError(), "softmax_online: launch");
}

}  // namespace ch07
