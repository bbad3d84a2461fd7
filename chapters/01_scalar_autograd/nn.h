// Chapter 1, second half: a tiny neural-network library on your Values (micrograd's nn.py).
// A Neuron computes act(w . x + b), a Layer is neurons side by side, an MLP is layers in a
// row. Training is plain gradient descent on a max-margin loss, for targets -1 and +1.
//
//   #include "ch01/nn.h"
//   ch01::MLP model(/*n_inputs=*/2, /*layer_sizes=*/{16, 16, 1}, ch01::Activation::kRelu,
//                   /*seed=*/1);
//   std::vector<ch01::Value> score = model({0.5, -1.0});    // one output: the class score
//   for (int step = 0; step < 100; ++step)
//     train_step(model, inputs, targets, /*learning_rate=*/0.5, /*l2=*/1e-4);
//   double acc = accuracy(model, inputs, targets);   // share with sign(score) == target
//
// Parameters are ordered layer by layer, neuron by neuron, each neuron's weights then its
// bias: the tests rely on this order to copy weights between your model and tinyref's.
//
// The tasks: ch01.6 Neuron, Layer, MLP (construction, forward, parameters);
//            ch01.7 zero_grad, sgd_step, margin_loss, train_step.
#ifndef CH01_NN_H_
#define CH01_NN_H_

#include <cstdint>
#include <random>
#include <vector>

#include "ch01/value.h"

namespace ch01 {

enum class Activation { kLinear, kTanh, kRelu };

class Neuron {
 public:
  // Weights uniform in [-b, b] with b = sqrt(6 / n_inputs) (He's initialization: a relu layer
  // then passes on about the scale it receives, however wide it is), drawn in order from
  // `rng` with uniform_symmetric (nn.cc); bias 0.
  Neuron(int n_inputs, Activation activation, std::mt19937_64& rng);

  // act(b + w[0] x[0] + w[1] x[1] + ...). Throws std::invalid_argument, naming both sizes,
  // unless inputs.size() is n_inputs().
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
  std::vector<Value> parameters() const;  // neuron by neuron

 private:
  std::vector<Neuron> neurons_;
};

class MLP {
 public:
  // layer_sizes[i] neurons in layer i; every layer but the last applies `hidden`, the last is
  // linear (its outputs are scores, not features). One std::mt19937_64 seeded with `seed`
  // feeds all layers in order.
  MLP(int n_inputs, const std::vector<int>& layer_sizes, Activation hidden, uint64_t seed);

  // Throws std::invalid_argument unless inputs.size() == n_inputs.
  std::vector<Value> operator()(const std::vector<Value>& inputs) const;
  std::vector<Value> parameters() const;  // layer by layer
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
// Throws std::invalid_argument if inputs and targets differ in size or are empty.
Value margin_loss(const MLP& model, const std::vector<std::vector<double>>& inputs,
                  const std::vector<double>& targets, double l2);

// One step of gradient descent on margin_loss: zero the grads, compute the loss, backward,
// sgd_step. Returns the loss before the step.
double train_step(const MLP& model, const std::vector<std::vector<double>>& inputs,
                  const std::vector<double>& targets, double learning_rate, double l2);

// Given. The share of inputs whose score has the sign of their target.
double accuracy(const MLP& model, const std::vector<std::vector<double>>& inputs,
                const std::vector<double>& targets);

}  // namespace ch01

#endif  // CH01_NN_H_
