// One kernel of each family chapter 7 teaches, plain CUDA: nvcc builds it for the GPU, the
// emulator for the CPU (see kernels.h). nvcc runs with --fmad=false, so that a * b + c is
// rounded twice on both sides and the exact kernels give the same bits.
#include <cuda_runtime.h>

#include "tools/cudaemu/both_ways/kernels.h"

namespace BOTH_WAYS_NS {
namespace {

__global__ void saxpy(float a, const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

// float4 loads and stores, then the n % 4 tail one float at a time; a grid-stride loop.
__global__ void scale_vectorized(const float* x, float* y, float s, int n) {
  const int stride = gridDim.x * blockDim.x;
  const int n4 = n / 4;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride) {
    const float4 v = reinterpret_cast<const float4*>(x)[i];
    reinterpret_cast<float4*>(y)[i] = make_float4(s * v.x, s * v.y, s * v.z, s * v.w);
  }
  for (int i = 4 * n4 + blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) y[i] = s * x[i];
}

// One partial sum per block: a shared-memory tree (blockDim.x a power of two).
__global__ void tree_sum(const float* x, float* partial, int n) {
  __shared__ float s[256];
  const int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
  s[t] = i < n ? x[i] : 0.0f;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k /= 2) {
    if (t < k) s[t] += s[t + k];
    __syncthreads();
  }
  if (t == 0) partial[blockIdx.x] = s[0];
}

// One partial sum per block: shuffles within each warp, then the warps' sums through shared memory.
__global__ void shuffle_sum(const float* x, float* partial, int n) {
  __shared__ float warp_sums[32];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? x[i] : 0.0f;
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    v = threadIdx.x < blockDim.x / 32 ? warp_sums[threadIdx.x] : 0.0f;
    for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);
    if (threadIdx.x == 0) partial[blockIdx.x] = v;
  }
}

__global__ void histogram(const float* x, int* bins, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(&bins[static_cast<int>(x[i] * 16.0f) & 15], 1);
}

// softmax of each row: a block per row; the max, then the sum of exponentials, by shared trees.
__global__ void softmax_rows(const float* x, float* y, int cols) {
  __shared__ float s[128];
  const float* row = x + blockIdx.x * cols;
  const int t = threadIdx.x;
  float m = -INFINITY;
  for (int j = t; j < cols; j += blockDim.x) m = fmaxf(m, row[j]);
  s[t] = m;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k /= 2) {
    if (t < k) s[t] = fmaxf(s[t], s[t + k]);
    __syncthreads();
  }
  m = s[0];
  __syncthreads();
  float sum = 0;
  for (int j = t; j < cols; j += blockDim.x) sum += expf(row[j] - m);
  s[t] = sum;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k /= 2) {
    if (t < k) s[t] += s[t + k];
    __syncthreads();
  }
  for (int j = t; j < cols; j += blockDim.x) y[blockIdx.x * cols + j] = expf(row[j] - m) / s[0];
}

// C = A B through 16 x 16 shared tiles; sizes that are not multiples of 16.
__global__ void tiled_matmul(const float* A, const float* B, float* C, int M, int K, int N) {
  __shared__ float As[16][16], Bs[16][16];
  const int r = blockIdx.y * 16 + threadIdx.y, c = blockIdx.x * 16 + threadIdx.x;
  float acc = 0;
  for (int k0 = 0; k0 < K; k0 += 16) {
    As[threadIdx.y][threadIdx.x] = r < M && k0 + threadIdx.x < K ? A[r * K + k0 + threadIdx.x] : 0.0f;
    Bs[threadIdx.y][threadIdx.x] = c < N && k0 + threadIdx.y < K ? B[(k0 + threadIdx.y) * N + c] : 0.0f;
    __syncthreads();
    for (int k = 0; k < 16; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
    __syncthreads();
  }
  if (r < M && c < N) C[r * N + c] = acc;
}

__global__ void transpose(const float* in, float* out, int rows, int cols) {
  __shared__ float tile[32][33];
  int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 32 + threadIdx.y;
  if (x < cols && y < rows) tile[threadIdx.y][threadIdx.x] = in[y * cols + x];
  __syncthreads();
  x = blockIdx.y * 32 + threadIdx.x, y = blockIdx.x * 32 + threadIdx.y;
  if (x < rows && y < cols) out[y * rows + x] = tile[threadIdx.x][threadIdx.y];
}

// Device copies of host vectors, freed at the end of run_kernels.
class Buffers {
 public:
  ~Buffers() {
    for (void* p : owned_) cudaFree(p);
  }
  template <class T>
  T* make(const std::vector<T>& host) {
    T* d = nullptr;
    if (cudaMalloc(&d, host.size() * sizeof(T)) != cudaSuccess) return nullptr;
    owned_.push_back(d);
    cudaMemcpy(d, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
    return d;
  }
  template <class T>
  std::vector<float> read(const T* d, int n) {
    std::vector<T> h(n);
    cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
    return std::vector<float>(h.begin(), h.end());
  }

 private:
  std::vector<void*> owned_;
};

}  // namespace

std::vector<float> inputs(unsigned seed, int n) {
  std::vector<float> v(n);
  unsigned s = seed * 2654435761u + 1;
  for (float& f : v) {
    s = s * 1664525u + 1013904223u;
    f = static_cast<float>(s >> 8) / static_cast<float>(1u << 23) - 1.0f;
  }
  return v;
}

std::vector<Output> run_kernels(unsigned seed, std::string* error) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    *error = "no CUDA device";
    return {};
  }
  std::vector<Output> out;
  Buffers b;
  auto done = [&](const char* name, bool exact, std::vector<float> values) {
    const cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess && error->empty()) *error = std::string(name) + ": " + cudaGetErrorString(e);
    out.push_back({name, exact, std::move(values)});
  };
  const int n = 5003;
  const std::vector<float> x = inputs(seed, n), y = inputs(seed + 1, n);
  {
    float *dx = b.make(x), *dy = b.make(y);
    saxpy<<<(n + 255) / 256, 256>>>(0.75f, dx, dy, n);
    done("saxpy", true, b.read(dy, n));
  }
  {
    float *dx = b.make(x), *dy = b.make(y);
    scale_vectorized<<<3, 128>>>(dx, dy, -1.5f, n);
    done("scale_vectorized", true, b.read(dy, n));
  }
  {
    const int blocks = (n + 255) / 256;
    float *dx = b.make(x), *dp = b.make(std::vector<float>(blocks));
    tree_sum<<<blocks, 256>>>(dx, dp, n);
    done("tree_sum", true, b.read(dp, blocks));
    shuffle_sum<<<blocks, 256>>>(dx, dp, n);
    done("shuffle_sum", true, b.read(dp, blocks));
  }
  {
    const std::vector<float> u = inputs(seed + 2, n);
    std::vector<float> unit(n);
    for (int i = 0; i < n; ++i) unit[i] = 0.5f * (u[i] + 1.0f);
    float* du = b.make(unit);
    int* bins = b.make(std::vector<int>(16));
    histogram<<<(n + 127) / 128, 128>>>(du, bins, n);
    done("histogram", true, b.read(bins, 16));
  }
  {
    const int rows = 37, cols = 300;
    float *dx = b.make(inputs(seed + 3, rows * cols)), *dy = b.make(std::vector<float>(rows * cols));
    softmax_rows<<<rows, 128>>>(dx, dy, cols);
    done("softmax_rows", false, b.read(dy, rows * cols));
  }
  {
    const int M = 45, K = 70, N = 33;
    float *dA = b.make(inputs(seed + 4, M * K)), *dB = b.make(inputs(seed + 5, K * N));
    float* dC = b.make(std::vector<float>(M * N));
    tiled_matmul<<<dim3((N + 15) / 16, (M + 15) / 16), dim3(16, 16)>>>(dA, dB, dC, M, K, N);
    done("tiled_matmul", true, b.read(dC, M * N));
  }
  {
    const int rows = 70, cols = 45;
    float *din = b.make(inputs(seed + 6, rows * cols)), *dout = b.make(std::vector<float>(rows * cols));
    transpose<<<dim3((cols + 31) / 32, (rows + 31) / 32), dim3(32, 32)>>>(din, dout, rows, cols);
    done("transpose", true, b.read(dout, rows * cols));
  }
  return out;
}

}  // namespace BOTH_WAYS_NS
