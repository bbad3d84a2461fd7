// Device helpers in a header of their own, as a chapter's common.cuh: cuda_emu_library's cu_hdrs
// rewrites them, and intrinsics_test.cu's #include finds the rewritten copy.
#pragma once

__device__ inline float warp_total(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffff, v, o);
  return v;
}

__device__ inline void store_at_lane(float* out, float v) { out[threadIdx.x % 32] = v; }
