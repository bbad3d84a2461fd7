// conv_cuda: MNIST's conv2 (512 x 32 x 24 x 24 images, 32 x 32 x 5 x 5 weights, no padding), the
// bulk of the MNIST step on a GPU, by tinyref against cuDNN (PyTorch, cudnn.benchmark on) on the
// same GPU in the same run: the forward pass, and the backward one (both gradients). Twice: as
// PyTorch runs it by default (TF32 allowed for convolutions; tinyref with TT_TF32 unset, where the
// search keeps a tensor-core variant only where it is faster), and in float32 only (cuDNN with
// allow_tf32 off; tinyref with TT_TF32=0). Times in ms; ratio = ours / cuDNN's, lower is better.
//
//   bazel run --config=opt //bench:conv_cuda            # on the GPU machine: devbin/run_all.sh
//   pytorch {"workload": "conv", "forward_ms": ..., "backward_ms": ..., "tf32": true}
//   RESULT name=conv_cuda.forward_ms ours=... anchor=... ratio=...
//   RESULT name=conv_cuda.backward_ms ours=... anchor=... ratio=...
//   RESULT name=conv_cuda.forward_ms_fp32 ...   (and backward_ms_fp32)
//
// Timing as matmul_cuda's (bench/cuda_bench.h: seconds_per_call). tinyref's calls are replayed
// (engine/replay.h), as the MNIST trainer runs its step: its kernels, without the host work of an
// eager call (a new lazy graph each call, the gradient's too), which the text line also prints
// (about 0.15 ms a call on an H100 host, as much as the forward's kernel).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/bench_util.h"
#include "bench/cuda_bench.h"
#include "tinyref/engine/replay.h"
#include "tinyref/env.h"
#include "tinyref/error.h"
#include "tinyref/tensor.h"

namespace {

using tinyref::Replay;
using tinyref::StepResult;
using tinyref::Tensor;

// The largest error of the forward pass over a sample of outputs, each relative to
// sum |x w| over its 800 terms: within TF32's bound (bench::tf32_relative_bound) whether or not
// a tensor-core variant ran.
double worst_relative_error(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& y,
                            int64_t batch) {
  double worst = 0;
  const int64_t outputs = batch * 32 * 20 * 20;
  for (int64_t s = 0; s < 4096; ++s) {
    const int64_t o = s * 7919 % outputs;  // 7919 is prime: the sample spreads over every image
    const int64_t b = o / (32 * 400), co = o / 400 % 32, oy = o / 20 % 20, ox = o % 20;
    double want = 0, scale = 0;
    for (int64_t ci = 0; ci < 32; ++ci) {
      for (int64_t ky = 0; ky < 5; ++ky) {
        for (int64_t kx = 0; kx < 5; ++kx) {
          const double p = static_cast<double>(x[((b * 32 + ci) * 24 + oy + ky) * 24 + ox + kx]) * w[((co * 32 + ci) * 5 + ky) * 5 + kx];
          want += p;
          scale += std::abs(p);
        }
      }
    }
    worst = std::max(worst, std::abs(y[o] - want) / (scale + 1e-30));
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MNIST's conv2 forward and backward: tinyref's generated CUDA against cuDNN", "conv_cuda"};
  int64_t batch = 512;
  int reps = 10, samples = 9;
  bench::BenchFlags flags;
  app.add_option("--batch", batch, "images")->check(CLI::Range(int64_t{1}, int64_t{4096}))->capture_default_str();
  bench::add_timing_flags(app, reps, samples);
  bench::add_bench_flags(app, flags);
  return bench::run_cuda_bench(app, flags, argc, argv, [&] {
    const std::vector<float> xv = bench::uniform_values(batch * 32 * 24 * 24, 1), wv = bench::uniform_values(32 * 32 * 25, 2);
    const std::vector<float> gv = bench::uniform_values(batch * 32 * 20 * 20, 3);
    Tensor x = Tensor::from_vector(xv, {batch, 32, 24, 24}, flags.device).realize();
    Tensor w = Tensor::from_vector(wv, {32, 32, 5, 5}, flags.device).realize();
    Tensor dy = Tensor::from_vector(gv, {batch, 32, 20, 20}, flags.device).realize();
    const auto forward_step = [](const std::vector<Tensor>& in) { return StepResult{{in[0].conv2d(in[1])}, {}}; };
    const auto backward_step = [](const std::vector<Tensor>& in) {
      Tensor xg = in[0].detach().requires_grad_(), wg = in[1].detach().requires_grad_();
      (xg.conv2d(wg) * in[2]).sum().backward();
      return StepResult{{xg.grad(), wg.grad()}, {}};
    };
    const std::string args_batch = std::to_string(batch);
    const std::vector<std::string> timing = {"--batch", args_batch, "--reps", std::to_string(reps), "--samples", std::to_string(samples)};
    tinyref::ScopedEnv tf32_env("TT_TF32", nullptr);  // put back as the run was started at the end
    for (const bool tf32 : {true, false}) {
      std::vector<std::string> anchor_args = timing;
      if (!tf32) anchor_args.push_back("--no-tf32");
      const nlohmann::json torch = bench::run_torch_anchor(flags, "conv", anchor_args);
      // Unset, the default: the search may keep a tensor-core variant of a convolution.
      tf32_env.set(tf32 ? nullptr : "0");
      // Check first: a fast wrong answer is no result.
      const double bound = bench::tf32_relative_bound(32 * 5 * 5);
      const double err = worst_relative_error(xv, wv, x.conv2d(w).to_vector<float>(), batch);
      TT_CHECK(err < bound, "conv_cuda: tinyref's forward pass differs from float64 by " << err << " (relative; TF32 allows " << bound << ")");
      const auto ms = [&](const Replay::StepFn& step) {
        const auto eager_call = [&] {
          std::vector<Tensor> out = step({x, w, dy}).outputs;
          for (Tensor& t : out) t = t.realize();
          return out.back();
        };
        const double eager = 1e3 * bench::seconds_per_call(eager_call, reps, samples);
        Replay replay(step);  // a fresh one for each TT_TF32: the kernels are chosen as it captures
        return std::pair{1e3 * bench::seconds_per_call([&] { return replay.run({x, w, dy}).back(); }, reps, samples), eager};
      };
      const auto [forward_ms, forward_eager_ms] = ms(forward_step);
      const auto [backward_ms, backward_eager_ms] = ms(backward_step);
      const std::string suffix = tf32 ? "" : "_fp32";
      std::printf("tinyref %s (TT_TF32 %s): forward %.3f ms, backward %.3f ms (eager: %.3f, %.3f); cuDNN%s: %.3f, %.3f; "
                  "worst relative error %.2g\n", flags.device.c_str(), tf32 ? "unset" : "0", forward_ms, backward_ms,
                  forward_eager_ms, backward_eager_ms, tf32 ? " (TF32)" : "", torch.at("forward_ms").get<double>(),
                  torch.at("backward_ms").get<double>(), err);
      bench::print_result("conv_cuda.forward_ms" + suffix, forward_ms, torch.at("forward_ms").get<double>(), " batch=" + args_batch);
      bench::print_result("conv_cuda.backward_ms" + suffix, backward_ms, torch.at("backward_ms").get<double>(), " batch=" + args_batch);
    }
    return 0;
  });
}
