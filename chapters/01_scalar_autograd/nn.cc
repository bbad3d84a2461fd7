#include "ch01/nn.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "chapters/course.h"  // defines: course::NotImplemented

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
  // TODO(ch01.6): n_inputs weights, weight i = sqrt(6.0 / n_inputs) * uniform_symmetric(rng),
  // drawn in order; bias_ stays 0 (a default Value). The tests expect exactly these numbers.
  throw course::NotImplemented("ch01.6: Neuron::Neuron");
}

Value Neuron::operator()(const std::vector<Value>& inputs) const {
  // TODO(ch01.6): check_sizes(...) first (it throws std::invalid_argument on a mismatch);
  // then sum = bias_ + weights_[0] * inputs[0] + ...; return sum, sum.tanh() or sum.relu()
  // as activation_ says.
  throw course::NotImplemented("ch01.6: Neuron::operator()");
}

std::vector<Value> Neuron::parameters() const {
  // TODO(ch01.6): the weights in order, then the bias. Copies of the handles share the
  // nodes, so an optimizer that changes them changes the neuron.
  throw course::NotImplemented("ch01.6: Neuron::parameters");
}

Layer::Layer(int n_inputs, int n_outputs, Activation activation, std::mt19937_64& rng) {
  // TODO(ch01.6): n_outputs neurons, each taking n_inputs, all drawing from the same rng.
  throw course::NotImplemented("ch01.6: Layer::Layer");
}

std::vector<Value> Layer::operator()(const std::vector<Value>& inputs) const {
  // TODO(ch01.6): each neuron applied to the same inputs; one output per neuron.
  throw course::NotImplemented("ch01.6: Layer::operator()");
}

std::vector<Value> Layer::parameters() const {
  // TODO(ch01.6): the neurons' parameters, neuron after neuron.
  throw course::NotImplemented("ch01.6: Layer::parameters");
}

MLP::MLP(int n_inputs, const std::vector<int>& layer_sizes, Activation hidden, uint64_t seed)
    : n_inputs_(n_inputs) {
  // TODO(ch01.6): one std::mt19937_64 rng(seed) for all layers. Layer i takes the previous
  // layer's width (n_inputs for the first) and has layer_sizes[i] neurons; the last layer
  // is Activation::kLinear, the others `hidden`.
  throw course::NotImplemented("ch01.6: MLP::MLP");
}

std::vector<Value> MLP::operator()(const std::vector<Value>& inputs) const {
  // TODO(ch01.6): check_sizes, then feed the inputs through the layers in order.
  throw course::NotImplemented("ch01.6: MLP::operator()");
}

std::vector<Value> MLP::parameters() const {
  // TODO(ch01.6): the layers' parameters, layer after layer.
  throw course::NotImplemented("ch01.6: MLP::parameters");
}

// ---------------------------------------------------------------------------------------
// ch01.7: training.

void MLP::zero_grad() const {
  // TODO(ch01.7): grad 0 on every parameter.
  throw course::NotImplemented("ch01.7: MLP::zero_grad");
}

void sgd_step(const std::vector<Value>& parameters, double learning_rate) {
  // TODO(ch01.7): p.data -= learning_rate * p.grad, through set_data.
  throw course::NotImplemented("ch01.7: sgd_step");
}

Value margin_loss(const MLP& model, const std::vector<std::vector<double>>& inputs,
                  const std::vector<double>& targets, double l2) {
  // TODO(ch01.7): the formula in nn.h, built from Values so that backward() reaches every
  // parameter. check_sizes(...) for inputs against targets, and throw std::invalid_argument
  // for an empty batch. Per input: score = model(to_values(input))[0], hinge =
  // (1.0 - target * score).relu(). Then the mean of the hinges plus l2 * sum of p * p.
  throw course::NotImplemented("ch01.7: margin_loss");
}

double train_step(const MLP& model, const std::vector<std::vector<double>>& inputs,
                  const std::vector<double>& targets, double learning_rate, double l2) {
  // TODO(ch01.7): zero the grads, build the loss, backward, sgd_step on the parameters;
  // return the loss's data.
  // Hint: the order matters. Zeroing after backward throws the gradient away; not zeroing
  // at all adds every earlier step's gradient to this one's.
  throw course::NotImplemented("ch01.7: train_step");
}

}  // namespace ch01
