// Replay: a training step captured once and then re-run as a list of recorded kernel launches,
// skipping what makes an eager step cost host time (building the lazy graph and its
// gradient, scheduling, AST keys, compile-cache lookups, allocations). tinygrad's TinyJit.
//
//   Replay replay([&](const std::vector<Tensor>& in) {
//     opt.zero_grad();
//     Tensor loss = model(in[0]).cross_entropy(in[1]);
//     loss.backward();
//     return StepResult{{loss}, opt.schedule_step()};  // outputs, and every tensor it assigns
//   });
//   for (...) float l = replay.run({x, y})[0].item<float>();
//
// Calls 1 to 3 run the step function eagerly (call 1 compiles the kernels); calls 2 and 3 are
// recorded. Because Tensor::assign is functional, each step reads the state's buffers and
// writes new ones; the replay keeps the two recordings and alternates them (ping-pong): one
// reads state set C and writes set Q, the other reads Q and writes C. No state is copied, and
// each replayed step launches exactly the kernels an eager step launches. After each run() the
// state tensors point at the new buffers, so the model and the optimizer read as after an
// eager step. Inputs are swapped in by pointer: each call's input tensors are read in place.
//
// What it refuses (tinyref::Error), because a replay would silently compute something else:
// steps whose kernels differ between the two recordings (a host-side branch, a shape change),
// device copies inside the step, a kernel argument that changes from step to step but is
// neither a state tensor nor an input (a tensor made on the host inside the step, such as
// Tensor::rand or from_vector, or a state tensor the step function does not return), inputs
// whose shape, dtype or device differ from the recording. A refused step has run eagerly;
// every later run() throws the same error.
//
// Where the device can (Device::capture: CUDA graphs), a replayed step is one graph launch,
// captured once per plan and set of input addresses; TT_GRAPH=0 launches kernel by kernel.
//
// What the caller must know: the step function runs only during capture, so host-side effects
// (counters such as Optimizer::steps(), gradients left on the parameters, values read with
// item() inside the step) happen three times, not every step. Outputs returned by run() stay
// valid until the next-but-one run() (each recording rewrites its own buffers). A state tensor
// assigned outside the replay (a checkpoint load, an eager step) is copied into the replay's
// buffer at the next run(), through the host.
#ifndef TINYREF_ENGINE_REPLAY_H_
#define TINYREF_ENGINE_REPLAY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinyref/backends/device.h"
#include "tinyref/tensor.h"

namespace tinyref {

struct StepResult {
  std::vector<Tensor> outputs;  // what the caller reads after a step (the loss)
  std::vector<Tensor> state;    // every tensor the step assigns: parameters, optimizer state, ...
};

class Replay {
 public:
  using StepFn = std::function<StepResult(const std::vector<Tensor>& inputs)>;
  explicit Replay(StepFn step);
  ~Replay();
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  // One step on these inputs (realized as needed); returns the step's outputs, realized.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);

  bool replaying() const { return !plans_.empty(); }  // run() now launches the recording
  int64_t calls() const { return calls_; }
  // Kernels one replayed step launches (0 until captured).
  size_t kernels_per_step() const;
  // Replayed steps that ran as one device graph (Device::capture), not kernel by kernel.
  int64_t graph_launches() const { return graph_launches_; }

 private:
  struct Capture;
  struct Plan;
  static constexpr int kCaptureCalls = 3;  // 1 eager, 2 and 3 recorded

  std::vector<Tensor> run_eagerly(const std::vector<Tensor>& inputs, Capture* capture);
  void build_plans(Capture& a, Capture& b);
  std::vector<Tensor> replay(const std::vector<Tensor>& inputs);

  StepFn step_;
  int64_t calls_ = 0;
  std::vector<Tensor> state_;            // the tensors the step function returned
  std::vector<std::shared_ptr<Capture>> captures_;
  std::vector<std::shared_ptr<Plan>> plans_;  // two, run alternately
  size_t next_plan_ = 0;
  int64_t graph_launches_ = 0;
  std::string refusal_;  // why the recordings cannot be replayed; run() then throws it
};

}  // namespace tinyref

#endif  // TINYREF_ENGINE_REPLAY_H_
