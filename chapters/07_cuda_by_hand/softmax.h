// The softmax ladder: each row of a (rows, cols) row-major matrix becomes
//   out[r][c] = exp(in[r][c] - m_r) / sum_j exp(in[r][j] - m_r),   m_r = max_j in[r][j]
// three ways. Subtracting the row's maximum changes nothing mathematically and keeps exp from
// overflowing (exp(89) is already infinite in float).
//
//   rung 1  softmax_thread_per_row  one thread walks its row three times: max, sum, divide
//   rung 2  softmax_warp_per_row    32 lanes share a row; warp_max and warp_sum combine them
//   rung 3  softmax_online          max and sum in one pass (the sum is rescaled whenever the
//                                   running max grows), then the divide pass
//
//   float *in, *out;                           // device pointers, rows * cols floats each
//   ch07::softmax_warp_per_row(rows, cols, in, out);   // 256 threads: 8 rows a block
//
// A row with a NaN comes out all NaN, the other rows untouched. Rungs 2 and 3 need launch.block
// a multiple of 32 (a warp per row). A launcher returns once the kernel is queued; it throws
// std::invalid_argument for bad arguments and std::runtime_error when CUDA refuses the launch.
#ifndef CH07_SOFTMAX_H_
#define CH07_SOFTMAX_H_

#include "launch.h"

namespace ch07 {

// ch07.9: a thread per row, three passes over it.
void softmax_thread_per_row(int rows, int cols, const float* in, float* out, Launch launch = {});

// ch07.10: a warp per row (launch.block / 32 rows a block).
void softmax_warp_per_row(int rows, int cols, const float* in, float* out, Launch launch = {});

// ch07.11: a warp per row, online max and sum (one pass), then the divide pass.
void softmax_online(int rows, int cols, const float* in, float* out, Launch launch = {});

using SoftmaxLauncher = void (*)(int rows, int cols, const float* in, float* out, Launch launch);
inline constexpr Rung<SoftmaxLauncher> kSoftmaxLadder[] = {
    {"softmax_thread_per_row", softmax_thread_per_row},
    {"softmax_warp_per_row", softmax_warp_per_row},
    {"softmax_online", softmax_online},
};

}  // namespace ch07

#endif  // CH07_SOFTMAX_H_
