#include "tinyref/engine/replay.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

#include "tinyref/engine/realize.h"
#include "tinyref/env.h"
#include "tinyref/error.h"

namespace tinyref {

namespace {

// A tensor's data as the replay handles it: a whole base buffer, read as is or reshaped. Other
// views (a slice, a transpose) would need their ShapeTracker re-applied on every rebinding.
struct Slot {
  std::shared_ptr<Buffer> buf;
  Shape base_shape, shape;
  DType dtype = DType::kFloat32;
  std::string device;
};

Slot slot_of(const Tensor& t, const std::string& what) {
  const LazyRef& lazy = t.lazy();
  LazyBuffer* base = lazy->base();
  TT_ASSERT(base->realized());
  TT_CHECK(!lazy->is_view() || (lazy->st().contiguous() && lazy->numel() == base->numel()),
           "replay: " << what << " (shape " << t.shape() << ") is a strided view of a buffer of shape "
                      << base->shape() << "; make it contiguous() in the step");
  return {base->realized_buffer(), base->shape(), t.shape(), t.dtype(), t.device()};
}

// A fresh lazy node on the slot's buffer. Fresh, not cached: nodes are hash-consed, and a node
// derived from an old one could name a result computed before the buffer was rewritten.
Tensor tensor_of(const Slot& s) {
  LazyRef lazy = LazyBuffer::buffer(s.buf, s.base_shape, s.device);
  return Tensor::from_lazy(s.shape == s.base_shape ? lazy : lazy->reshape(s.shape));
}

std::vector<unsigned char> host_bytes(Buffer& b) {
  std::vector<unsigned char> out(b.nbytes());
  b.copy_out(out.data());
  return out;
}

// Where a buffer of a recording comes from; two recordings of one step must agree on this for
// every kernel argument, and a plan rebinds arguments by it.
struct Source {
  enum Kind { kProduced, kState, kInput, kFixed } kind = kFixed;
  size_t index = 0;         // kProduced: the launch that wrote it; kState, kInput: the position
  Buffer* fixed = nullptr;  // kFixed: the buffer itself (made before the step, or a host constant)
  bool operator==(const Source& o) const { return kind == o.kind && index == o.index && fixed == o.fixed; }
};

std::string describe(const Source& s) {
  switch (s.kind) {
    case Source::kProduced: return "the output of kernel " + std::to_string(s.index);
    case Source::kState: return "state tensor " + std::to_string(s.index);
    case Source::kInput: return "input " + std::to_string(s.index);
    case Source::kFixed: break;
  }
  return "a buffer made outside the kernels of the step";
}

void restore_recorder(std::vector<RecordedLaunch>* previous) { set_launch_recorder(previous); }

// $TT_GRAPH=0 launches a replayed step kernel by kernel even where the device has graphs.
bool use_graphs() { return env_flag("TT_GRAPH", true); }

}  // namespace

// One eagerly run step, recorded: its launches, and its buffers named by role.
struct Replay::Capture {
  std::vector<RecordedLaunch> launches;
  std::vector<Slot> inputs, state_in, state_out, outputs;
  // Filled by analyze(): the source of every launch argument, of every new state, of every output.
  std::vector<std::vector<Source>> args;
  std::vector<Source> state_src, output_src;

  void analyze() {
    std::unordered_map<Buffer*, Source> known;
    for (size_t i = 0; i < inputs.size(); ++i) known[inputs[i].buf.get()] = {Source::kInput, i, nullptr};
    for (size_t k = 0; k < state_in.size(); ++k) known[state_in[k].buf.get()] = {Source::kState, k, nullptr};
    auto source = [&](Buffer* b) {
      auto it = known.find(b);
      return it != known.end() ? it->second : Source{Source::kFixed, 0, b};
    };
    for (size_t j = 0; j < launches.size(); ++j) {
      const RecordedLaunch& l = launches[j];
      TT_CHECK(l.kind != RecordedLaunch::kCopy,
               "replay: the step copies a buffer between devices (Tensor::to); a recorded step must stay on "
               "one device, with its inputs already there");
      std::vector<Source> srcs = {{Source::kProduced, j, nullptr}};
      for (size_t a = 1; a < l.bufs.size(); ++a) srcs.push_back(source(l.bufs[a].get()));
      known[l.bufs[0].get()] = srcs[0];
      args.push_back(std::move(srcs));
    }
    std::unordered_map<size_t, size_t> writer_state;  // launch -> the state it produced
    for (size_t k = 0; k < state_out.size(); ++k) {
      Source s = source(state_out[k].buf.get());
      const bool unchanged = s.kind == Source::kState && s.index == k;
      TT_CHECK(s.kind == Source::kProduced || unchanged,
               "replay: state tensor " << k << " was assigned " << describe(s)
                                       << ", not a value computed by the step's kernels");
      if (s.kind == Source::kProduced) {
        auto [it, fresh] = writer_state.emplace(s.index, k);
        TT_CHECK(fresh, "replay: state tensors " << it->second << " and " << k << " share one buffer");
      }
      state_src.push_back(s);
    }
    for (size_t o = 0; o < outputs.size(); ++o) {
      output_src.push_back(source(outputs[o].buf.get()));
      TT_CHECK(output_src.back().kind != Source::kInput, "replay: output " << o << " is an input of the step");
    }
  }
};

// A recording made ready to launch: buffers bound, pointers taken, inputs left as slots.
struct Replay::Plan {
  struct Launch {
    Device* device;
    std::shared_ptr<CompiledKernel> kernel;
    std::vector<std::shared_ptr<Buffer>> bufs;    // held so the allocator cannot reuse them
    std::vector<void*> ptrs;                      // what Device::launch takes
    std::vector<std::pair<size_t, size_t>> inputs;  // (argument, input): bound at each run
  };
  std::vector<Launch> launches;
  std::vector<Slot> inputs, state_out, outputs;
  // Where the device has them (Device::capture): the launches as one graph per set of input
  // addresses. The caller's input buffers come from the caching allocator, so a few recur.
  std::map<std::vector<void*>, std::unique_ptr<LaunchGraph>> graphs;
  bool no_graphs = false;
  static constexpr size_t kMaxGraphs = 4;

  // Launches the step as a graph, if the device can; false: the caller launches one by one.
  bool launch_as_graph(const std::vector<std::shared_ptr<Buffer>>& in) {
    if (no_graphs || launches.empty()) return false;
    Device* device = launches[0].device;
    for (const Launch& l : launches) no_graphs = no_graphs || l.device != device;
    if (no_graphs) return false;
    std::vector<void*> key;
    for (const std::shared_ptr<Buffer>& b : in) key.push_back(b->ptr());
    auto it = graphs.find(key);
    if (it == graphs.end()) {
      if (graphs.size() >= kMaxGraphs) graphs.clear();  // inputs at ever new addresses: start over
      std::vector<FixedLaunch> fixed;
      for (const Launch& l : launches) fixed.push_back({l.kernel.get(), l.ptrs});
      std::unique_ptr<LaunchGraph> graph = device->capture(fixed);
      no_graphs = graph == nullptr;
      if (no_graphs) return false;
      it = graphs.emplace(std::move(key), std::move(graph)).first;
    }
    it->second->launch();
    return true;
  }

  // `rebind` replaces buffers of the recording (the ping-pong's state buffers).
  Plan(const Capture& c, const std::unordered_map<Buffer*, std::shared_ptr<Buffer>>& rebind)
      : inputs(c.inputs), state_out(c.state_out), outputs(c.outputs) {
    auto bound = [&](const std::shared_ptr<Buffer>& b) {
      auto it = rebind.find(b.get());
      return it != rebind.end() ? it->second : b;
    };
    for (Slot& s : inputs) s.buf.reset();  // the next call's inputs are used, not these
    for (Slot& s : state_out) s.buf = bound(s.buf);
    for (Slot& s : outputs) s.buf = bound(s.buf);
    for (size_t j = 0; j < c.launches.size(); ++j) {
      const RecordedLaunch& l = c.launches[j];
      if (l.kind == RecordedLaunch::kEmpty) continue;  // an empty output: nothing to run
      Launch out{&l.bufs[0]->device(), l.kernel, {}, {}, {}};
      for (size_t a = 0; a < l.bufs.size(); ++a) {
        if (c.args[j][a].kind == Source::kInput) {
          out.inputs.emplace_back(a, c.args[j][a].index);
          out.bufs.push_back(nullptr);
          out.ptrs.push_back(nullptr);
        } else {
          out.bufs.push_back(bound(l.bufs[a]));
          out.ptrs.push_back(out.bufs.back()->ptr());
        }
      }
      launches.push_back(std::move(out));
    }
  }
};

Replay::Replay(StepFn step) : step_(std::move(step)) {}
Replay::~Replay() = default;

size_t Replay::kernels_per_step() const { return plans_.empty() ? 0 : plans_[0]->launches.size(); }

std::vector<Tensor> Replay::run(const std::vector<Tensor>& inputs) {
  ++calls_;
  std::vector<Tensor> needs_realize;
  for (const Tensor& t : inputs) {
    if (!t.lazy()->realized()) needs_realize.push_back(t);
  }
  if (!needs_realize.empty()) realize_all(needs_realize);  // before recording: not part of the step
  TT_CHECK(refusal_.empty(), refusal_);
  if (replaying()) return replay(inputs);
  if (calls_ == 1) return run_eagerly(inputs, nullptr);  // compiles every kernel
  auto capture = std::make_shared<Capture>();
  std::vector<Tensor> outs = run_eagerly(inputs, capture.get());
  captures_.push_back(capture);
  if (calls_ == kCaptureCalls) {
    try {
      build_plans(*captures_[0], *captures_[1]);
    } catch (const Error& e) {  // this step ran eagerly; every later call refuses the same way
      refusal_ = e.what();
      captures_.clear();
      plans_.clear();
      throw;
    }
    captures_.clear();
  }
  return outs;
}

std::vector<Tensor> Replay::run_eagerly(const std::vector<Tensor>& inputs, Capture* capture) {
  StepResult r;
  if (capture != nullptr) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      capture->inputs.push_back(slot_of(inputs[i], "input " + std::to_string(i)));
    }
    for (size_t k = 0; k < state_.size(); ++k) {
      capture->state_in.push_back(slot_of(state_[k], "state tensor " + std::to_string(k)));
    }
    std::vector<RecordedLaunch>* previous = set_launch_recorder(&capture->launches);
    try {
      r = step_(inputs);
      std::vector<Tensor> all = r.outputs;
      all.insert(all.end(), r.state.begin(), r.state.end());
      realize_all(all);
    } catch (...) {
      restore_recorder(previous);
      throw;
    }
    restore_recorder(previous);
  } else {
    r = step_(inputs);
    std::vector<Tensor> all = r.outputs;
    all.insert(all.end(), r.state.begin(), r.state.end());
    realize_all(all);
  }
  if (!state_.empty()) {
    // The same tensors, in the same order: assign() keeps a tensor's identity, so a tensor of
    // the last call's list now holds this call's value.
    bool same = r.state.size() == state_.size();
    for (size_t k = 0; same && k < state_.size(); ++k) same = state_[k].lazy() == r.state[k].lazy();
    TT_CHECK(same, "replay: the step function returned " << r.state.size() << " state tensors, the previous call "
                                                         << state_.size() << ", or other tensors");
  }
  state_ = r.state;
  if (capture != nullptr) {
    for (size_t k = 0; k < state_.size(); ++k) {
      capture->state_out.push_back(slot_of(state_[k], "state tensor " + std::to_string(k)));
    }
    for (size_t o = 0; o < r.outputs.size(); ++o) {
      capture->outputs.push_back(slot_of(r.outputs[o], "output " + std::to_string(o)));
    }
  }
  return r.outputs;
}

void Replay::build_plans(Capture& a, Capture& b) {
  a.analyze();
  b.analyze();
  TT_CHECK(a.launches.size() == b.launches.size(),
           "replay: the two recorded steps ran " << a.launches.size() << " and " << b.launches.size()
                                                 << " kernels; a step must run the same kernels every time (does "
                                                    "it branch on the host, or did a shape change?)");
  TT_CHECK(a.state_in.size() == b.state_in.size() && a.state_in.size() == a.state_out.size(),
           "replay: the state was not known before the first recorded step");
  for (size_t j = 0; j < a.launches.size(); ++j) {
    const RecordedLaunch &la = a.launches[j], &lb = b.launches[j];
    TT_CHECK(la.kind == lb.kind && la.kernel == lb.kernel && la.bufs.size() == lb.bufs.size(),
             "replay: kernel " << j << " of " << a.launches.size() << " differs between the two recorded steps");
    for (size_t arg = 1; arg < la.bufs.size(); ++arg) {
      Source& sa = a.args[j][arg];
      const Source& sb = b.args[j][arg];
      if (sa.kind == Source::kFixed && sb.kind == Source::kFixed && sa.fixed != sb.fixed) {
        // A buffer made on the host inside the step (cross_entropy's arange). Equal contents
        // both times: a constant, each recording keeps its own. Otherwise it varies per step,
        // and a replay would freeze it.
        Buffer &x = *sa.fixed, &y = *sb.fixed;
        const bool constant = x.dtype() == y.dtype() && x.numel() == y.numel() && &x.device() == &y.device() &&
                              host_bytes(x) == host_bytes(y);
        TT_CHECK(constant, "replay: kernel " << j << " reads, as argument " << arg
                                            << ", a buffer that changes from step to step but is neither a state "
                                               "tensor nor an input: a tensor made on the host inside the step "
                                               "(Tensor::rand, from_vector), or a state tensor the step function "
                                               "does not return");
        continue;
      }
      TT_CHECK(sa == sb, "replay: kernel " << j << " reads, as argument " << arg << ", " << describe(sa)
                                           << " in one recorded step and " << describe(sb) << " in the other");
    }
  }
  for (size_t k = 0; k < a.state_out.size(); ++k) {
    TT_CHECK(a.state_src[k] == b.state_src[k], "replay: state tensor " << k << " is "
                                                   << describe(a.state_src[k]) << " in one recorded step and "
                                                   << describe(b.state_src[k]) << " in the other");
  }
  TT_CHECK(a.outputs.size() == b.outputs.size(), "replay: the step returned a different number of outputs");
  for (size_t o = 0; o < a.outputs.size(); ++o) {
    TT_CHECK(a.output_src[o] == b.output_src[o] && a.outputs[o].shape == b.outputs[o].shape,
             "replay: output " << o << " differs between the two recorded steps");
  }
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    TT_CHECK(b.inputs.size() == a.inputs.size() && a.inputs[i].shape == b.inputs[i].shape &&
                 a.inputs[i].dtype == b.inputs[i].dtype,
             "replay: input " << i << " changed shape or dtype between the two recorded steps");
  }
  // Ping-pong: recording b read a's new state and wrote the current one (set C). Recording a
  // is rebound to read C in place of the state it read, so a reads C and writes a's buffers,
  // b reads those and writes C, and so on, with no copy.
  std::unordered_map<Buffer*, std::shared_ptr<Buffer>> rebind;
  for (size_t k = 0; k < a.state_in.size(); ++k) {
    if (a.state_src[k].kind == Source::kProduced) rebind[a.state_in[k].buf.get()] = b.state_out[k].buf;
  }
  plans_.push_back(std::make_shared<Plan>(a, rebind));
  plans_.push_back(std::make_shared<Plan>(b, std::unordered_map<Buffer*, std::shared_ptr<Buffer>>{}));
  next_plan_ = 0;
}

std::vector<Tensor> Replay::replay(const std::vector<Tensor>& inputs) {
  Plan& plan = *plans_[next_plan_];
  const Plan& last = *plans_[1 - next_plan_];  // what the state tensors should hold now
  TT_CHECK(inputs.size() == plan.inputs.size(),
           "replay: " << inputs.size() << " inputs, the step was recorded with " << plan.inputs.size());
  std::vector<std::shared_ptr<Buffer>> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Slot& want = plan.inputs[i];
    TT_CHECK(inputs[i].shape() == want.shape && inputs[i].dtype() == want.dtype && inputs[i].device() == want.device,
             "replay: input " << i << " is " << inputs[i].shape() << " " << dtype_name(inputs[i].dtype()) << " on "
                              << inputs[i].device() << ", the step was recorded with " << want.shape << " "
                              << dtype_name(want.dtype) << " on " << want.device);
    in.push_back(slot_of(inputs[i], "input " + std::to_string(i)).buf);
  }
  // A state tensor assigned outside the replay (a checkpoint load, an eager step) has its value
  // copied into the buffer the recording reads: all read first, then written, since a new value
  // may be computed from other state.
  std::vector<std::pair<size_t, std::vector<unsigned char>>> moved;
  for (size_t k = 0; k < state_.size(); ++k) {
    if (state_[k].lazy()->base()->realized_buffer() == last.state_out[k].buf) continue;
    LazyRef value = state_[k].lazy()->contiguous();
    realize({value});
    moved.emplace_back(k, host_bytes(*value->realized_buffer()));
  }
  for (auto& [k, bytes] : moved) {
    last.state_out[k].buf->copy_in(bytes.data());
    state_[k].assign(tensor_of(last.state_out[k]));
  }

  const int debug = debug_level();
  const auto t0 = std::chrono::steady_clock::now();
  for (Plan::Launch& l : plan.launches) {
    for (auto [arg, i] : l.inputs) l.ptrs[arg] = in[i]->ptr();
  }
  if (use_graphs() && plan.launch_as_graph(in)) {
    ++graph_launches_;
  } else {
    for (const Plan::Launch& l : plan.launches) l.device->launch(*l.kernel, l.ptrs);
  }
  stats().kernels_launched += static_cast<int64_t>(plan.launches.size());
  if (debug >= 2) {
    if (!plan.launches.empty()) plan.launches[0].device->synchronize();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "*** replay %zu kernels %9.3f ms\n", plan.launches.size(), s * 1e3);
  }
  for (size_t k = 0; k < state_.size(); ++k) {
    if (plan.state_out[k].buf != last.state_out[k].buf) state_[k].assign(tensor_of(plan.state_out[k]));
  }
  std::vector<Tensor> outs;
  for (const Slot& s : plan.outputs) outs.push_back(tensor_of(s));
  next_plan_ = 1 - next_plan_;
  return outs;
}

}  // namespace tinyref
