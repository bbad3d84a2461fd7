// GPU code generation, run: every optimizer path and every search variant on CUDA against the
// CPU, and a training step: on a GPU natively, elsewhere on the CUDA emulator (CUDA_EMU,
// announced as [ EMULATED ]), which also checks every access of the generated kernels.
// gpu_lowering_test.cc checks the lowering itself, without running anything.
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/cuda/cuda_device.h"
#include "tinyref/backends/cudaemu/emulated_cuda.h"
#include "tinyref/backends/registry.h"
#include "tinyref/engine/realize.h"
#include "tinyref/engine/search.h"
#include "tinyref/error.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

// The device the GPU tests run on: CUDA, or CUDA_EMU where there is no GPU (said once a test).
std::string gpu() {
  const std::string dev = cuda_or_emulator();
  if (dev == "CUDA_EMU") testing_util::running_emulated(dev, "no GPU here: this test runs on the CUDA emulator (CUDA_EMU)");
  return dev;
}

// Runs f on the GPU and on the CPU with the same inputs and compares.
void expect_same(const std::string& what, const std::function<Tensor(const std::string&)>& f, double rtol,
                 double atol = -1) {
  std::vector<double> want = f("CPU").to_doubles(), got = f(cuda_or_emulator()).to_doubles();
  EXPECT_TRUE(testing_util::all_close(want, got, rtol, atol < 0 ? rtol : atol, what));
}

TEST(Cuda, EveryOptimizerPathMatchesTheCpu) {
  gpu();
  // Float32 throughout: on a GPU the search may otherwise pick a convolution's tensor-core
  // variant (Tf32::kConvolutions, the default), which rounds its inputs to TF32, past these
  // tolerances (tensor_core_test holds those variants to TF32's bound).
  testing_util::ScopedEnv float32("TT_TF32", "0");
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    auto r = [seed](Shape s, const std::string& dev, uint64_t salt) {
      Tensor::manual_seed(seed * 1000 + salt);
      return Tensor::randn(s, DType::kFloat32, "CPU").to(dev);
    };
    // float32 sums of up to 2^20 terms in another order: 1e-4 relative is a few ulp per term.
    expect_same("elementwise 1M", [&](auto d) { return (r({1 << 20}, d, 1) * 3.0 + 1.0).relu(); }, 1e-6);
    expect_same("odd elementwise", [&](auto d) { return r({7, 13, 3}, d, 2).exp(); }, 1e-6);
    expect_same("full sum 1M (group)", [&](auto d) { return r({1 << 20}, d, 3).sum(); }, 1e-4);
    expect_same("row sums (group)", [&](auto d) { return r({48, 4096}, d, 4).sum({1}); }, 1e-4);
    expect_same("column max", [&](auto d) { return r({4096, 48}, d, 5).max({0}); }, 0);
    expect_same("matmul 256x128x512 (2d tile)", [&](auto d) { return r({256, 128}, d, 6).matmul(r({128, 512}, d, 7)); }, 1e-4);
    expect_same("matmul 100x37x53 (spread)", [&](auto d) { return r({100, 37}, d, 8).matmul(r({37, 53}, d, 9)); }, 1e-4);
    expect_same("conv2d", [&](auto d) { return r({16, 8, 14, 14}, d, 10).conv2d(r({16, 8, 3, 3}, d, 11), Tensor(), 1, 1); }, 1e-4);
    expect_same("conv2d weight gradient (group over pixels)", [&](auto d) {
      Tensor w = r({16, 8, 5, 5}, d, 13).requires_grad_();
      (r({64, 8, 20, 20}, d, 14).conv2d(w, Tensor(), 1, 0) * r({64, 16, 16, 16}, d, 15)).sum().backward();
      return w.grad();
    }, 1e-4, 2e-3);  // 16384 products of two N(0,1) each: float32 reordering errors scale with
                     // eps * sum|terms| (1.2e-7 * 1e4), not with the (cancelled) result
    expect_same("softmax", [&](auto d) { return r({300, 10}, d, 12).log_softmax(1); }, 1e-5);
    expect_same("batch statistics (split in chunks of the batch)", [&](auto d) {
      Tensor x = r({512, 32, 20, 20}, d, 16).realize();
      EXPECT_EQ(count_kernels({x.sum({0, 2, 3})}), d == "CPU" ? 1 : 2) << d << ": 32 sums of 204800";
      return x.sum({0, 2, 3});
    }, 1e-4, 2e-2);  // 204800 N(0,1) terms a sum: the float32 bound eps * sum|terms| is 1.2e-7 * 1.6e5
  }
}

// The search keeps whichever variant is fastest, so every variant must compute the same thing:
// each one of the last kernel of f's graph, run on CUDA, against the CPU. Returns how many
// variants there were, how many of them were staged and how many of those prefetched. Float32
// variants only: the tensor-core ones a convolution's search also times (Tf32::kConvolutions, the
// default) round to TF32 and are tensor_core_test's, against float64 within TF32's bound. The
// cp.async ones too (TT_ASYNC=1, the default, set here all the same; the counts assume a GPU of
// compute capability 8.0 or more, as the emulator is).
struct VariantCounts {
  size_t variants = 0, staged = 0, prefetched = 0, async = 0;
};
VariantCounts expect_every_variant_matches(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                                       const std::vector<Shape>& input_shapes, double rtol,
                                                       double atol) {
  Tensor::manual_seed(5);
  std::vector<Tensor> cpu, gpu_inputs;
  for (const Shape& s : input_shapes) {
    cpu.push_back(Tensor::randn(s, DType::kFloat32, "CPU").realize());
    gpu_inputs.push_back(cpu.back().to(cuda_or_emulator()));
  }
  const std::vector<double> want = f(cpu).to_doubles();
  Tensor out = f(gpu_inputs);
  std::vector<ScheduleItem> items = create_schedule({out.lazy()});
  const ScheduleItem item = items.back();
  items.pop_back();
  run_schedule(items);  // the inputs
  Device& gpu = get_device(cuda_or_emulator());
  testing_util::ScopedEnv async("TT_ASYNC", "1");
  CodegenOptions float32 = gpu.codegen_options();
  float32.tf32 = Tf32::kOff;
  const std::vector<Program> variants = lower_variants(item, float32);
  VariantCounts counts{variants.size()};
  for (size_t v = 0; v < variants.size(); ++v) {
    const Program& p = variants[v];
    counts.staged += p.opts.find("stage") != std::string::npos;
    counts.prefetched += p.opts.find("prefetch") != std::string::npos;
    counts.async += p.opts.find("async") != std::string::npos;
    Buffer result(gpu, DType::kFloat32, want.size());
    std::vector<void*> ptrs = {result.ptr()};
    for (size_t i = 1; i < item.bufs.size(); ++i) ptrs.push_back(item.bufs[i]->realized_buffer()->ptr());
    gpu.launch(*gpu.compile(p), ptrs);
    std::vector<float> host(want.size());
    result.copy_out(host.data());
    EXPECT_TRUE(testing_util::all_close(want, std::vector<double>(host.begin(), host.end()), rtol, atol,
                                        "variant " + std::to_string(v) + " (" + p.opts + ")"));
  }
  return counts;
}

TEST(Cuda, EveryMatmulVariantMatchesTheCpu) {
  gpu();
  // 128 products of N(0,1) pairs summed in another order: 1e-4 is a few float32 ulp per term.
  const VariantCounts n = expect_every_variant_matches(
      [](const std::vector<Tensor>& in) { return (in[0].matmul(in[1]) + 1.0).relu(); }, {{256, 128}, {128, 512}}, 1e-4, 1e-4);
  EXPECT_EQ(n.variants, 20u + 11u + 36u) << "matmul's 2D tiles, float4, staged and paired ones included, the prefetched and the async";
  EXPECT_EQ(n.staged, 12u + 11u + 36u);
  EXPECT_EQ(n.prefetched, 11u) << "all staged tiles but the 8x8 paired one of K-tile 32 (64 values a thread)";
  EXPECT_EQ(n.async, 3u * 12u) << "every staged tile in rings of 2, 3 and 4 (17 of them past 48 KB: dynamic shared memory)";
}

TEST(Cuda, EveryConvVariantMatchesTheCpu) {
  gpu();
  // 72 products a sum (8 channels x 3x3), as above.
  const VariantCounts tiles = expect_every_variant_matches(
      [](const std::vector<Tensor>& in) { return in[0].conv2d(in[1]); }, {{2, 8, 66, 66}, {16, 8, 3, 3}}, 1e-4, 1e-4);
  EXPECT_GE(tiles.variants, 7u) << "the tiles that fit a 64x64 image";
  EXPECT_GE(tiles.staged, 2u) << "a conv-shaped kernel staged";
  // A small padded image (MNIST's): no 2D tile fits, so one thread per few outputs (spread), 4 or
  // 8 of them along each reused dimension, and staged choices where inputs are shared.
  const VariantCounts spread = expect_every_variant_matches(
      [](const std::vector<Tensor>& in) { return in[0].conv2d(in[1], Tensor(), 1, 2); }, {{32, 16, 12, 12}, {32, 16, 5, 5}},
      1e-4, 1e-4);
  EXPECT_EQ(spread.variants, 14u + 4u + 12u);
  EXPECT_EQ(spread.staged, 4u + 4u + 12u);
  EXPECT_EQ(spread.prefetched, 4u);
  EXPECT_EQ(spread.async, 3u * 4u) << "each staged one in rings of 2, 3 and 4";
}

TEST(Cuda, EveryGroupReduceVariantMatchesTheCpu) {
  gpu();
  // A weight gradient's shape: few outputs, a long reduction split over each block's threads,
  // 4x4 or 8x8 outputs a thread. 8192 products of N(0,1) pairs: float32 reordering errors scale
  // with eps * sum|terms| (1.2e-7 * 6e3), not with the (cancelled) result.
  const VariantCounts n = expect_every_variant_matches(
      [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]); }, {{64, 8192}, {8192, 64}}, 1e-4, 2e-3);
  EXPECT_EQ(n.variants, 7u + 18u + 12u) << "the group reduces (1024 threads x 16 partials do not fit), then the spreads";
  EXPECT_EQ(n.staged, 4u + 4u + 12u);
  EXPECT_EQ(n.prefetched, 4u);
  EXPECT_EQ(n.async, 3u * 4u) << "each staged one in rings of 2, 3 and 4";
}

// A small MLP step: `dev` against the CPU, and how many buffers are alive after each step.
std::vector<int64_t> train_alongside_cpu(const std::string& dev, int steps) {
  auto step = [](const std::string& d, std::vector<Tensor>& params) {
    Tensor::manual_seed(7);
    Tensor x = Tensor::randn({64, 784}, DType::kFloat32, "CPU").to(d);
    Tensor y = Tensor::randint({64}, 0, 10, "CPU").to(d);
    Tensor loss = x.matmul(params[0]).relu().matmul(params[1]).cross_entropy(y);
    loss.backward();
    std::vector<double> out = {loss.item()};
    for (Tensor& p : params) {
      for (double g : p.grad().to_doubles()) out.push_back(g);
      Tensor next = (p - 0.1 * p.grad()).detach().realize();
      p = next.requires_grad_();
    }
    return out;
  };
  auto init = [](const std::string& d) {
    Tensor::manual_seed(3);
    std::vector<Tensor> ps = {Tensor::randn({784, 128}, DType::kFloat32, "CPU") * 0.05,
                              Tensor::randn({128, 10}, DType::kFloat32, "CPU") * 0.05};
    for (Tensor& p : ps) p = p.to(d).realize().requires_grad_();
    return ps;
  };
  std::vector<Tensor> cpu = init("CPU"), other = init(dev);
  std::vector<int64_t> alive;
  for (int i = 0; i < steps; ++i) {
    std::vector<double> want = step("CPU", cpu), got = step(dev, other);
    EXPECT_TRUE(testing_util::all_close(want, got, 1e-4, 1e-5, dev + " step " + std::to_string(i)));
    alive.push_back(stats().buffers_alive);
  }
  return alive;
}

TEST(Training, BuffersAliveStayFlatFromStepToStep) {
  // On the CPU (every machine): a leak in the engine shows here before it shows on a GPU.
  std::vector<int64_t> alive = train_alongside_cpu("CPU", 5);
  EXPECT_EQ(alive[4], alive[1]) << "buffers alive after each step: " << ::testing::PrintToString(alive);
}

// On the GPU: same loss and gradients as on the CPU; once the first steps have filled CUDA's
// caching allocator, no step makes a device allocation (the emulator has no such allocator).
TEST(Cuda, TrainingStepMatchesTheCpuAndAllocationsStopGrowing) {
  const std::string dev = gpu();
  if (dev != "CUDA") {
    std::vector<int64_t> alive = train_alongside_cpu(dev, 4);
    EXPECT_EQ(alive[3], alive[1]) << "buffers alive after each step: " << ::testing::PrintToString(alive);
    return;
  }
  auto& ctx = dynamic_cast<cuda::CudaDevice&>(get_device("CUDA")).context();
  const int64_t before = ctx.allocator_stats().device_allocs;
  train_alongside_cpu("CUDA", 2);
  const int64_t warm = ctx.allocator_stats().device_allocs;
  std::vector<int64_t> alive = train_alongside_cpu("CUDA", 6);
  EXPECT_GT(warm, before);
  EXPECT_EQ(alive[5], alive[1]) << "buffers alive after each step: " << ::testing::PrintToString(alive);
  EXPECT_LE(ctx.allocator_stats().device_allocs - warm, 2) << "a second run of the same steps reuses the cache";
}

TEST(Cuda, ACompileErrorIsATinyrefErrorAndTheDeviceKeepsWorking) {
  const std::string dev = gpu();
  const std::string source = "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }";
  try {
    if (dev == "CUDA") {
      cuda::CudaSource bad;
      bad.source = source;
      bad.kernel_name = "broken";
      dynamic_cast<cuda::CudaDevice&>(get_device("CUDA")).compile_source(bad);
    } else {
      compile_emulated_source(get_device(dev), source, "broken", 1, 1);
    }
    ADD_FAILURE() << "expected a compile error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("undefined_name"), std::string::npos) << e.what();
  }
  EXPECT_EQ(Tensor::full({4}, 2.0, DType::kFloat32, dev).sum().item(), 8.0);
}

}  // namespace
}  // namespace tinyref
