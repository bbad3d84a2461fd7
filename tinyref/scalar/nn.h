// A tiny neural-network library on scalar Values, micrograd's nn.py: a Neuron computes
// act(w . x + b), a Layer is neurons side by side, an MLP is layers in a row. Training is
// plain gradient descent on a max-margin loss, for labels -1 and +1.
//
//   tinyref::scalar::MLP model(/*n_inputs=*/2, /*layer_sizes=*/{16, 16, 1},
//                              tinyref::scalar::Activation::kTanh, /*seed=*/1);
//   std::vector<Value> score = model({0.5, -1.0});        // one output: the class score
//   double loss = train_step(model, inputs, targets, /*learning_rate=*/0.5, /*l2=*/1e-4);
//   double acc = accuracy(model, inputs, targets);        // share with sign(score) == target
//
// Parameters are ordered layer by layer, neuron by neuron, each neuron's weights then its
// bias: tests rely on this order to copy weights between two models.
#ifndef TINYREF_SCALAR_NN_H_
#define TINYREF_SCALAR_NN_H_

#include <cstdint>
#include <random>
#include <vector>

#include "tinyref/scalar/value.h"

namespace tinyref::scalar {

enum class Activation { kLinear, kTanh, kRelu };

class Neuron {
 public:
  // Weights uniform in [-b, b] with b = sqrt(6 / n_inputs) (He's initialization: a relu layer
  // then passes on about the scale it receives, however wide it is); bias 0.
  Neuron(int n_inputs, Activation activation, std::mt19937_64& rng);

  // act(b + w[0] x[0] + w[1] x[1] + ...). Throws tinyref::Error unless inputs.size() is
  // n_inputs().
  Value operator()(const std::vector<Value>& inputs) const;

  std::vector<Value> parameters() const;  // weights, then bias
  int n_inputs() const { return static_cast<int>(weights_.size()); }

 private:
  std::vector<Value> weights_;
  Value bias_;
  Activation activation_;
};

class Layer {
 public:
  Layer(int n_inputs, int n_outputs, Activation activation, std::mt19937_64& rng);

  std::vector<Value> operator()(const std::vector<Value>& inputs) const;
  std::vector<Value> parameters() const;

 private:
  std::vector<Neuron> neurons_;
};

class MLP {
 public:
  // layer_sizes[i] neurons in layer i; every layer but the last applies `hidden`, the last is
  // linear (its outputs are scores, not features). The seed fixes the initial weights.
  MLP(int n_inputs, const std::vector<int>& layer_sizes, Activation hidden, uint64_t seed);

  // Throws tinyref::Error unless inputs.size() == n_inputs.
  std::vector<Value> operator()(const std::vector<Value>& inputs) const;
  std::vector<Value> parameters() const;
  // Sets every parameter's grad to 0: grads accumulate over backward() calls, so a training
  // step starts with this.
  void zero_grad() const;

 private:
  int n_inputs_;
  std::vector<Layer> layers_;
};

// p.data -= learning_rate * p.grad for each parameter.
void sgd_step(const std::vector<Value>& parameters, double learning_rate);

// The loss micrograd's demo trains on (an SVM's hinge loss plus weight decay), for a model
// with one output and targets -1 or +1:
//   mean over i of relu(1 - targets[i] * score(inputs[i]))  +  l2 * sum over parameters of p^2
// Throws tinyref::Error on a size mismatch or a model with more than one output.
Value margin_loss(const MLP& model, const std::vector<std::vector<double>>& inputs,
                  const std::vector<double>& targets, double l2);

// One step of gradient descent on margin_loss: zero the grads, compute the loss, backward,
// sgd_step. Returns the loss before the step.
double train_step(const MLP& model, const std::vector<std::vector<double>>& inputs,
                  const std::vector<double>& targets, double learning_rate, double l2);

// The share of inputs whose score has the sign of their target.
double accuracy(const MLP& model, const std::vector<std::vector<double>>& inputs,
                const std::vector<double>& targets);

}  // namespace tinyref::scalar

#endif  // TINYREF_SCALAR_NN_H_
