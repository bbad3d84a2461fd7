// Chapter 1's oracle: tinyref's tensor engine, on 0-d float64 tensors (INTERP backend). Every
// Value op becomes a tensor op, so the values and gradients the tests expect come from code that
// shares nothing with a scalar engine: tinyref builds exp from exp2, log from log2 and tanh from
// a sigmoid, and differentiates whole lazy graphs with its own rules.
//
//   const scalar_graph::Recipe recipe = scalar_graph::random_recipe(seed);
//   const tensor_oracle::Graph want = tensor_oracle::run(recipe);
//   want.values[i], want.grads[i]      // v_i and d(root)/d(v_i) for every step i
//
//   tensor_oracle::Mlp net{{2, 5, 4, 2}, tensor_oracle::Hidden::kTanh};   // ch01::MLP's formulas
//   std::vector<double> out = net.outputs(params, {0.3, -0.8});           // params in nn.h's order
//   tensor_oracle::LossAndGrads l = net.margin_loss(params, inputs, targets, /*l2=*/0.01);
//
// Two conventions are chapter 1's, not tinyref's, and are written out here: relu passes no
// gradient at exactly 0 (tinyref's maximum would split it), and a negative integer power is
// the reciprocal of a positive one (tinyref's pow(-2) goes through a log, which needs x > 0).
#ifndef TESTS_01_SCALAR_AUTOGRAD_TENSOR_ORACLE_H_
#define TESTS_01_SCALAR_AUTOGRAD_TENSOR_ORACLE_H_

#include <vector>

#include "tests/01_scalar_autograd/random_graph.h"
#include "tinyref/tensor.h"

namespace tensor_oracle {

// A 0-d float64 tensor on INTERP, optionally a leaf that requires grad.
tinyref::Tensor scalar(double value, bool requires_grad = false);

// Chapter 1's relu and pow on tensors (see the header comment).
tinyref::Tensor relu(const tinyref::Tensor& x);
tinyref::Tensor pow(const tinyref::Tensor& x, double exponent);

struct Graph {
  std::vector<double> values;  // one per step
  std::vector<double> grads;   // d(root)/d(step) for every step, inner steps included
};

// The recipe's graph on tinyref tensors, differentiated from its root (the last step). Inner
// steps get their gradient through a probe: v_i + z_i with a leaf z_i = 0, and
// d(root)/d(z_i) = d(root)/d(v_i).
Graph run(const scalar_graph::Recipe& recipe);

enum class Hidden { kLinear, kTanh, kRelu };

struct LossAndGrads {
  double loss = 0;
  std::vector<double> grads;  // one per parameter, in nn.h's order
};

// ch01::MLP's computation as matrices: layer l is act(W_l h + b_l), the last one linear.
// Parameters are a flat list in nn.h's order: layer by layer, neuron by neuron, each neuron's
// weights then its bias.
struct Mlp {
  std::vector<int> sizes;  // inputs, then each layer's width: {2, 16, 16, 1}
  Hidden hidden = Hidden::kTanh;

  size_t parameter_count() const;
  std::vector<double> outputs(const std::vector<double>& params, const std::vector<double>& x) const;
  // d(out[0] * out[1]) / d(parameter) at input x.
  std::vector<double> product_of_outputs_grads(const std::vector<double>& params,
                                               const std::vector<double>& x) const;
  // nn.h's margin_loss: mean of relu(1 - target * score) plus l2 * sum of squared parameters.
  LossAndGrads margin_loss(const std::vector<double>& params,
                           const std::vector<std::vector<double>>& inputs,
                           const std::vector<double>& targets, double l2) const;
};

// The initial parameters nn.h specifies for MLP(n_inputs, layer_sizes, ..., seed): each
// neuron's weights drawn in order from one std::mt19937_64(seed) as 53 random bits scaled to
// [-1, 1), times sqrt(6 / fan_in); biases 0.
std::vector<double> initial_parameters(const std::vector<int>& sizes, uint64_t seed);

}  // namespace tensor_oracle

#endif  // TESTS_01_SCALAR_AUTOGRAD_TENSOR_ORACLE_H_
