// The emulator's built-ins against hand-computed results: the index variables, warp shuffles
// (every variant, with widths, from diverged half-warps), votes, the counting barriers, every
// atomic, float4 and __ldg, dynamic shared memory, math, printf. (2-D shared tiles with tails:
// both_ways/kernels.cu's transpose and matmul.) This file goes through the rewriter like a
// chapter's .cu (cuda_emu_library), so it tests that path too.
#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "gtest/gtest.h"
#include "tools/cudaemu/intrinsics_test_helpers.cuh"

namespace {

// Device buffers that free themselves; copy_in / copy_out check every call.
template <class T>
struct Device {
  T* p = nullptr;
  size_t n;
  explicit Device(size_t count) : n(count) {
    EXPECT_EQ(cudaMalloc(&p, n * sizeof(T)), cudaSuccess);
    EXPECT_EQ(cudaMemset(p, 0, n * sizeof(T)), cudaSuccess);
  }
  explicit Device(const std::vector<T>& host) : Device(host.size()) {
    EXPECT_EQ(cudaMemcpy(p, host.data(), n * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~Device() { cudaFree(p); }
  std::vector<T> host() const {
    std::vector<T> h(n);
    EXPECT_EQ(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return h;
  }
};

#define EXPECT_LAUNCH_OK()                                                          \
  do {                                                                              \
    EXPECT_EQ(cudaGetLastError(), cudaSuccess) << cudaemu::last_report();           \
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << cudaemu::last_report();      \
  } while (0)

// ---------------------------------------------------------------- index variables

__global__ void record_indices(int* out) {
  const int block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  int* r = out + 8 * (block * blockDim.x * blockDim.y * blockDim.z + thread);
  r[0] = threadIdx.x, r[1] = threadIdx.y, r[2] = threadIdx.z;
  r[3] = blockIdx.x, r[4] = blockIdx.y, r[5] = blockIdx.z;
  r[6] = blockDim.x * 100 + blockDim.y * 10 + blockDim.z;
  r[7] = gridDim.x * 100 + gridDim.y * 10 + gridDim.z;
}

TEST(Builtins, IndexVariablesCoverA3dGridOf3dBlocks) {
  const dim3 grid(2, 3, 2), block(4, 2, 3);
  const int threads = 12 * 24;
  Device<int> out(8 * threads);
  record_indices<<<grid, block>>>(out.p);
  EXPECT_LAUNCH_OK();
  const std::vector<int> r = out.host();
  int i = 0;
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 3; ++by)
      for (unsigned bx = 0; bx < 2; ++bx)
        for (unsigned tz = 0; tz < 3; ++tz)
          for (unsigned ty = 0; ty < 2; ++ty)
            for (unsigned tx = 0; tx < 4; ++tx, ++i) {
              const std::vector<int> want = {int(tx), int(ty), int(tz), int(bx), int(by), int(bz), 423, 232};
              ASSERT_EQ(std::vector<int>(r.begin() + 8 * i, r.begin() + 8 * i + 8), want) << "thread " << i;
            }
}

// ---------------------------------------------------------------- warps

__global__ void shuffles(int* out) {
  const int lane = threadIdx.x;
  const int v = 10 * lane;
  int* r = out + 8 * lane;
  r[0] = __shfl_sync(0xffffffff, v, (lane + 3) % 32);
  r[1] = __shfl_up_sync(0xffffffff, v, 2);
  r[2] = __shfl_down_sync(0xffffffff, v, 5);
  r[3] = __shfl_xor_sync(0xffffffff, v, 1);
  r[4] = __shfl_sync(0xffffffff, v, 2, 8);       // lane 2 of each group of 8
  r[5] = __shfl_up_sync(0xffffffff, v, 3, 16);   // not across a 16-lane boundary
  r[6] = __shfl_down_sync(0xffffffff, v, 3, 16);
  r[7] = __shfl_xor_sync(0xffffffff, v, 4, 8);
}

TEST(Warp, EveryShuffleVariantAndWidth) {
  Device<int> out(8 * 32);
  shuffles<<<1, 32>>>(out.p);
  EXPECT_LAUNCH_OK();
  const std::vector<int> r = out.host();
  for (int l = 0; l < 32; ++l) {
    const int* g = r.data() + 8 * l;
    EXPECT_EQ(g[0], 10 * ((l + 3) % 32)) << "__shfl_sync, lane " << l;
    EXPECT_EQ(g[1], 10 * (l >= 2 ? l - 2 : l)) << "__shfl_up_sync, lane " << l;
    EXPECT_EQ(g[2], 10 * (l + 5 < 32 ? l + 5 : l)) << "__shfl_down_sync, lane " << l;
    EXPECT_EQ(g[3], 10 * (l ^ 1)) << "__shfl_xor_sync, lane " << l;
    EXPECT_EQ(g[4], 10 * (l / 8 * 8 + 2)) << "__shfl_sync width 8, lane " << l;
    EXPECT_EQ(g[5], 10 * (l % 16 >= 3 ? l - 3 : l)) << "__shfl_up_sync width 16, lane " << l;
    EXPECT_EQ(g[6], 10 * (l % 16 + 3 < 16 ? l + 3 : l)) << "__shfl_down_sync width 16, lane " << l;
    EXPECT_EQ(g[7], 10 * (l ^ 4)) << "__shfl_xor_sync width 8, lane " << l;
  }
}

__global__ void float_shuffle_sum(const float* x, float* out) {
  float v = x[threadIdx.x];
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffff, v, o);
  out[threadIdx.x] = v;
}

TEST(Warp, ButterflyReductionGivesEveryLaneTheSum) {
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[i] = 0.25f * i;
  Device<float> dx(x), out(64);
  float_shuffle_sum<<<1, 64>>>(dx.p, out.p);
  EXPECT_LAUNCH_OK();
  const std::vector<float> r = out.host();
  for (int i = 0; i < 64; ++i) EXPECT_EQ(r[i], i < 32 ? 124.0f : 380.0f) << "lane " << i;  // exact: quarters
}

__global__ void votes(int* out) {
  const int lane = threadIdx.x;
  out[0 + lane] = __ballot_sync(0xffffffff, lane % 3 == 0);
  out[32 + lane] = __any_sync(0xffffffff, lane == 31);
  out[64 + lane] = __all_sync(0xffffffff, lane < 31);
  out[96 + lane] = __all_sync(0xffffffff, 1);
  out[128 + lane] = __reduce_add_sync(0xffffffff, lane);
  out[160 + lane] = __reduce_max_sync(0xffffffff, lane % 7 - 3);
}

TEST(Warp, VotesAndReductions) {
  Device<int> out(192);
  votes<<<1, 32>>>(out.p);
  EXPECT_LAUNCH_OK();
  const std::vector<int> r = out.host();
  for (int l = 0; l < 32; ++l) {
    EXPECT_EQ(static_cast<unsigned>(r[l]), 0x49249249u) << "lane " << l;
    EXPECT_EQ(r[32 + l], 1);
    EXPECT_EQ(r[64 + l], 0);
    EXPECT_EQ(r[96 + l], 1);
    EXPECT_EQ(r[128 + l], 496);
    EXPECT_EQ(r[160 + l], 3);
  }
}

__global__ void header_helpers(const float* x, float* out) { store_at_lane(out, warp_total(x[threadIdx.x])); }

TEST(Warp, HelpersFromADeviceHeader) {
  std::vector<float> x(32);
  std::iota(x.begin(), x.end(), 1.0f);
  Device<float> dx(x), out(32);
  header_helpers<<<1, 32>>>(dx.p, out.p);
  EXPECT_LAUNCH_OK();
  EXPECT_EQ(out.host(), std::vector<float>(32, 528.0f));
}

// Half-warps that took different branches shuffle among themselves, each with its own mask.
__global__ void diverged_halves(int* out) {
  const int lane = threadIdx.x;
  if (lane < 16) {
    out[lane] = __shfl_sync(0x0000ffff, lane, 0);
  } else {
    out[lane] = __shfl_down_sync(0xffff0000, lane, 1);
  }
}

TEST(Warp, DivergedHalvesShuffleWithTheirOwnMasks) {
  Device<int> out(32);
  diverged_halves<<<1, 32>>>(out.p);
  EXPECT_LAUNCH_OK();
  const std::vector<int> r = out.host();
  for (int l = 0; l < 32; ++l) EXPECT_EQ(r[l], l < 16 ? 0 : (l < 31 ? l + 1 : 31)) << "lane " << l;
}

// Lanes of a warp exchange through shared memory, ordered by __syncwarp: no race.
__global__ void syncwarp_exchange(int* out) {
  __shared__ int s[64];
  const int t = threadIdx.x;
  s[t] = t * 7;
  __syncwarp();
  out[t] = s[t ^ 1];
}

TEST(Warp, SyncwarpOrdersSharedMemoryWithinAWarp) {
  Device<int> out(64);
  syncwarp_exchange<<<1, 64>>>(out.p);
  EXPECT_LAUNCH_OK();
  const std::vector<int> r = out.host();
  for (int t = 0; t < 64; ++t) EXPECT_EQ(r[t], (t ^ 1) * 7);
}

// ---------------------------------------------------------------- barriers

__global__ void counting_barriers(int* out) {
  const int t = threadIdx.x;
  const int count = __syncthreads_count(t % 4 == 0);
  const int all = __syncthreads_and(t < 1000);
  const int any = __syncthreads_or(t == 77);
  const int none = __syncthreads_or(0);
  if (t == 0) out[0] = count, out[1] = all, out[2] = any, out[3] = none;
}

TEST(Barriers, CountAndOr) {
  Device<int> out(4);
  counting_barriers<<<1, 200>>>(out.p);
  EXPECT_LAUNCH_OK();
  EXPECT_EQ(out.host(), (std::vector<int>{50, 1, 1, 0}));
}

// ---------------------------------------------------------------- atomics

__global__ void int_atomics(int* a, unsigned* u) {
  const int t = threadIdx.x + blockIdx.x * blockDim.x;
  atomicAdd(&a[0], t);
  atomicSub(&a[1], 2);
  atomicMax(&a[2], (t * 37) % 1001);
  atomicMin(&a[3], 500 - t);
  atomicOr(&a[4], 1 << (t % 31));
  atomicAnd(&a[5], ~(1 << (t % 31)));
  atomicXor(&a[6], t);
  atomicInc(&u[0], 9u);  // counts 0..9 then wraps
  atomicDec(&u[1], 100u);
  if (atomicCAS(&a[7], 0, t + 1) == 0) atomicAdd(&a[8], 1);  // exactly one thread wins
  atomicExch(&a[9], 42);
}

TEST(Atomics, EveryIntegerAtomicOverManyBlocks) {
  Device<int> a(std::vector<int>{0, 0, -1, 1 << 30, 0, -1, 0, 0, 0, 0});
  Device<unsigned> u(std::vector<unsigned>{0, 0});
  int_atomics<<<8, 128>>>(a.p, u.p);
  EXPECT_LAUNCH_OK();
  const std::vector<int> r = a.host();
  const int n = 1024;
  int mx = -1, x = 0;
  for (int t = 0; t < n; ++t) mx = std::max(mx, (t * 37) % 1001), x ^= t;
  EXPECT_EQ(r[0], n * (n - 1) / 2);
  EXPECT_EQ(r[1], -2 * n);
  EXPECT_EQ(r[2], mx);
  EXPECT_EQ(r[3], 500 - (n - 1));
  EXPECT_EQ(r[4], 0x7fffffff);
  EXPECT_EQ(r[5], static_cast<int>(0x80000000u));
  EXPECT_EQ(r[6], x);
  EXPECT_EQ(r[8], 1);
  EXPECT_EQ(r[9], 42);
  unsigned inc = 0, dec = 0;  // CUDA's definitions, applied n times
  for (int t = 0; t < n; ++t) {
    inc = inc >= 9u ? 0u : inc + 1;
    dec = (dec == 0 || dec > 100u) ? 100u : dec - 1;
  }
  EXPECT_EQ(u.host(), (std::vector<unsigned>{inc, dec}));
}

// CUDA has no atomicMax for float: the compare-and-swap loop on its bits is the idiom.
__device__ float atomic_max_float(float* address, float value) {
  int* bits = (int*)address;
  int old = *bits;
  while (__int_as_float(old) < value) {
    const int seen = atomicCAS(bits, old, __float_as_int(value));
    if (seen == old) break;
    old = seen;
  }
  return __int_as_float(old);
}

__global__ void float_max(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) atomic_max_float(out, x[i]);
}

TEST(Atomics, FloatMaxThroughCompareAndSwap) {
  std::vector<float> x(3000);
  for (int i = 0; i < 3000; ++i) x[i] = std::sin(0.37f * i) * 100.0f;
  Device<float> dx(x), out(std::vector<float>{-1e30f});
  float_max<<<12, 256>>>(dx.p, out.p, 3000);
  EXPECT_LAUNCH_OK();
  EXPECT_EQ(out.host()[0], *std::max_element(x.begin(), x.end()));
}

__global__ void float_sum(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(out, x[i]);
}

// Blocks run on several workers (CUDAEMU_THREADS=4 for this test), yet float atomics land in
// block order, thread order within a block: the same bits on every run, and the same as a
// loop over the elements in order.
TEST(Atomics, FloatAtomicAddIsDeterministicAcrossWorkers) {
  const int n = 20000;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = std::sin(1.3f * i) * (1 + i % 97);
  float in_order = 0;
  for (float v : x) in_order += v;
  Device<float> dx(x);
  for (int run = 0; run < 3; ++run) {
    Device<float> out(1);
    float_sum<<<(n + 127) / 128, 128>>>(dx.p, out.p, n);
    EXPECT_LAUNCH_OK();
    EXPECT_EQ(out.host()[0], in_order) << "run " << run;
  }
}

// ---------------------------------------------------------------- memory

__global__ void scale4(const float* in, float* out, int n4) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n4) return;
  const float4 v = __ldg(reinterpret_cast<const float4*>(in) + i);
  float4* o = reinterpret_cast<float4*>(out);
  o[i] = make_float4(2 * v.x, 2 * v.y, 2 * v.z, 2 * v.w);
  o[i].w = v.w + 1;  // a component through the proxy
}

TEST(Memory, Float4AndLdg) {
  std::vector<float> x(1000);
  std::iota(x.begin(), x.end(), 0.0f);
  Device<float> in(x), out(1000);
  scale4<<<2, 128>>>(in.p, out.p, 250);
  EXPECT_LAUNCH_OK();
  const std::vector<float> r = out.host();
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(r[i], i % 4 == 3 ? x[i] + 1 : 2 * x[i]) << i;
}

// Two arrays carved out of one dynamic buffer (the third launch argument).
__global__ void carve(int* out, int n) {
  extern __shared__ int dyn[];
  int* a = dyn;
  float* b = (float*)&dyn[n];
  a[threadIdx.x] = threadIdx.x;
  b[threadIdx.x] = 0.5f * threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = a[n - 1 - threadIdx.x] + static_cast<int>(2 * b[threadIdx.x]);
}

TEST(Memory, DynamicSharedMemory) {
  Device<int> out(64);
  carve<<<1, 64, 64 * (sizeof(int) + sizeof(float))>>>(out.p, 64);
  EXPECT_LAUNCH_OK();
  const std::vector<int> r = out.host();
  for (int t = 0; t < 64; ++t) EXPECT_EQ(r[t], 63 - t + t);
}

// Over 48 KB of dynamic shared memory needs the opt-in, as on a GPU.
__global__ void big_shared(int* out) {
  extern __shared__ int dyn[];
  dyn[threadIdx.x * 1000] = 1;
  out[threadIdx.x] = dyn[threadIdx.x * 1000];
}

TEST(Memory, LargeDynamicSharedMemoryNeedsTheAttribute) {
  Device<int> out(32);
  const size_t bytes = 100 * 1024;
  cudaemu::print_reports(false);
  big_shared<<<1, 16, bytes>>>(out.p);
  cudaemu::print_reports(true);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_NE(std::string(cudaemu::last_report()).find("cudaFuncAttributeMaxDynamicSharedMemorySize"), std::string::npos);
  ASSERT_EQ(cudaFuncSetAttribute(big_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes), cudaSuccess);
  big_shared<<<1, 16, bytes>>>(out.p);
  EXPECT_LAUNCH_OK();
  EXPECT_EQ(out.host()[15], 1);
}

// ---------------------------------------------------------------- math, printf, the host API

__global__ void math(float* f, int* i) {
  f[0] = rsqrtf(4.0f);
  f[1] = __int_as_float(__float_as_int(1.5f));
  f[2] = __saturatef(1.7f) + __saturatef(-2.0f);
  f[3] = max(2.5f, -1.0f) + min(3, 7);
  f[4] = __fdividef(1.0f, 8.0f);
  i[0] = __popc(0xf0f0u);
  i[1] = __clz(1);
  i[2] = static_cast<int>(__brev(1u));
  i[3] = __ffs(8);
  i[4] = max(-3, 2u) == 4294967293u;  // CUDA's mixed int/unsigned max is unsigned
}

// `cond ? x[i] : 0` is a float, as in CUDA (not the element converted to int).
__global__ void guarded_halves(const float* x, float* y, int n) {
  const int i = threadIdx.x;
  y[i] = i < n ? x[i] : 0;
}

TEST(Math, AConditionalWithAnIntLiteralKeepsTheFloat) {
  Device<float> x(std::vector<float>{0.5f, 1.25f, 2.75f}), y(4);
  guarded_halves<<<1, 4>>>(x.p, y.p, 3);
  EXPECT_LAUNCH_OK();
  EXPECT_EQ(y.host(), (std::vector<float>{0.5f, 1.25f, 2.75f, 0.0f}));
}

TEST(Math, CudaOnlyFunctions) {
  Device<float> f(5);
  Device<int> i(5);
  math<<<1, 1>>>(f.p, i.p);
  EXPECT_LAUNCH_OK();
  EXPECT_EQ(f.host(), (std::vector<float>{0.5f, 1.5f, 1.0f, 5.5f, 0.125f}));
  EXPECT_EQ(i.host(), (std::vector<int>{8, 31, static_cast<int>(0x80000000u), 4, 1}));
}

__global__ void say(const float* x) { printf("x[1] = %g, thread %d\n", x[1], threadIdx.x); }

TEST(Math, PrintfPrintsValuesOfElements) {
  Device<float> x(std::vector<float>{1.0f, 2.5f});
  testing::internal::CaptureStdout();
  say<<<1, 2>>>(x.p);
  cudaDeviceSynchronize();
  std::fflush(stdout);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "x[1] = 2.5, thread 0\nx[1] = 2.5, thread 1\n");
}

TEST(HostApi, DeviceEventsAndCopies) {
  int count = 0;
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 1);
  cudaDeviceProp prop;
  EXPECT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_EQ(prop.warpSize, 32);
  EXPECT_EQ(prop.maxThreadsPerBlock, 1024);
  cudaEvent_t start, stop;
  EXPECT_EQ(cudaEventCreate(&start), cudaSuccess);
  EXPECT_EQ(cudaEventCreate(&stop), cudaSuccess);
  cudaEventRecord(start);
  Device<float> a(std::vector<float>{1, 2, 3}), b(3);
  EXPECT_EQ(cudaMemcpy(b.p, a.p, 3 * sizeof(float), cudaMemcpyDeviceToDevice), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(b.p + 1, a.p, sizeof(float), cudaMemcpyDefault), cudaSuccess);
  cudaEventRecord(stop);
  EXPECT_EQ(cudaEventSynchronize(stop), cudaSuccess);
  float ms = -1;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_GE(ms, 0.0f);
  EXPECT_EQ(b.host(), (std::vector<float>{1, 1, 3}));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

}  // namespace
