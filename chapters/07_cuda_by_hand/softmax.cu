// The softmax ladder (softmax.h has the index): each row r of `in` (rows x cols, row-major)
// becomes exp(in[r][c] - m) / s, with m the row's maximum and s = sum_c exp(in[r][c] - m).
//
// Every launcher starts with check_launch(name, rows, launch) (rungs 2 and 3 with 32 as the
// multiple) and check_dims(name, rows, cols), and launches nothing for an empty matrix.
#include <cstdint>

#include "chapters/course.h"
#include "cuda_check.cuh"
#include "softmax.h"
#include "warp.cuh"

namespace ch07 {

// ----------------------------------------------------------------------------
// rung 1: a thread per row

__global__ void softmax_thread_per_row_kernel(int rows, int cols, const float* in, float* out) {
  // TODO(ch07.9): thread r (as rung 1 of saxpy) handles row r < rows, which starts at
  // in + r * cols (compute that in int64_t: rows * cols may not fit an int). Three passes: the
  // maximum m (fmaxf, from -INFINITY); the sum s of expf(x - m), writing each expf(x - m) to out
  // on the way; then out *= 1 / s.
}

void softmax_thread_per_row(int rows, int cols, const float* in, float* out, Launch launch) {
  // TODO(ch07.9): one thread per row.
  throw course::NotImplemented("ch07.9: softmax_thread_per_row");
}

// ----------------------------------------------------------------------------
// rung 2: a warp per row

__global__ void softmax_warp_per_row_kernel(int rows, int cols, const float* in, float* out) {
  // TODO(ch07.10): global thread index / 32 is the row, threadIdx.x % 32 the lane. A warp whose
  // row is past the end returns (all its 32 lanes together). Lane l handles columns l, l + 32,
  // l + 64, ...: its own max, warp_max (warp.cuh: write it first), its own sum of expf(x - m),
  // warp_sum, then each lane writes its columns.
}

void softmax_warp_per_row(int rows, int cols, const float* in, float* out, Launch launch) {
  // TODO(ch07.10): launch.block / 32 rows a block; enough blocks for every row.
  throw course::NotImplemented("ch07.10: softmax_warp_per_row");
}

// ----------------------------------------------------------------------------
// rung 3: online softmax (Milakov and Gimelshein, 2018)

__global__ void softmax_online_kernel(int rows, int cols, const float* in, float* out) {
  // TODO(ch07.11): rung 2 with one pass for max and sum. Each lane keeps a pair (m, s): m the
  // largest value so far, s the sum of expf(value - m) so far. A new value v:
  //   v > m:  s = s * expf(m - v) + 1, then m = v   (the old terms were scaled by exp(-m))
  //   else:   s += expf(v - m)
  // Then combine the lanes' pairs with the butterfly of warp.cuh, shuffling m and s (two
  // __shfl_xor_sync a step) and merging (m1, s1) with (m2, s2):
  //   M = fmaxf(m1, m2);  s = s1 * expf(m1 - M) + s2 * expf(m2 - M);  m = M
  // (when both m are -INFINITY, expf(-inf - -inf) is NaN: a lane that saw no column has s = 0
  // and must stay 0). Finally the divide pass, as in rung 2.
}

void softmax_online(int rows, int cols, const float* in, float* out, Launch launch) {
  // TODO(ch07.11): as softmax_warp_per_row.
  throw course::NotImplemented("ch07.11: softmax_online");
}

}  // namespace ch07
