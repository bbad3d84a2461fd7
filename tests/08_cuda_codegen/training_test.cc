// Task 7: a training step on the GPU. A small CNN (convolution, ReLU, BatchNorm, max-pool, a
// linear layer, cross-entropy, SGD: every kind of kernel beautiful_mnist has, small enough for
// the emulator) trained for a few steps on the CudaRunner must follow the same path as on the
// CPU (chapter 5's InterpretedRunner, from the same seed on the same batch): the same losses,
// the same weights after, to float32's rounding. The milestone (beautiful_mnist to 98%, with
// Adam) needs a real GPU: milestone_native_test.cc.
//
// The optimizer here is SGD with momentum, not Adam. Adam divides each gradient by its own
// running size, so a gradient that is rounding noise (the convolution's bias: the BatchNorm after
// it subtracts the mean, so the true gradient is 0 and the computed one is a few ulps of sums)
// becomes a full step of +-lr whose sign is the noise's. A GPU rounds differently from the CPU
// (fused multiply-adds, its own expf and logf, another summation order), so Adam's weights part
// by up to lr per step with every kernel right; SGD moves each weight by lr times its gradient,
// so a rounding difference in a gradient stays one in the weight.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ch04/nn.h"
#include "ch04/realize.h"
#include "ch04/tensor.h"
#include "ch05/runner.h"
#include "ch08/cuda_runner.h"
#include "gtest/gtest.h"
#include "tests/08_cuda_codegen/gpu_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch04::Tensor;

// The GPU's runner, with each kernel also run by chapter 5's interpreter on the same input
// buffers: what each kernel alone adds to the difference from the CPU, whatever the kernels
// before it did. The GPU's outputs are kept, so training follows the GPU's path. On a failure,
// the test lists the kernels that differed most: a wrong kernel stands out by orders of
// magnitude over rounding.
class CheckedRunner : public ch05::KernelRunner {
 public:
  explicit CheckedRunner(std::shared_ptr<ch05::KernelRunner> gpu) : gpu_(std::move(gpu)) {}
  std::string name() const override { return gpu_->name() + " checked by InterpretedRunner"; }

  void run(const ch05::Kernel& kernel, const std::vector<ch04::Buffer*>& bufs) override {
    gpu_->run(kernel, bufs);
    ch04::Buffer cpu_out(bufs[0]->dtype, bufs[0]->numel);
    std::vector<ch04::Buffer*> cpu_bufs = bufs;
    cpu_bufs[0] = &cpu_out;
    cpu_.run(kernel, cpu_bufs);
    Difference d{kernel.name(), ++launches_};
    for (int64_t i = 0; i < cpu_out.numel; ++i) {
      const double want = cpu_out.get(i), got = bufs[0]->get(i);
      d.largest = std::max(d.largest, std::abs(want));
      d.worst = std::max(d.worst, std::isnan(got) != std::isnan(want) ? INFINITY : std::abs(got - want));
    }
    differences_.push_back(d);
  }

  // The `n` launches whose largest difference is the biggest share of their largest output.
  std::string worst(size_t n) const {
    std::vector<Difference> sorted = differences_;
    std::sort(sorted.begin(), sorted.end(), [](const Difference& a, const Difference& b) { return a.share() > b.share(); });
    std::ostringstream out;
    out << "the kernels whose GPU output differs most from the interpreter's on the same inputs:\n";
    for (size_t i = 0; i < std::min(n, sorted.size()); ++i) {
      char line[200];
      std::snprintf(line, sizeof line, "  launch %3d %-24s largest |difference| %.3g, largest |output| %.3g (share %.3g)\n",
                    sorted[i].launch, sorted[i].kernel.c_str(), sorted[i].worst, sorted[i].largest, sorted[i].share());
      out << line;
    }
    return out.str();
  }

 private:
  struct Difference {
    std::string kernel;
    int launch = 0;
    double worst = 0, largest = 0;
    double share() const { return worst / std::max(largest, 1e-30); }
  };
  std::shared_ptr<ch05::KernelRunner> gpu_;
  ch05::InterpretedRunner cpu_;
  std::vector<Difference> differences_;
  int launches_ = 0;
};

struct Trained {
  std::vector<double> losses;
  std::vector<std::vector<double>> first_gradients;  // of the parameters, in the first step
  std::vector<std::vector<double>> weights;
};

// conv 1->4 3x3, ReLU, BatchNorm, max-pool 2, linear 36->10 on 8x8 images, batch 16, SGD with
// momentum.
Trained train(std::shared_ptr<ch05::KernelRunner> runner, uint64_t seed, int steps) {
  ch04::ScopedEngine engine(std::make_shared<ch05::FusedEngine>(runner));
  Tensor::manual_seed(seed);
  ch04::nn::Conv2d conv(1, 4, 3);
  ch04::nn::BatchNorm2d bn(4);
  ch04::nn::Linear fc(36, 10);
  ch04::nn::SGD sgd(ch04::nn::concat({conv.parameters(), bn.parameters(), fc.parameters()}), 0.1, 0.9);
  // One batch, every step: random labels on new batches each step give no reason for the loss
  // to fall, so only on one batch does "the loss falls" hold for every seed.
  std::mt19937_64 rng(seed);
  const Tensor images = Tensor::from_vector(twin::quarters(rng, 16 * 64), {16, 1, 8, 8});
  std::vector<double> labels(16);
  for (double& l : labels) l = static_cast<double>(rng() % 10);
  Trained out;
  for (int s = 0; s < steps; ++s) {
    sgd.zero_grad();
    Tensor loss = fc(bn(conv(images).relu()).max_pool2d(2).flatten(1)).cross_entropy(Tensor::from_vector(labels, {16}));
    loss.backward();
    std::vector<Tensor> also = bn.buffers();
    also.push_back(loss);
    sgd.step(also);
    out.losses.push_back(loss.item());
    if (s == 0) {
      for (const Tensor& p : ch04::nn::concat({conv.parameters(), bn.parameters(), fc.parameters()})) {
        out.first_gradients.push_back(p.grad().to_vector());
      }
    }
  }
  for (const Tensor& p : ch04::nn::concat({conv.parameters(), bn.parameters(), bn.buffers(), fc.parameters()})) {
    out.weights.push_back(p.to_vector());
  }
  return out;
}

TEST(Task7Training, ASmallCnnLearnsAsOnTheCpu) {
  const uint64_t seed = testing_util::seeds().front();
  SCOPED_TRACE(testing_util::seed_note(seed));
  const Trained cpu = train(std::make_shared<ch05::InterpretedRunner>(), seed, 3);
  auto checked = std::make_shared<CheckedRunner>(std::make_shared<ch08::CudaRunner>(gpu_testing::gpu()));
  const Trained gpu = train(checked, seed, 3);
  SCOPED_TRACE(checked->worst(8));
  // Summation orders differ (a group reduce adds in a tree): float32 rounding, a few ulps per
  // step, compounded over 3 steps.
  for (size_t i = 0; i < cpu.first_gradients.size(); ++i) {
    EXPECT_TRUE(testing_util::all_close(cpu.first_gradients[i], gpu.first_gradients[i], 1e-3, 1e-5,
                                        "the first step's gradient of parameter " + std::to_string(i)));
  }
  EXPECT_TRUE(testing_util::all_close(cpu.losses, gpu.losses, 1e-4, 1e-5, "the losses of 3 steps"));
  ASSERT_EQ(cpu.weights.size(), gpu.weights.size());
  for (size_t i = 0; i < cpu.weights.size(); ++i) {
    EXPECT_TRUE(testing_util::all_close(cpu.weights[i], gpu.weights[i], 1e-3, 1e-4, "parameter " + std::to_string(i)));
  }
  EXPECT_LT(gpu.losses.back(), gpu.losses.front()) << "3 steps of SGD lower the loss";
}

}  // namespace
