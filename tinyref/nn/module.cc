#include "tinyref/nn/module.h"

namespace tinyref::nn {

NamedTensors Module::parameters() const {
  NamedTensors out;
  collect("", true, false, &out);
  return out;
}

NamedTensors Module::state() const {
  NamedTensors out;
  collect("", true, true, &out);
  return out;
}

NamedTensors Module::buffers() const {
  NamedTensors out;
  collect("", false, true, &out);
  return out;
}

Sequential& Sequential::add(std::unique_ptr<Module> m) {
  TT_CHECK(m != nullptr, "Sequential::add: null module");
  m->train(training_);
  children_.push_back(std::move(m));
  return *this;
}

Sequential& Sequential::add(std::string name, std::function<Tensor(const Tensor&)> f) {
  return add(std::make_unique<Lambda>(std::move(name), std::move(f)));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (auto& c : children_) y = c->forward(y);
  return y;
}

void Sequential::train(bool on) {
  Module::train(on);
  for (auto& c : children_) c->train(on);
}

void Sequential::collect(const std::string& prefix, bool params, bool buffers, NamedTensors* out) const {
  for (size_t i = 0; i < children_.size(); ++i) {
    children_[i]->collect(prefix + std::to_string(i) + ".", params, buffers, out);
  }
}

std::vector<Tensor> tensors_of(const NamedTensors& named) {
  std::vector<Tensor> out;
  out.reserve(named.size());
  for (const auto& [name, t] : named) out.push_back(t);
  return out;
}

}  // namespace tinyref::nn
