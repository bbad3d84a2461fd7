#include "ch01/nn.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace ch01 {
namespace {

// ---------------------------------------------------------------------------------------
// Given helpers.

// 53 random bits into [-1, 1): the same weights from a seed on every standard library
// (std::uniform_real_distribution is implementation-defined). For Neuron's constructor.
[[maybe_unused]] double uniform_symmetric(std::mt19937_64& rng) {
  return 2.0 * (static_cast<double>(rng() >> 11) * 0x1.0p-53) - 1.0;
}

std::vector<Value> to_values(const std::vector<double>& numbers) {
  return std::vector<Value>(numbers.begin(), numbers.end());
}

void check_sizes(const char* what, size_t expected, size_t got) {
  if (expected != got) {
    throw std::invalid_argument(std::string(what) + ": expected " + std::to_string(expected) +
                                ", got " + std::to_string(got));
  }
}

}  // namespace

double accuracy(const MLP& model, const std::vector<std::vector<double>>& inputs,
                const std::vector<double>& targets) {
  check_sizes("accuracy: targets for the inputs", inputs.size(), targets.size());
  if (inputs.empty()) return 0.0;
  int correct = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const double score = model(to_values(inputs[i])).at(0).data();
    if ((score > 0) == (targets[i] > 0)) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(inputs.size());
}

// ---------------------------------------------------------------------------------------
// ch01.6: Neuron, Layer, MLP.

Neuron::Neuron(int n_inputs, Activation activation, std::mt19937_64& rng)
    : activation_(activation) {
  const double bound = std::sqrt(6.0 / n_inputs);
  for (int i = 0; i < n_inputs; ++i) weights_.push_back(bound * uniform_symmetric(rng));
}

Value Neuron::operator()(const std::vector<Value>& inputs) const {
  check_sizes("Neuron: inputs", weights_.size(), inputs.size());
  Value sum = bias_;
  for (size_t i = 0; i < weights_.size(); ++i) sum = sum + weights_[i] * inputs[i];
  switch (activation_) {
    case Activation::kLinear: return sum;
    case Activation::kTanh: return sum.tanh();
    case Activation::kRelu: return sum.relu();
  }
  return sum;
}

std::vector<Value> Neuron::parameters() const {
  std::vector<Value> out = weights_;
  out.push_back(bias_);
  return out;
}

Layer::Layer(int n_inputs, int n_outputs, Activation activation, std::mt19937_64& rng) {
  for (int i = 0; i < n_outputs; ++i) neurons_.emplace_back(n_inputs, activation, rng);
}

std::vector<Value> Layer::operator()(const std::vector<Value>& inputs) const {
  std::vector<Value> out;
  for (const Neuron& neuron : neurons_) out.push_back(neuron(inputs));
  return out;
}

std::vector<Value> Layer::parameters() const {
  std::vector<Value> out;
  for (const Neuron& neuron : neurons_) {
    for (const Value& p : neuron.parameters()) out.push_back(p);
  }
  return out;
}

MLP::MLP(int n_inputs, const std::vector<int>& layer_sizes, Activation hidden, uint64_t seed)
    : n_inputs_(n_inputs) {
  std::mt19937_64 rng(seed);
  int width = n_inputs;
  for (size_t i = 0; i < layer_sizes.size(); ++i) {
    const bool last = i + 1 == layer_sizes.size();
    layers_.emplace_back(width, layer_sizes[i], last ? Activation::kLinear : hidden, rng);
    width = layer_sizes[i];
  }
}

std::vector<Value> MLP::operator()(const std::vector<Value>& inputs) const {
  check_sizes("MLP: inputs", n_inputs_, inputs.size());
  std::vector<Value> activations = inputs;
  for (const Layer& layer : layers_) activations = layer(activations);
  return activations;
}

std::vector<Value> MLP::parameters() const {
  std::vector<Value> out;
  for (const Layer& layer : layers_) {
    for (const Value& p : layer.parameters()) out.push_back(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// ch01.7: training.

void MLP::zero_grad() const {
  for (const Value& p : parameters()) p.set_grad(0);
}

void sgd_step(const std::vector<Value>& parameters, double learning_rate) {
  for (const Value& p : parameters) p.set_data(p.data() - learning_rate * p.grad());
}

Value margin_loss(const MLP& model, const std::vector<std::vector<double>>& inputs,
                  const std::vector<double>& targets, double l2) {
  check_sizes("margin_loss: targets for the inputs", inputs.size(), targets.size());
  if (inputs.empty()) throw std::invalid_argument("margin_loss: empty batch");
  Value hinge_sum = 0.0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value score = model(to_values(inputs[i])).at(0);
    hinge_sum = hinge_sum + (1.0 - targets[i] * score).relu();
  }
  Value squares = 0.0;
  for (const Value& p : model.parameters()) squares = squares + p * p;
  return hinge_sum / static_cast<double>(inputs.size()) + l2 * squares;
}

double train_step(const MLP& model, const std::vector<std::vector<double>>& inputs,
                  const std::vector<double>& targets, double learning_rate, double l2) {
  model.zero_grad();  // before backward: grads from the last step must not leak into this one
  const Value loss = margin_loss(model, inputs, targets, l2);
  loss.backward();
  sgd_step(model.parameters(), learning_rate);
  return loss.data();
}

}  // namespace ch01
