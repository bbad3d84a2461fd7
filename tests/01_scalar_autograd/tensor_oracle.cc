#include "tests/01_scalar_autograd/tensor_oracle.h"

#include <cmath>
#include <random>

namespace tensor_oracle {
namespace {

using tinyref::DType;
using tinyref::Tensor;

constexpr const char* kDevice = "INTERP";

double value_of(const Tensor& t) { return t.to_vector<double>().at(0); }

// A gradient tinyref never reached (the output does not depend on that leaf) is zero.
double grad_of(const Tensor& t) {
  const Tensor g = t.grad();
  return g.defined() ? g.to_vector<double>().at(0) : 0.0;
}

Tensor step_tensor(const scalar_graph::Step& s, const std::vector<Tensor>& nodes) {
  using scalar_graph::Kind;
  const auto binary = [&](auto f) -> Tensor {
    if (s.lhs < 0) return f(s.constant, nodes[s.rhs]);
    if (s.rhs < 0) return f(nodes[s.lhs], s.constant);
    return f(nodes[s.lhs], nodes[s.rhs]);
  };
  switch (s.kind) {
    case Kind::kLeaf: return scalar(s.constant, /*requires_grad=*/true);
    case Kind::kAdd: return binary([](const auto& a, const auto& b) { return a + b; });
    case Kind::kSub: return binary([](const auto& a, const auto& b) { return a - b; });
    case Kind::kMul: return binary([](const auto& a, const auto& b) { return a * b; });
    case Kind::kDiv: return binary([](const auto& a, const auto& b) { return a / b; });
    case Kind::kNeg: return -nodes[s.lhs];
    case Kind::kPow: return pow(nodes[s.lhs], s.constant);
    case Kind::kExp: return nodes[s.lhs].exp();
    case Kind::kLog: return nodes[s.lhs].log();
    case Kind::kTanh: return nodes[s.lhs].tanh();
    case Kind::kRelu: return relu(nodes[s.lhs]);
  }
  return Tensor();
}

// Layer l's weights (out, in) and biases (out), as leaves holding params[at...].
struct LayerParams {
  Tensor weight, bias;
};

std::vector<LayerParams> unpack(const Mlp& net, const std::vector<double>& params) {
  std::vector<LayerParams> layers;
  size_t at = 0;
  for (size_t l = 1; l < net.sizes.size(); ++l) {
    const int64_t in = net.sizes[l - 1], out = net.sizes[l];
    std::vector<double> w, b;
    for (int64_t n = 0; n < out; ++n) {
      for (int64_t i = 0; i < in; ++i) w.push_back(params.at(at++));
      b.push_back(params.at(at++));
    }
    layers.push_back({Tensor::from_vector<double>(w, {out, in}, kDevice).requires_grad_(),
                      Tensor::from_vector<double>(b, {out}, kDevice).requires_grad_()});
  }
  return layers;
}

// Scores of a batch (rows of x), shape (batch, last width).
Tensor forward(const Mlp& net, const std::vector<LayerParams>& layers, const Tensor& x) {
  Tensor h = x;
  for (size_t l = 0; l < layers.size(); ++l) {
    h = h.linear(layers[l].weight, layers[l].bias);
    if (l + 1 == layers.size()) break;
    if (net.hidden == Hidden::kTanh) h = h.tanh();
    if (net.hidden == Hidden::kRelu) h = relu(h);
  }
  return h;
}

Tensor batch(const std::vector<std::vector<double>>& rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return Tensor::from_vector<double>(flat, {int64_t(rows.size()), int64_t(rows.at(0).size())}, kDevice);
}

// Every parameter's gradient, in nn.h's order (neuron by neuron: weights, then bias).
std::vector<double> gradients(const std::vector<LayerParams>& layers) {
  std::vector<double> out;
  for (const LayerParams& l : layers) {
    const std::vector<double> w = l.weight.grad().to_vector<double>();
    const std::vector<double> b = l.bias.grad().to_vector<double>();
    const size_t in = w.size() / b.size();
    for (size_t n = 0; n < b.size(); ++n) {
      out.insert(out.end(), w.begin() + n * in, w.begin() + (n + 1) * in);
      out.push_back(b[n]);
    }
  }
  return out;
}

}  // namespace

Tensor scalar(double value, bool requires_grad) {
  Tensor t = Tensor::from_vector<double>({value}, {}, kDevice);
  if (requires_grad) t.requires_grad_();
  return t;
}

Tensor relu(const Tensor& x) { return x * x.gt(scalar(0)).cast(DType::kFloat64); }

Tensor pow(const Tensor& x, double exponent) {
  if (exponent < 0 && exponent == std::floor(exponent)) return x.pow(-exponent).reciprocal();
  return x.pow(exponent);
}

Graph run(const scalar_graph::Recipe& recipe) {
  std::vector<Tensor> nodes, leaves_or_probes;
  for (const scalar_graph::Step& s : recipe.steps) {
    Tensor t = step_tensor(s, nodes);
    if (s.kind == scalar_graph::Kind::kLeaf) {
      leaves_or_probes.push_back(t);
    } else {
      leaves_or_probes.push_back(scalar(0, /*requires_grad=*/true));
      t = t + leaves_or_probes.back();
    }
    nodes.push_back(t);
  }
  tinyref::realize_all(nodes);
  Graph out;
  for (const Tensor& t : nodes) out.values.push_back(value_of(t));
  nodes.back().backward();
  for (const Tensor& t : leaves_or_probes) out.grads.push_back(grad_of(t));
  return out;
}

size_t Mlp::parameter_count() const {
  size_t n = 0;
  for (size_t l = 1; l < sizes.size(); ++l) n += size_t(sizes[l]) * (sizes[l - 1] + 1);
  return n;
}

std::vector<double> Mlp::outputs(const std::vector<double>& params, const std::vector<double>& x) const {
  tinyref::NoGradGuard no_grad;
  return forward(*this, unpack(*this, params), batch({x})).to_vector<double>();
}

std::vector<double> Mlp::product_of_outputs_grads(const std::vector<double>& params,
                                                  const std::vector<double>& x) const {
  const std::vector<LayerParams> layers = unpack(*this, params);
  const Tensor out = forward(*this, layers, batch({x})).reshape({-1});
  (out[0] * out[1]).backward();
  return gradients(layers);
}

LossAndGrads Mlp::margin_loss(const std::vector<double>& params,
                              const std::vector<std::vector<double>>& inputs,
                              const std::vector<double>& targets, double l2) const {
  const std::vector<LayerParams> layers = unpack(*this, params);
  const Tensor scores = forward(*this, layers, batch(inputs)).reshape({-1});
  const Tensor y = Tensor::from_vector<double>(targets, {int64_t(targets.size())}, kDevice);
  Tensor squares = scalar(0);
  for (const LayerParams& l : layers) squares = squares + (l.weight * l.weight).sum() + (l.bias * l.bias).sum();
  Tensor loss = relu(1.0 - y * scores).mean() + l2 * squares;
  LossAndGrads out{value_of(loss), {}};
  loss.backward();
  out.grads = gradients(layers);
  return out;
}

std::vector<double> initial_parameters(const std::vector<int>& sizes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> params;
  for (size_t l = 1; l < sizes.size(); ++l) {
    const double bound = std::sqrt(6.0 / sizes[l - 1]);
    for (int n = 0; n < sizes[l]; ++n) {
      for (int i = 0; i < sizes[l - 1]; ++i) {
        params.push_back(bound * (2.0 * (static_cast<double>(rng() >> 11) * 0x1.0p-53) - 1.0));
      }
      params.push_back(0.0);
    }
  }
  return params;
}

}  // namespace tensor_oracle
