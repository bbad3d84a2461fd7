// What the two beautiful_mnist CUDA benchmarks (mnist_cuda: tinyref; ch08_mnist_cuda: chapter
// 8's solution) share: the workload's options, the data, and the two baselines they are measured
// against, PyTorch eager's step and tinyref's, each timed the same way (the median step after
// `warmup` steps, each step ending on the loss read back to the host).
//
//   MnistWorkload w;  bench::BenchFlags flags;
//   w.add_options(app);  bench::add_bench_flags(app, flags);
//   return bench::run_cuda_bench(app, flags, argc, argv, [&] {
//     const bench::MnistBaselines b = bench::run_mnist_baselines(w, flags, "mnist_cuda");
//     // printed: pytorch {...} and tinyref {"workload": "cnn", "step_ms_median": 3.1, ...}
//     b.torch_ms, b.tinyref_ms, b.tinyref.test_accuracy, b.train (for a third contender)
//   });
#ifndef BENCH_MNIST_WORKLOAD_H_
#define BENCH_MNIST_WORKLOAD_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/cuda_bench.h"
#include "datasets/mnist.h"
#include "tools/mnist/train.h"

namespace bench {

struct MnistWorkload {
  static constexpr int kSteps = 70;  // the accuracy bars hold for the full workload only
  std::string data;                  // the IDX folder; "" for $TT_MNIST_DIR, else datasets/mnist
  int steps = kSteps, warmup = 3;
  void add_options(CLI::App& app);
};

struct MnistBaselines {
  datasets::Mnist train, test;
  double torch_ms = 0, torch_accuracy = 0;
  mnist_tool::TrainResult tinyref;
  double tinyref_ms = 0;
};

// Checks the options, loads the data (a missing or damaged file fails here with the loader's
// message, not as a Python traceback), runs PyTorch's workload, then tinyref's on flags.device.
MnistBaselines run_mnist_baselines(const MnistWorkload& w, const BenchFlags& flags, const std::string& bench_name);

// The median of step_seconds after the first `warmup`, in milliseconds.
double median_step_ms(const std::vector<double>& step_seconds, int warmup);

}  // namespace bench

#endif  // BENCH_MNIST_WORKLOAD_H_
