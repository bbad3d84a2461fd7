// What an H100's wgmma reads where: a probe, for a GPU of compute capability 9.0 only (elsewhere
// skipped). The emulator's wgmma and the lowering (uops.h: WGMMA) follow our reading of PTX's
// description of the shared-memory layout, the descriptor and the accumulators' fragment; this
// asks the hardware instead, in one launch, and where the two differ says how, so that a single
// run on a GPU is enough to correct the model.
//
// Block b sets one element of A's shared array to 1 (offset b), every other to 0, and B's array
// to 1, 2, 3, ... (element o holds o + 1: exact in TF32), then issues one m64n16k8 wgmma. Row r of
// D is then B's row for the K that offset b is read as, where offset b is A's (r, k), and zero
// elsewhere: D tells which row the hardware reads offset b as and, through B's values, which of
// B's elements it pairs with it. The model's answer: element (r, k) at byte (r%8)*16 + (k%4)*4 +
// (k/4)*LBO + (r/8)*SBO; thread t's accumulator i at row 16*(t/32) + t%32/4 + 8*(i/2%2), column
// 8*(i/4) + 2*(t%4) + i%2. Two layouts: K's core matrices side by side (LBO 128 bytes, SBO 256),
// and the 8-row groups side by side (SBO 128 bytes, LBO 8 groups x 128).
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/cuda/compiler.h"
#include "tinyref/backends/cuda/nvrtc.h"
#include "tinyref/backends/registry.h"
#include "tinyref/codegen/uops.h"

namespace tinyref {
namespace {

constexpr int kRows = 64, kCols = 16, kK = 8;
constexpr int kArray = 2048;  // floats: room past the model's 512 (A) and 128 (B), all zeros there

struct Layout {
  int lbo, sbo;  // bytes, the same for A and B
};

// Where the model puts row r (A's row or B's column), K k: the float's index.
int model_index(const Layout& l, int r, int k) { return (r % 8 * 16 + k % 4 * 4 + k / 4 * l.lbo + r / 8 * l.sbo) / 4; }

std::string probe_source(const Layout& l) {
  std::ostringstream s;
  s << R"(typedef unsigned long long u64;
__device__ inline u64 desc(const float* p, u64 lbo, u64 sbo) {
  const u64 a = (u64)__cvta_generic_to_shared(p);
  return ((a & 0x3ffff) >> 4) | ((lbo >> 4) << 16) | ((sbo >> 4) << 32);
}
extern "C" __global__ void __launch_bounds__(128) wgmma_probe(float* __restrict__ out) {
  __shared__ __align__(128) float a[)"
    << kArray << "], b[" << kArray << R"(];
  const int t = threadIdx.x;
  for (int i = t; i < )" << kArray << R"(; i += 128) {
    a[i] = i == (int)blockIdx.x ? 1.0f : 0.0f;
    b[i] = i < 512 ? (float)(i + 1) : 0.0f;
  }
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  __syncthreads();
  float d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  const u64 da = desc(a, )"
    << l.lbo << ", " << l.sbo << "), db = desc(b, " << l.lbo << ", " << l.sbo << R"();
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %10, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n16k8.f32.tf32.tf32 {%0, %1, %2, %3, %4, %5, %6, %7}, %8, %9, p, 1, 1;\n}\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
               : "l"(da), "l"(db), "r"(1));
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  const int w = t / 32, lane = t % 32;
  for (int i = 0; i < 8; ++i) {
    const int row = 16 * w + lane / 4 + 8 * (i / 2 % 2), col = 8 * (i / 4) + 2 * (lane % 4) + i % 2;
    out[(blockIdx.x * )"
    << kRows << " + row) * " << kCols << R"( + col] = d[i];
  }
}
)";
  return s.str();
}

// D of each probe (block b: A's offset b is 1), on the GPU.
std::optional<std::vector<float>> run_probe(Device& gpu, const Layout& l, int probes) {
  Program p;
  p.name = p.entry = "wgmma_probe";
  p.src = probe_source(l);
  p.global_size = probes;
  p.local_size = 128;
  p.bufs = {{DType::kFloat32, static_cast<int64_t>(probes) * kRows * kCols}};
  std::vector<float> d(p.bufs[0].size);
  void* out = gpu.alloc(d.size() * sizeof(float));
  gpu.launch(*gpu.compile(p), {out});
  gpu.copy_out(d.data(), out, d.size() * sizeof(float));
  gpu.free(out);
  return d;
}

// So that the probe is known to compile before it meets a GPU (sm_90a: NVRTC with its ptxas).
TEST(WgmmaProbe, CompilesForSm90a) {
  if (!cuda::nvrtc_available()) GTEST_SKIP() << "no NVRTC here";
  cuda::Compiler nvrtc(90, "");
  EXPECT_NO_THROW(nvrtc.compile(probe_source({128, 256}), "wgmma_probe"));
}

TEST(WgmmaProbe, TheHardwareReadsWhereTheModelSays) {
  const std::string dev = cuda_or_emulator();
  if (dev != "CUDA") GTEST_SKIP() << "needs an NVIDIA GPU of compute capability 9.0 (the emulator follows the model itself)";
  testing_util::ScopedEnv wgmma("TT_WGMMA", "1");
  Device& gpu = get_device(dev);
  if (!gpu.codegen_options().wgmma) GTEST_SKIP() << "this GPU has no wgmma (compute capability 9.0 only)";
  for (const Layout& l : {Layout{128, 256}, Layout{8 * 128, 128}}) {
    SCOPED_TRACE("LBO " + std::to_string(l.lbo) + " bytes, SBO " + std::to_string(l.sbo));
    // The model's (row, K) of every float of A's array that it reads; -1: none.
    std::vector<std::pair<int, int>> at(kArray, {-1, -1});
    int largest = 0;
    for (int r = 0; r < kRows; ++r) {
      for (int k = 0; k < kK; ++k) {
        at[model_index(l, r, k)] = {r, k};
        largest = std::max(largest, model_index(l, r, k));
      }
    }
    const int probes = largest + 1 + 64;  // and a few past the last, which the model says nobody reads
    const std::optional<std::vector<float>> d = run_probe(gpu, l, probes);
    ASSERT_TRUE(d.has_value());
    int wrong = 0;
    for (int o = 0; o < probes && wrong < 8; ++o) {
      // What the hardware did with offset o: the rows of D it reached and their values.
      std::ostringstream seen, want;
      bool ok = true;
      for (int r = 0; r < kRows; ++r) {
        for (int c = 0; c < kCols; ++c) {
          const float got = (*d)[(static_cast<size_t>(o) * kRows + r) * kCols + c];
          const float model = at[o].first == r ? static_cast<float>(model_index(l, c, at[o].second) + 1) : 0.0f;
          if (got != model) ok = false;
          if (got != 0) seen << " (" << r << "," << c << ")=B[" << got - 1 << "]";
          if (model != 0) want << " (" << r << "," << c << ")=B[" << model - 1 << "]";
        }
      }
      if (ok) continue;
      ++wrong;
      ADD_FAILURE() << "A's float " << o << " (model: row " << at[o].first << ", K " << at[o].second << ")\n  the GPU's D:"
                    << (seen.str().empty() ? " nothing" : seen.str()) << "\n  the model's D:" << (want.str().empty() ? " nothing" : want.str());
    }
  }
}

}  // namespace
}  // namespace tinyref
