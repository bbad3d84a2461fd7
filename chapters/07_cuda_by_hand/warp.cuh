// Warp-level reductions: the 32 lanes of a warp combine their values through register
// shuffles, without shared memory and without __syncthreads.
//
//   float v = x[i];                 // every lane of the warp holds one value
//   float total = warp_sum(v);      // now every lane holds the sum of all 32
//   float m = warp_max(v);          // and here the largest of them
//
// The butterfly (__shfl_xor_sync with offsets 16, 8, 4, 2, 1): at each step a lane adds the
// value of the lane whose index differs in one bit, so after five steps every lane has seen all
// 32 values. All 32 lanes must call these together (the full mask 0xffffffff says so): use them
// only in blocks whose size is a multiple of 32, and never under a branch that splits a warp.
#ifndef CH07_WARP_CUH_
#define CH07_WARP_CUH_

namespace ch07 {

constexpr unsigned kFullMask = 0xffffffffu;  // all 32 lanes take part

__device__ inline float warp_sum(float v) {
  // TODO(ch07.7): five butterfly steps, offset 16, 8, 4, 2, 1:
  //   v += __shfl_xor_sync(kFullMask, v, offset);
  // (README: "Warp shuffles" has the picture). Device code cannot throw: until you write this,
  // it returns NaN, which the tests report.
  return NAN;
}

__device__ inline float warp_max(float v) {
  // TODO(ch07.10): warp_sum's butterfly with fmaxf instead of +.
  return NAN;
}

}  // namespace ch07

#endif  // CH07_WARP_CUH_
