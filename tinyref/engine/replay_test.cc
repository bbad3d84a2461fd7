// Replay against eager training: a small MLP trained N steps both ways must end with the same
// parameters, bit for bit (a replay launches the same compiled kernels, in the same order, on
// the same values), launching the same number of kernels per step; and every step the replay
// cannot reproduce is refused with a tinyref::Error.
#include "tinyref/engine/replay.h"

#include <chrono>
#include <cstdio>
#include <functional>
#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/registry.h"
#include "tinyref/error.h"
#include "tinyref/nn/optim.h"

namespace tinyref {
namespace {

constexpr int64_t kIn = 5, kHidden = 16, kClasses = 3;

struct Mlp {
  explicit Mlp(const std::string& dev) {
    Tensor::manual_seed(7);
    w1 = Tensor::randn({kIn, kHidden}, DType::kFloat32, dev).requires_grad_();
    b1 = Tensor::randn({kHidden}, DType::kFloat32, dev).requires_grad_();
    w2 = Tensor::randn({kHidden, kClasses}, DType::kFloat32, dev).requires_grad_();
    b2 = Tensor::randn({kClasses}, DType::kFloat32, dev).requires_grad_();
  }
  Tensor operator()(const Tensor& x) const { return (x.matmul(w1) + b1).relu().matmul(w2) + b2; }
  nn::NamedTensors params() const { return {{"w1", w1}, {"b1", b1}, {"w2", w2}, {"b2", b2}}; }
  Tensor w1, b1, w2, b2;
};

// Batch `step` of a fixed random stream: the same in the eager and the replayed run.
std::vector<Tensor> batch(const std::string& dev, int step, int64_t n = 8) {
  std::mt19937 rng(static_cast<unsigned>(step));
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(n * kIn));
  for (float& v : x) v = normal(rng);
  std::vector<int32_t> y(static_cast<size_t>(n));
  for (int32_t& v : y) v = static_cast<int32_t>(rng() % kClasses);
  return {Tensor::from_vector(x, {n, kIn}, dev), Tensor::from_vector(y, {n}, dev)};
}

using MakeOpt = std::function<std::unique_ptr<nn::Optimizer>(const nn::NamedTensors&)>;

StepResult mlp_step(const Mlp& m, nn::Optimizer& opt, const std::vector<Tensor>& in) {
  opt.zero_grad();
  Tensor loss = m(in[0]).cross_entropy(in[1]);
  loss.backward();
  return {{loss}, opt.schedule_step()};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class ReplayTest : public ::testing::TestWithParam<const char*> {
 protected:
  // The device under test: CUDA runs on the CUDA emulator (CUDA_EMU) where there is no GPU.
  static std::string device() {
    const std::string dev = GetParam();
    return dev == "CUDA" ? cuda_or_emulator() : dev;
  }
  void SetUp() override {
    if (device() == "CUDA_EMU") testing_util::running_emulated("CUDA_EMU", "no GPU here: CUDA replays on the CUDA emulator (CUDA_EMU)");
  }

  // Trains kSteps eagerly and with a replay; compares losses and parameters bit for bit.
  void expect_same_training(const MakeOpt& make_opt, const std::string& what) {
    const std::string dev = device();
    constexpr int kSteps = 9;
    Mlp eager(dev), replayed(dev);
    auto eager_opt = make_opt(eager.params()), replay_opt = make_opt(replayed.params());
    std::vector<float> eager_losses, replay_losses;
    int64_t eager_kernels = 0;
    double eager_seconds = 0;
    for (int s = 0; s < kSteps; ++s) {
      std::vector<Tensor> in = batch(dev, s);
      const int64_t k0 = stats().kernels_launched;
      const auto t0 = std::chrono::steady_clock::now();
      eager_opt->zero_grad();
      Tensor loss = eager(in[0]).cross_entropy(in[1]);
      loss.backward();
      eager_opt->step({loss});
      if (s == kSteps - 1) {  // a warm step: compiled, cached
        eager_seconds = seconds_since(t0);
        eager_kernels = stats().kernels_launched - k0;
      }
      eager_losses.push_back(loss.item<float>());
    }
    Replay replay([&](const std::vector<Tensor>& in) { return mlp_step(replayed, *replay_opt, in); });
    double replay_seconds = 0;
    for (int s = 0; s < kSteps; ++s) {
      std::vector<Tensor> in = batch(dev, s);
      const int64_t k0 = stats().kernels_launched;
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<Tensor> out = replay.run(in);
      if (s == kSteps - 1) {
        replay_seconds = seconds_since(t0);
        EXPECT_EQ(stats().kernels_launched - k0, eager_kernels) << "kernels in a replayed step";
      }
      replay_losses.push_back(out.at(0).item<float>());
    }
    EXPECT_TRUE(replay.replaying());
    EXPECT_EQ(static_cast<int64_t>(replay.kernels_per_step()), eager_kernels);
    // CUDA runs every replayed step (calls 4 on) as one graph; the others have none.
    EXPECT_EQ(replay.graph_launches(), dev == "CUDA" ? kSteps - 3 : 0);
    EXPECT_EQ(replay_losses, eager_losses);
    const nn::NamedTensors pe = eager.params(), pr = replayed.params();
    for (size_t i = 0; i < pe.size(); ++i) {
      EXPECT_EQ(pr[i].second.to_vector<float>(), pe[i].second.to_vector<float>()) << pe[i].first;
    }
    std::printf("%s on %s: %lld kernels a step; host+device time of a step: eager %.3f ms, replayed %.3f ms\n",
                what.c_str(), dev.c_str(), static_cast<long long>(eager_kernels), eager_seconds * 1e3,
                replay_seconds * 1e3);
  }
};

TEST_P(ReplayTest, SgdMatchesEagerBitForBit) {
  expect_same_training([](const nn::NamedTensors& p) { return std::make_unique<nn::SGD>(p, 0.1); }, "SGD");
}

TEST_P(ReplayTest, SgdMomentumMatchesEagerBitForBit) {
  // Momentum buffers appear only at the first step: the state list is the step's, not fixed.
  expect_same_training([](const nn::NamedTensors& p) { return std::make_unique<nn::SGD>(p, 0.05, 0.9, 0.01, true); },
                       "SGD nesterov");
}

TEST_P(ReplayTest, AdamMatchesEagerBitForBit) {
  expect_same_training([](const nn::NamedTensors& p) { return std::make_unique<nn::Adam>(p, 0.01); }, "Adam");
}

TEST_P(ReplayTest, StateAssignedOutsideIsCopiedIn) {
  const std::string dev = device();
  Mlp eager(dev), replayed(dev);
  nn::SGD eager_opt(eager.params(), 0.1), replay_opt(replayed.params(), 0.1);
  Replay replay([&](const std::vector<Tensor>& in) { return mlp_step(replayed, replay_opt, in); });
  for (int s = 0; s < 7; ++s) {
    std::vector<Tensor> in = batch(dev, s);
    if (s == 5) {  // a checkpoint load, say
      eager.w2.assign(Tensor::full({kHidden, kClasses}, 0.25, DType::kFloat32, dev).contiguous().realize());
      replayed.w2.assign(Tensor::full({kHidden, kClasses}, 0.25, DType::kFloat32, dev).contiguous().realize());
    }
    eager_opt.zero_grad();
    Tensor loss = eager(in[0]).cross_entropy(in[1]);
    loss.backward();
    eager_opt.step({loss});
    EXPECT_EQ(replay.run(in).at(0).item<float>(), loss.item<float>()) << "step " << s;
  }
  EXPECT_EQ(replayed.w2.to_vector<float>(), eager.w2.to_vector<float>());
  EXPECT_EQ(replayed.w1.to_vector<float>(), eager.w1.to_vector<float>());
}

// Runs `calls` steps of `step` through a replay, expecting an Error mentioning `message` at
// the call `fails_at` (1-based), and the same error on the call after.
void expect_refused(const Replay::StepFn& step, const std::function<std::vector<Tensor>(int)>& inputs,
                    int fails_at, const std::string& message) {
  Replay replay(step);
  for (int call = 1; call < fails_at; ++call) replay.run(inputs(call));
  try {
    replay.run(inputs(fails_at));
    ADD_FAILURE() << "no error at call " << fails_at;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
  EXPECT_THROW(replay.run(inputs(fails_at + 1)), Error);
}

TEST_P(ReplayTest, RefusesHostTensorsMadeInsideTheStep) {
  const std::string dev = device();
  Mlp m(dev);
  nn::SGD opt(m.params(), 0.1);
  auto dropout_step = [&](const std::vector<Tensor>& in) {
    opt.zero_grad();
    Tensor keep = Tensor::rand(in[0].shape(), DType::kFloat32, dev).ge(Tensor::scalar(0.5, DType::kFloat32, dev));
    Tensor loss = m(keep.where(in[0], Tensor::scalar(0, DType::kFloat32, dev))).cross_entropy(in[1]);
    loss.backward();
    return StepResult{{loss}, opt.schedule_step()};
  };
  expect_refused(dropout_step, [&](int s) { return batch(dev, s); }, 3, "made on the host inside the step");
}

TEST_P(ReplayTest, RefusesStateTheStepDoesNotReturn) {
  const std::string dev = device();
  Mlp m(dev);
  nn::SGD opt(m.params(), 0.1);
  auto step = [&](const std::vector<Tensor>& in) {
    StepResult r = mlp_step(m, opt, in);
    r.state.pop_back();  // the last parameter: updated, then read by the next step, undeclared
    return r;
  };
  expect_refused(step, [&](int s) { return batch(dev, s); }, 3, "does not return");
}

TEST_P(ReplayTest, RefusesStepsThatDiffer) {
  const std::string dev = device();
  Mlp m(dev);
  nn::SGD opt(m.params(), 0.1);
  int calls = 0;
  auto branching = [&](const std::vector<Tensor>& in) {
    StepResult r = mlp_step(m, opt, in);
    if (++calls == 3) r.outputs[0] = (r.outputs[0] * 2.0).contiguous();  // a host-side branch
    return r;
  };
  expect_refused(branching, [&](int s) { return batch(dev, s); }, 3, "recorded steps");
}

TEST_P(ReplayTest, RefusesShapeChanges) {
  const std::string dev = device();
  Mlp m(dev);
  nn::SGD opt(m.params(), 0.1);
  auto step = [&](const std::vector<Tensor>& in) { return mlp_step(m, opt, in); };
  // While recording: the second recording's kernels are other kernels.
  expect_refused(step, [&](int s) { return batch(dev, s, s == 3 ? 4 : 8); }, 3, "recorded steps");
  // While replaying: the input no longer fits the recording.
  Replay replay(step);
  for (int s = 1; s <= 4; ++s) replay.run(batch(dev, s));
  try {
    replay.run(batch(dev, 5, 4));
    ADD_FAILURE() << "no error for a batch of 4";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("recorded with"), std::string::npos) << e.what();
  }
  EXPECT_THROW(replay.run({batch(dev, 5)[0]}), Error);  // one input of two
  replay.run(batch(dev, 6));                            // a fitting batch still replays
}

TEST_P(ReplayTest, RefusesDeviceCopiesInsideTheStep) {
  const std::string dev = device();
  const std::string other = dev == std::string("CPU") ? "INTERP" : "CPU";
  Mlp m(dev);
  nn::SGD opt(m.params(), 0.1);
  auto step = [&](const std::vector<Tensor>& in) { return mlp_step(m, opt, {in[0].to(dev), in[1].to(dev)}); };
  expect_refused(step, [&](int s) { return batch(other, s); }, 3, "between devices");
}

INSTANTIATE_TEST_SUITE_P(Backends, ReplayTest, ::testing::Values("INTERP", "CPU", "CUDA"));

}  // namespace
}  // namespace tinyref
