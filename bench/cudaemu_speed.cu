// What the CUDA emulator costs: chapter 7's kinds of kernel run emulated (every access checked,
// every CUDA thread a fiber) against the same arithmetic as plain C++ loops, in one run. The
// ratio is the slowdown a student pays on a laptop for CUDA's semantics and the checks.
//
//   bazel run -c opt //bench:cudaemu_speed          (./course bench cudaemu_speed)
//   RESULT name=cudaemu_matmul_128 ours=41.2 anchor=0.9 ratio=45.8 checked_per_s=...
//
// ours and anchor are medians of 5 runs, in milliseconds of the process's CPU time (all its
// threads): the work emulation costs, steady on a shared machine; on an idle one the wall time is
// about that divided by the emulator's worker threads. checked_per_s counts the kernel's global
// and shared loads and stores per CPU second.
#include <cuda_runtime.h>

#include <time.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace {

__global__ void add(const float* a, const float* b, float* c, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

// Two elements a thread on the way in, a shared-memory tree down to one warp, then shuffles:
// 512 values a block, 4 barriers and 5 shuffles a thread.
__global__ void tree_sum(const float* x, float* partial, int n) {
  __shared__ float s[256];
  const int t = threadIdx.x, i = 2 * blockIdx.x * blockDim.x + t;
  s[t] = (i < n ? x[i] : 0.0f) + (i + blockDim.x < n ? x[i + blockDim.x] : 0.0f);
  __syncthreads();
  for (int half = blockDim.x / 2; half >= 32; half /= 2) {
    if (t < half) s[t] += s[t + half];
    __syncthreads();
  }
  if (t >= 32) return;
  float v = s[t];
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);
  if (t == 0) partial[blockIdx.x] = v;
}

__global__ void shuffle_sum(const float* x, float* partial, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? x[i] : 0.0f;
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);
  if (threadIdx.x % 32 == 0) partial[i / 32] = v;
}

__global__ void tiled_matmul(const float* A, const float* B, float* C, int n) {
  __shared__ float As[16][16], Bs[16][16];
  const int r = blockIdx.y * 16 + threadIdx.y, c = blockIdx.x * 16 + threadIdx.x;
  float acc = 0;
  for (int k0 = 0; k0 < n; k0 += 16) {
    As[threadIdx.y][threadIdx.x] = A[r * n + k0 + threadIdx.x];
    Bs[threadIdx.y][threadIdx.x] = B[(k0 + threadIdx.y) * n + c];
    __syncthreads();
    for (int k = 0; k < 16; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
    __syncthreads();
  }
  C[r * n + c] = acc;
}

double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return 1e3 * ts.tv_sec + 1e-6 * ts.tv_nsec;
}

double median_ms(const std::function<void()>& f) {
  std::vector<double> ms;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = cpu_ms();
    f();
    ms.push_back(cpu_ms() - t0);
  }
  return bench::median(ms);
}

float* device_copy(const std::vector<float>& h) {
  float* d = nullptr;
  cudaMalloc(&d, h.size() * sizeof(float));
  cudaMemcpy(d, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice);
  return d;
}

void report(const std::string& name, const std::function<void()>& emulated, const std::function<void()>& loops,
            double checked_accesses) {
  const double ours = median_ms(emulated), anchor = median_ms(loops);
  if (cudaDeviceSynchronize() != cudaSuccess) std::printf("%s: the kernel faulted\n", name.c_str());
  char extra[96];
  std::snprintf(extra, sizeof extra, " checked_per_s=%.3g", checked_accesses / (ours / 1e3));
  bench::print_result(name, ours, anchor, extra);
}

}  // namespace

int main() {
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  std::printf("%s, %d worker threads\n", prop.name, prop.multiProcessorCount);
  const int n = 1 << 20;
  std::vector<float> x(n), y(n), out(n);
  for (int i = 0; i < n; ++i) x[i] = 0.001f * (i % 1000), y[i] = 1.0f - x[i];
  float *dx = device_copy(x), *dy = device_copy(y), *dout = device_copy(out);
  volatile float sink = 0;

  report("cudaemu_add_1M", [&] { add<<<n / 256, 256>>>(dx, dy, dout, n); },
         [&] {
           for (int i = 0; i < n; ++i) out[i] = x[i] + y[i];
           sink = out[n / 2];
         },
         3.0 * n);
  report("cudaemu_tree_sum_1M", [&] { tree_sum<<<n / 512, 256>>>(dx, dout, n); },
         [&] {
           for (int b = 0; b < n / 512; ++b) {
             float s = 0;
             for (int i = 0; i < 512; ++i) s += x[b * 512 + i];
             out[b] = s;
           }
           sink = out[1];
         },
         n + n / 2.0 + 3.0 * 224 * n / 512);  // two loads, a store, then 224 adds of 3 accesses a block
  report("cudaemu_shuffle_sum_1M", [&] { shuffle_sum<<<n / 256, 256>>>(dx, dout, n); },
         [&] {
           for (int w = 0; w < n / 32; ++w) {
             float s = 0;
             for (int i = 0; i < 32; ++i) s += x[w * 32 + i];
             out[w] = s;
           }
           sink = out[1];
         },
         n + n / 32.0);
  const int m = 128;
  report("cudaemu_matmul_128", [&] { tiled_matmul<<<dim3(m / 16, m / 16), dim3(16, 16)>>>(dx, dy, dout, m); },
         [&] {
           for (int r = 0; r < m; ++r)
             for (int c = 0; c < m; ++c) {
               float acc = 0;
               for (int k = 0; k < m; ++k) acc += x[r * m + k] * y[k * m + c];
               out[r * m + c] = acc;
             }
           sink = out[5];
         },
         2.0 * m * m * m + 4.0 * m * m * (m / 16) + m * m);
  (void)sink;
  cudaFree(dx), cudaFree(dy), cudaFree(dout);
  return 0;
}
