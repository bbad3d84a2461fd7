// One deliberately broken kernel (or host call) per diagnostic, and what the emulator says:
// the error code a program sees, and a report that names the kernel, the block, the thread and
// the source line (the line marked `// <- NAME` in this file), and what went wrong. These are
// the mistakes compute-sanitizer's memcheck, racecheck, initcheck and synccheck catch on a GPU.
#include <cuda_runtime.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

// The line of this file that carries the marker `// <- name`.
int marked_line(const std::string& name) {
  const char* root = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::ifstream in(std::string(root ? root : ".") + "/" + (workspace ? workspace : "") +
                   "/tools/cudaemu/diagnostics_test.cu");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find("// <- " + name) != std::string::npos) return n;
  ADD_FAILURE() << "no line marked '// <- " << name << "' in diagnostics_test.cu (or the file is not in the runfiles)";
  return -1;
}

struct Outcome {
  cudaError_t sync;     // what cudaDeviceSynchronize returned
  cudaError_t last;     // what cudaGetLastError returned
  std::string report;   // cudaemu::last_report()
};

Outcome run(const std::function<void()>& launch) {
  launch();
  Outcome o;
  o.last = cudaGetLastError();
  o.sync = cudaDeviceSynchronize();
  o.report = cudaemu::last_report();
  return o;
}

// The report has every fragment, and names the marked line.
void expect_report(const Outcome& o, cudaError_t code, const std::vector<std::string>& fragments,
                   const std::string& marker = "") {
  EXPECT_EQ(o.sync, code) << cudaGetErrorName(o.sync) << "\n" << o.report;
  EXPECT_EQ(o.last, code) << cudaGetErrorName(o.last);
  for (const std::string& f : fragments) EXPECT_NE(o.report.find(f), std::string::npos) << "missing: " << f << "\nin:\n" << o.report;
  if (!marker.empty()) {
    const std::string at = "diagnostics_test.cu:" + std::to_string(marked_line(marker));
    EXPECT_NE(o.report.find(at), std::string::npos) << "missing: " << at << "\nin:\n" << o.report;
  }
}

template <class T>
T* device(size_t n, bool zero = true) {
  T* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, n * sizeof(T)), cudaSuccess);
  if (zero) EXPECT_EQ(cudaMemset(p, 0, n * sizeof(T)), cudaSuccess);
  return p;
}

// ---------------------------------------------------------------- memcheck: bounds, alignment, pointers

__global__ void unguarded_tail(float* x) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  x[i] = 1.0f;  // <- unguarded_tail
}

TEST(Memcheck, AWritePastTheEndOfAnAllocation) {
  float* x = device<float>(1000);
  const Outcome o = run([&] { unguarded_tail<<<4, 256>>>(x); });
  expect_report(o, cudaErrorIllegalAddress,
                {"cudaemu: out-of-bounds write", "kernel unguarded_tail<<<(4,1,1), (256,1,1)>>>",
                 "block (3,0,0), thread (232,0,0)", "is 0 bytes past the end of allocation",
                 "(4000 bytes from cudaMalloc)", "(element 1000 of an array of 1000 elements of 4 bytes)"},
                "unguarded_tail");
  cudaFree(x);
}

__global__ void neighbour_sum(const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i] + x[i + 1];  // <- neighbour_sum
}

TEST(Memcheck, AReadPastTheEnd) {
  float *x = device<float>(300), *y = device<float>(300);
  const Outcome o = run([&] { neighbour_sum<<<2, 256>>>(x, y, 300); });
  expect_report(o, cudaErrorIllegalAddress, {"out-of-bounds read", "block (1,0,0), thread (43,0,0)"}, "neighbour_sum");
  cudaFree(x), cudaFree(y);
}

__global__ void shifted_tile(float* out) {
  __shared__ float tile[32][32];
  tile[threadIdx.y][threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.y * 32 + threadIdx.x] = tile[threadIdx.y][threadIdx.x + 1];  // <- shifted_tile
}

TEST(Memcheck, AnIndexPastARowOfASharedTile) {
  float* out = device<float>(1024);
  const Outcome o = run([&] { shifted_tile<<<1, dim3(32, 32)>>>(out); });
  expect_report(o, cudaErrorIllegalAddress,
                {"out-of-bounds index into a __shared__ array", "thread (31,0,0)", "index 32 is outside [0, 32)",
                 "__shared__ float tile[32][32]"},
                "shifted_tile");
  cudaFree(out);
}

__global__ void misaligned_float4(const float* x, float* y) {
  const float4 v = reinterpret_cast<const float4*>(x + 1)[threadIdx.x];  // <- misaligned_float4
  y[threadIdx.x] = v.x;
}

TEST(Memcheck, AFloat4AccessOffItsAlignment) {
  float *x = device<float>(256), *y = device<float>(64);
  const Outcome o = run([&] { misaligned_float4<<<1, 32>>>(x, y); });
  expect_report(o, cudaErrorMisalignedAddress,
                {"misaligned read", "a 16-byte access must be 16-byte aligned", "is byte 4 of allocation"},
                "misaligned_float4");
  cudaFree(x), cudaFree(y);
}

__global__ void copy_kernel(const float* in, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = in[i];  // <- copy_kernel
}

TEST(Memcheck, AHostPointerPassedToAKernel) {
  std::vector<float> host(64, 1.0f);
  float* out = device<float>(64);
  const Outcome o = run([&] { copy_kernel<<<1, 64>>>(host.data(), out, 64); });
  expect_report(o, cudaErrorIllegalAddress,
                {"invalid read", "the pointer points at host memory, not memory from cudaMalloc"}, "copy_kernel");
  cudaFree(out);
}

TEST(Memcheck, ANullPointer) {
  float* in = device<float>(64);
  const Outcome o = run([&] { copy_kernel<<<1, 64>>>(in, nullptr, 64); });
  expect_report(o, cudaErrorIllegalAddress, {"invalid write", "the pointer is null"}, "copy_kernel");
  cudaFree(in);
}

TEST(Memcheck, MemoryUsedAfterCudaFree) {
  float *in = device<float>(64), *out = device<float>(64);
  cudaFree(in);
  const Outcome o = run([&] { copy_kernel<<<1, 64>>>(in, out, 64); });
  expect_report(o, cudaErrorIllegalAddress, {"memory already freed with cudaFree", "(256 bytes from cudaMalloc)"},
                "copy_kernel");
  cudaFree(out);
}

// ---------------------------------------------------------------- initcheck

__global__ void accumulate(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] += x[i];  // <- accumulate
}

TEST(Initcheck, AnOutputReadBeforeAnythingWroteIt) {
  float* x = device<float>(100);
  float* out = device<float>(100, /*zero=*/false);  // no cudaMemset
  const Outcome o = run([&] { accumulate<<<1, 128>>>(x, out, 100); });
  expect_report(o, cudaErrorLaunchFailure,
                {"read of uninitialised device memory", "bytes 0-3 of allocation", "were never written"}, "accumulate");
  cudaFree(x), cudaFree(out);
}

__global__ void sum_into(const float* x, float* total) { atomicAdd(total, x[threadIdx.x]); }  // <- sum_into

TEST(Initcheck, AnAtomicIntoAnAccumulatorNobodyZeroed) {
  float* x = device<float>(32);
  float* total = device<float>(1, /*zero=*/false);
  const Outcome o = run([&] { sum_into<<<1, 32>>>(x, total); });
  expect_report(o, cudaErrorLaunchFailure, {"read of uninitialised device memory"}, "sum_into");
  cudaFree(x), cudaFree(total);
}

__global__ void shared_accumulator(const float* x, float* out) {
  __shared__ float acc;
  atomicAdd(&acc, x[threadIdx.x]);  // <- shared_accumulator
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = acc;
}

TEST(Initcheck, ASharedAccumulatorNeverInitialised) {
  float *x = device<float>(64), *out = device<float>(1);
  const Outcome o = run([&] { shared_accumulator<<<1, 64>>>(x, out); });
  expect_report(o, cudaErrorLaunchFailure,
                {"read of uninitialised shared memory", "thread (0,0,0)", "__shared__ float acc",
                 "which no thread of this block has written yet"},
                "shared_accumulator");
  cudaFree(x), cudaFree(out);
}

// ---------------------------------------------------------------- racecheck

__global__ void shift_left(const float* x, float* y) {
  __shared__ float s[256];
  const int t = threadIdx.x;
  s[t] = x[t];  // <- shift_left_write
  // missing: __syncthreads();
  y[t] = t > 0 ? s[t - 1] : 0.0f;  // <- shift_left_read
}

TEST(Racecheck, AReadOfAnotherThreadsWriteWithoutABarrier) {
  float *x = device<float>(256), *y = device<float>(256);
  const Outcome o = run([&] { shift_left<<<1, 256>>>(x, y); });
  expect_report(o, cudaErrorLaunchFailure,
                {"shared-memory race", "thread (1,0,0) reads byte 0 of __shared__ float s[256]",
                 "and thread (0,0,0) wrote it at diagnostics_test.cu:" + std::to_string(marked_line("shift_left_write")),
                 "with no __syncthreads() between the two"},
                "shift_left_read");
  cudaFree(x), cudaFree(y);
}

// The second barrier of a tiled loop forgotten: the next tile overwrites what others still read.
__global__ void tiles_without_second_barrier(const float* x, float* y) {
  __shared__ float tile[64];
  const int t = threadIdx.x;
  float acc = 0;
  for (int k = 0; k < 2; ++k) {
    tile[t] = x[k * 64 + t];  // <- tile_write
    __syncthreads();
    acc += tile[(t + 1) % 64];  // <- tile_read
    // missing: __syncthreads();
  }
  y[t] = acc;
}

TEST(Racecheck, AWriteOverWhatAnotherThreadReadsWithoutABarrier) {
  float *x = device<float>(128), *y = device<float>(64);
  const Outcome o = run([&] { tiles_without_second_barrier<<<1, 64>>>(x, y); });
  expect_report(o, cudaErrorLaunchFailure,
                {"shared-memory race", "thread (1,0,0) writes byte 4 of __shared__ float tile[64]",
                 "and thread (0,0,0) read it at diagnostics_test.cu:" + std::to_string(marked_line("tile_read"))},
                "tile_write");
  cudaFree(x), cudaFree(y);
}

__global__ void count_without_barrier(int* out) {
  __shared__ int count;
  if (threadIdx.x == 0) count = 0;  // <- count_reset
  atomicAdd(&count, 1);  // <- count_add
  __syncthreads();
  if (threadIdx.x == 0) out[0] = count;
}

TEST(Racecheck, AtomicsRaceWithAPlainWriteInTheSameInterval) {
  int* out = device<int>(1);
  const Outcome o = run([&] { count_without_barrier<<<1, 64>>>(out); });
  expect_report(o, cudaErrorLaunchFailure, {"shared-memory race", "thread (1,0,0) atomically updates", "thread (0,0,0) wrote it"},
                "count_add");
  cudaFree(out);
}

// ---------------------------------------------------------------- synccheck: barriers and warps

__global__ void early_return(const float* x, float* y, int n) {
  __shared__ float s[256];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  s[threadIdx.x] = x[i];
  __syncthreads();  // <- early_return
  y[i] = s[threadIdx.x];
}

TEST(Synccheck, ABarrierThatThreadsWhichReturnedNeverReach) {
  float *x = device<float>(1000), *y = device<float>(1000);
  const Outcome o = run([&] { early_return<<<4, 256>>>(x, y, 1000); });
  expect_report(o, cudaErrorLaunchFailure,
                {"divergent __syncthreads(): some threads of the block returned without reaching it", "block (3,0,0)",
                 "threads (0,0,0)-(231,0,0) wait at __syncthreads()", "threads (232,0,0)-(255,0,0) have returned"},
                "early_return");
  cudaFree(x), cudaFree(y);
}

__global__ void barrier_per_branch(float* y) {
  if (threadIdx.x < 16) {
    __syncthreads();  // <- branch_barrier_a
  } else {
    __syncthreads();  // <- branch_barrier_b
  }
  y[threadIdx.x] = 1;
}

TEST(Synccheck, ThreadsAtDifferentBarriers) {
  float* y = device<float>(64);
  const Outcome o = run([&] { barrier_per_branch<<<1, 64>>>(y); });
  expect_report(o, cudaErrorLaunchFailure,
                {"threads of one block wait at different barriers", "threads (0,0,0)-(15,0,0) wait at __syncthreads() at diagnostics_test.cu:" + std::to_string(marked_line("branch_barrier_a")),
                 "threads (16,0,0)-(63,0,0) wait at __syncthreads() at diagnostics_test.cu:" + std::to_string(marked_line("branch_barrier_b"))});
  cudaFree(y);
}

__global__ void shuffle_against_barrier(float* y) {
  float v = threadIdx.x;
  if (threadIdx.x % 32 < 16) v = __shfl_sync(0xffffffff, v, 0);  // <- shuffle_against_barrier
  __syncthreads();
  y[threadIdx.x] = v;
}

TEST(Synccheck, AShuffleWaitingForLanesThatWaitAtABarrier) {
  float* y = device<float>(32);
  const Outcome o = run([&] { shuffle_against_barrier<<<1, 32>>>(y); });
  expect_report(o, cudaErrorLaunchFailure,
                {"deadlock: a warp collective waits for lanes that are elsewhere",
                 "threads (0,0,0)-(15,0,0) wait at a warp collective at diagnostics_test.cu:" +
                     std::to_string(marked_line("shuffle_against_barrier")),
                 "threads (16,0,0)-(31,0,0) wait at __syncthreads()"});
  cudaFree(y);
}

__global__ void warp_sum_any_block(const float* x, float* y) {
  float v = x[threadIdx.x];
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);  // <- warp_sum_any_block
  if (threadIdx.x % 32 == 0) y[threadIdx.x / 32] = v;
}

TEST(Synccheck, AShuffleReadingALanePastTheEndOfTheBlock) {
  float *x = device<float>(48), *y = device<float>(2);
  const Outcome o = run([&] { warp_sum_any_block<<<1, 48>>>(x, y); });  // the second warp has 16 lanes
  expect_report(o, cudaErrorLaunchFailure,
                {"warp shuffle reads a lane that does not take part", "thread (32,0,0) (warp 1, lane 0)",
                 "reads lane 16, which is not in the shuffle"},
                "warp_sum_any_block");
  cudaFree(x), cudaFree(y);
}

__global__ void mask_without_self(float* y) {
  y[threadIdx.x] = __shfl_sync(0x1, 1.0f, 0);  // <- mask_without_self
}

TEST(Synccheck, AMaskThatLeavesOutTheCallingLane) {
  float* y = device<float>(32);
  const Outcome o = run([&] { mask_without_self<<<1, 32>>>(y); });
  expect_report(o, cudaErrorLaunchFailure,
                {"warp collective whose mask leaves out the calling lane", "lane 1 of warp 0 calls __shfl_sync(0x1, ...)"},
                "mask_without_self");
  cudaFree(y);
}

__global__ void mismatched_collectives(unsigned* y) {
  if (threadIdx.x < 16) {
    y[threadIdx.x] = __ballot_sync(0xffffffff, 1);  // <- mismatched_ballot
  } else {
    y[threadIdx.x] = __shfl_sync(0xffffffff, 2u, 0);  // <- mismatched_shfl
  }
}

TEST(Synccheck, LanesOfOneMaskAtDifferentCollectives) {
  unsigned* y = device<unsigned>(32);
  const Outcome o = run([&] { mismatched_collectives<<<1, 32>>>(y); });
  expect_report(o, cudaErrorLaunchFailure,
                {"lanes of one mask at different warp collectives", "lane 16 of warp 0 calls __shfl_sync(0xffffffff, ...)",
                 "wait at __ballot_sync at diagnostics_test.cu:" + std::to_string(marked_line("mismatched_ballot"))},
                "mismatched_shfl");
  cudaFree(y);
}

// ---------------------------------------------------------------- launches and device-side checks

TEST(Launch, ABlockOfMoreThan1024Threads) {
  float *in = device<float>(64), *out = device<float>(64);
  cudaGetLastError();
  copy_kernel<<<1, 2048>>>(in, out, 64);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_NE(std::string(cudaemu::last_report()).find("the block (2048,1,1) has 2048 threads; a block has at most 1024"),
            std::string::npos)
      << cudaemu::last_report();
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // the kernel never ran: nothing to report later
  cudaFree(in), cudaFree(out);
}

__global__ void too_much_shared(float* y) {
  __shared__ float big[13000];  // <- too_much_shared (52000 bytes, over the 48 KB a block gets)
  big[threadIdx.x] = 1;
  y[threadIdx.x] = big[threadIdx.x];
}

TEST(Launch, MoreSharedMemoryThanABlockHas) {
  float* y = device<float>(32);
  const Outcome o = run([&] { too_much_shared<<<1, 32>>>(y); });
  expect_report(o, cudaErrorLaunchOutOfResources,
                {"too much shared memory", "__shared__ float big[13000]", "needs 52000 bytes", "the limit is 49152"},
                "too_much_shared");
  cudaFree(y);
}

__global__ void checks_input(const float* x) {
  assert(x[threadIdx.x] >= 0);  // <- checks_input
}

TEST(Launch, AFailedAssert) {
  std::vector<float> h(32, 1.0f);
  h[7] = -1;
  float* x = device<float>(32);
  cudaMemcpy(x, h.data(), 32 * sizeof(float), cudaMemcpyHostToDevice);
  const Outcome o = run([&] { checks_input<<<1, 32>>>(x); });
  expect_report(o, cudaErrorAssert, {"assertion failed", "thread (7,0,0)", "assert(x[threadIdx.x] >= 0)"}, "checks_input");
  cudaFree(x);
}

// ---------------------------------------------------------------- shared memory by address
// cudaemu::shared_offset and shared_pointer (checked.h): what an emulated instruction that takes
// shared-memory addresses (a wgmma descriptor) goes through.

__global__ void shared_round_trip(unsigned* offsets, float* values) {
  extern __shared__ float dyn[];  // 40 bytes from the launch: the arrays after it start at 48
  __shared__ float tile[8];
  tile[threadIdx.x] = 10.0f + threadIdx.x;
  if (threadIdx.x < 4) dyn[threadIdx.x] = 20.0f + threadIdx.x;
  __syncthreads();
  if (threadIdx.x != 0) return;
  offsets[0] = cudaemu::shared_offset(dyn, 16);
  offsets[1] = cudaemu::shared_offset(tile + 4, 16);
  values[0] = cudaemu::shared_pointer<const float>(offsets[1])[0];
  values[1] = cudaemu::shared_pointer<const float>(offsets[0] + 12)[0];
}

TEST(SharedAddresses, AnOffsetLeadsBackToTheArrayThatHoldsIt) {
  unsigned* offsets = device<unsigned>(2);
  float* values = device<float>(2);
  shared_round_trip<<<1, 8, 40>>>(offsets, values);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess) << cudaemu::last_report();
  unsigned o[2];
  float v[2];
  cudaMemcpy(o, offsets, sizeof o, cudaMemcpyDeviceToHost);
  cudaMemcpy(v, values, sizeof v, cudaMemcpyDeviceToHost);
  EXPECT_EQ(o[0], 0u) << "the dynamic part comes first";
  EXPECT_EQ(o[1], 48u + 16u) << "tile at 48 (the dynamic part's 40 bytes rounded to 16), element 4";
  EXPECT_EQ(v[0], 14.0f);
  EXPECT_EQ(v[1], 23.0f);
  cudaFree(offsets), cudaFree(values);
}

__global__ void shared_addresses_misused(int how, const float* global) {
  __shared__ float tile[8];
  tile[threadIdx.x] = 1.0f;
  __syncthreads();
  if (how == 0) cudaemu::shared_offset(tile + 1, 16);  // <- misaligned_shared_offset
  if (how == 1) cudaemu::shared_offset(global, 16);  // <- global_shared_offset
  if (how == 2) cudaemu::shared_pointer<const float>(4096);  // <- shared_pointer_nowhere
  if (how == 3 && threadIdx.x == 1) tile[0] = 2.0f;
  if (how == 3 && threadIdx.x == 2) (void)static_cast<float>(cudaemu::shared_pointer<const float>(0)[0]);  // <- shared_pointer_race
}

TEST(SharedAddresses, MisusesAreReportedAndAccessesThroughThemAreChecked) {
  const float* global = device<float>(8);
  expect_report(run([&] { shared_addresses_misused<<<1, 8>>>(0, global); }), cudaErrorMisalignedAddress,
                {"misaligned shared-memory address", "byte 4 of __shared__ float tile[8]", "must be a multiple of 16"},
                "misaligned_shared_offset");
  expect_report(run([&] { shared_addresses_misused<<<1, 8>>>(1, global); }), cudaErrorIllegalAddress,
                {"not a shared-memory address", "allocation #"}, "global_shared_offset");
  expect_report(run([&] { shared_addresses_misused<<<1, 8>>>(2, global); }), cudaErrorIllegalAddress,
                {"no shared memory at this address", "byte 4096 of the block's shared memory lies in none of its arrays",
                 "bytes 0-31: __shared__ float tile[8]"},
                "shared_pointer_nowhere");
  expect_report(run([&] { shared_addresses_misused<<<1, 8>>>(3, global); }), cudaErrorLaunchFailure,
                {"shared-memory race", "thread (2,0,0) reads byte 0 of __shared__ float tile[8]", "thread (1,0,0) wrote it"},
                "shared_pointer_race");
  cudaFree(const_cast<float*>(global));
}

__global__ void serials(unsigned long long* out) { out[blockIdx.x] = cudaemu::block_serial(); }

TEST(SharedAddresses, EveryRunOfABlockHasASerialOfItsOwn) {  // (what an emulated instruction's queue resets by)
  unsigned long long* out = device<unsigned long long>(4);
  unsigned long long first[4], second[4];
  serials<<<4, 1>>>(out);
  cudaMemcpy(first, out, sizeof first, cudaMemcpyDeviceToHost);
  serials<<<4, 1>>>(out);
  cudaMemcpy(second, out, sizeof second, cudaMemcpyDeviceToHost);
  const std::set<unsigned long long> all = {first[0], first[1], first[2], first[3], second[0], second[1], second[2], second[3]};
  EXPECT_EQ(all.size(), 8u);
  cudaFree(out);
}

// ---------------------------------------------------------------- what every fault shares

__global__ void faults_in_blocks_5_and_9(float* x) {
  if (blockIdx.x == 5 || blockIdx.x == 9) x[-1 - static_cast<int>(blockIdx.x)] = 0;  // <- two_faults
}

TEST(Faults, TheLowestFaultingBlockIsReportedOnEveryRun) {
  float* x = device<float>(64);
  for (int run_no = 0; run_no < 5; ++run_no) {  // blocks spread over 4 workers (CUDAEMU_THREADS)
    const Outcome o = run([&] { faults_in_blocks_5_and_9<<<16, 32>>>(x); });
    expect_report(o, cudaErrorIllegalAddress, {"block (5,0,0), thread (0,0,0)", "24 bytes before the start"}, "two_faults");
  }
  cudaFree(x);
}

TEST(Faults, AreReportedOnceToEachCheckAndTheEmulatorGoesOn) {
  float *in = device<float>(64), *out = device<float>(64);
  const long before = cudaemu::fault_count();
  copy_kernel<<<1, 64>>>(in, nullptr, 64);
  EXPECT_EQ(cudaemu::fault_count(), before + 1);
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorIllegalAddress);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  copy_kernel<<<1, 64>>>(in, out, 64);  // not sticky: the next launch runs
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  cudaFree(in), cudaFree(out);
}

// ---------------------------------------------------------------- the host API

TEST(HostApi, CopiesThatAGpuWouldRefuseSayWhy) {
  std::vector<float> h(100);
  float* d = device<float>(50);
  EXPECT_EQ(cudaMemcpy(d, h.data(), 100 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_NE(std::string(cudaemu::last_report()).find("the destination range of 400 bytes runs past the end of allocation"),
            std::string::npos)
      << cudaemu::last_report();
  EXPECT_EQ(cudaMemcpy(h.data(), d, 50 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_NE(std::string(cudaemu::last_report()).find("the source is device memory, but the kind says host (swapped arguments?)"),
            std::string::npos)
      << cudaemu::last_report();
  EXPECT_EQ(cudaMemcpy(h.data(), h.data() + 50, 4, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_NE(std::string(cudaemu::last_report()).find("the source is not device memory"), std::string::npos) << cudaemu::last_report();
  EXPECT_EQ(cudaFree(d), cudaSuccess);
  EXPECT_EQ(cudaFree(d), cudaErrorInvalidValue);
  EXPECT_NE(std::string(cudaemu::last_report()).find("cudaFree of memory already freed with cudaFree"), std::string::npos)
      << cudaemu::last_report();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

}  // namespace
