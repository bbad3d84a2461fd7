// Modules: layers that own named tensors, composed into models. A model is a tree of modules;
// its parameters and state are collected by walking the tree, named by their path, so the
// names in a checkpoint read like PyTorch's ("layers.0.weight", "layers.4.running_mean").
//
//   nn::Sequential model;
//   model.add(std::make_unique<nn::Linear>(784, 128));
//   model.add("relu", [](const Tensor& x) { return x.relu(); });
//   model.add(std::make_unique<nn::Linear>(128, 10));
//   Tensor logits = model(x);                   // (N, 10)
//   nn::NamedTensors p = model.parameters();    // {"0.weight", "0.bias", "2.weight", "2.bias"}
//   nn::NamedTensors s = model.state();         // parameters plus buffers (running statistics)
//   model.train(false);                         // evaluation mode (BatchNorm, Dropout)
//
// The Tensors in a NamedTensors share their values with the module (tinyref Tensor copies
// share), so an optimizer's assign() or a checkpoint load updates the model itself.
#ifndef TINYREF_NN_MODULE_H_
#define TINYREF_NN_MODULE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tinyref/tensor.h"

namespace tinyref::nn {

// Ordered (a model's order is its checkpoint's and its optimizer's order); names are unique.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // The trainable tensors (weights, biases), named by path.
  NamedTensors parameters() const;
  // Everything a checkpoint holds: the parameters and the buffers (running statistics).
  NamedTensors state() const;
  // The buffers alone: what a training step updates besides the parameters.
  NamedTensors buffers() const;

  // Training mode (the default) or evaluation mode; applies to every child.
  virtual void train(bool on = true) { training_ = on; }
  bool training() const { return training_; }

  // Adds this module's tensors under `prefix` (empty or ending in '.'): parameters, buffers or both.
  virtual void collect(const std::string& prefix, bool params, bool buffers, NamedTensors* out) const = 0;

 protected:
  bool training_ = true;
};

// A stateless step (relu, max_pool2d, flatten) as a module.
class Lambda : public Module {
 public:
  Lambda(std::string name, std::function<Tensor(const Tensor&)> f) : name_(std::move(name)), f_(std::move(f)) {}
  Tensor forward(const Tensor& x) override { return f_(x); }
  void collect(const std::string&, bool, bool, NamedTensors*) const override {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::function<Tensor(const Tensor&)> f_;
};

// Children run in order; child i's tensors are named "i.<name>", as torch.nn.Sequential does.
class Sequential : public Module {
 public:
  Sequential& add(std::unique_ptr<Module> m);
  Sequential& add(std::string name, std::function<Tensor(const Tensor&)> f);
  Tensor forward(const Tensor& x) override;
  void train(bool on = true) override;
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors* out) const override;
  size_t size() const { return children_.size(); }
  Module& operator[](size_t i) { return *children_[i]; }

 private:
  std::vector<std::unique_ptr<Module>> children_;
};

// Just the tensors of a NamedTensors, in order.
std::vector<Tensor> tensors_of(const NamedTensors& named);

}  // namespace tinyref::nn

#endif  // TINYREF_NN_MODULE_H_
