#include "tinyref/nn/optim.h"

#include <cmath>
#include <map>
#include <utility>

namespace tinyref::nn {

namespace {

// A realized zero tensor like p: optimizer state starts as a buffer, not a constant, so the
// first step's kernels are the same as every later step's.
Tensor zeros_like(const Tensor& p) { return Tensor::zeros(p.shape(), p.dtype(), p.device()).contiguous().realize(); }

// A realized one-element float64 buffer holding v on p's device.
Tensor scalar_buffer(double v, const Tensor& p) { return Tensor::from_vector(std::vector<double>{v}, {}, p.device()); }

}  // namespace

Optimizer::Optimizer(const NamedTensors& params) : lr(0) {
  for (const auto& [name, p] : params) {
    TT_CHECK(p.defined() && is_float(p.dtype()),
             "optimizer: parameter \"" << name << "\" is " << (p.defined() ? dtype_name(p.dtype()) : "undefined")
                                       << "; only float tensors can be optimized");
    TT_CHECK(p.requires_grad(), "optimizer: parameter \"" << name
                                                          << "\" does not require grad (call requires_grad_())");
    params_.push_back(p);
  }
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

std::vector<Tensor> Optimizer::schedule_step() {
  NoGradGuard no_grad;
  ++steps_;
  std::vector<Tensor> touched;
  begin_step(&touched);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    update(i, g.detach(), &touched);
    touched.push_back(params_[i]);
  }
  return touched;
}

void Optimizer::step(const std::vector<Tensor>& also, const NamedTensors& also_named) {
  std::vector<Tensor> all = schedule_step();
  all.insert(all.end(), also.begin(), also.end());
  for (const auto& [name, t] : also_named) all.push_back(t);
  realize_all(all);
}

// ---------------------------------------------------------------- SGD

SGD::SGD(const NamedTensors& params, double lr_, double momentum_, double weight_decay_, bool nesterov_,
         double dampening_)
    : Optimizer(params), momentum(momentum_), weight_decay(weight_decay_), dampening(dampening_),
      nesterov(nesterov_) {
  TT_CHECK(lr_ >= 0 && momentum >= 0 && weight_decay >= 0,
           "SGD: lr, momentum and weight_decay must be >= 0, got " << lr_ << ", " << momentum << ", " << weight_decay);
  TT_CHECK(!nesterov || (momentum > 0 && dampening == 0), "SGD: nesterov needs momentum > 0 and no dampening");
  lr = lr_;
  buf_.resize(params_.size());
}

void SGD::update(size_t i, const Tensor& grad, std::vector<Tensor>* touched) {
  Tensor& p = params_[i];
  Tensor g = weight_decay != 0 ? grad + weight_decay * p : grad;
  if (momentum != 0) {
    // torch.optim.SGD starts the buffer at the first gradient, undamped.
    Tensor b = buf_[i].defined() ? momentum * buf_[i] + (1 - dampening) * g : g;
    if (buf_[i].defined()) {
      buf_[i].assign(b);
    } else {
      buf_[i] = b;
    }
    touched->push_back(buf_[i]);
    g = nesterov ? g + momentum * buf_[i] : buf_[i];
  }
  p.assign(p - lr * g);
}

// ---------------------------------------------------------------- Adam

Adam::Adam(const NamedTensors& params, double lr_, double beta1_, double beta2_, double eps_, double weight_decay_)
    : Optimizer(params), beta1(beta1_), beta2(beta2_), eps(eps_), weight_decay(weight_decay_) {
  TT_CHECK(lr_ >= 0 && beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps >= 0 && weight_decay >= 0,
           "Adam: needs lr >= 0, betas in [0, 1), eps >= 0, weight_decay >= 0; got lr " << lr_ << ", betas ("
                                                                                       << beta1 << ", " << beta2
                                                                                       << "), eps " << eps);
  lr = lr_;
  for (const Tensor& p : params_) {
    m_.push_back(zeros_like(p));
    v_.push_back(zeros_like(p));
    if (powers_.count(p.device()) == 0) {
      powers_.emplace(p.device(), std::make_pair(scalar_buffer(1, p), scalar_buffer(1, p)));
    }
  }
}

void Adam::begin_step(std::vector<Tensor>* touched) {
  // torch computes 1 - beta^t in double on the host. Here beta^t is a running product in
  // float64 on the device, so that the step needs no host value (a replayed step runs no host
  // code): it drifts from pow(beta, t) by about t ulps of double, far below float32's rounding.
  for (auto& [device, powers] : powers_) {
    powers.first.assign(powers.first * beta1);
    powers.second.assign(powers.second * beta2);
    touched->push_back(powers.first);
    touched->push_back(powers.second);
  }
  corrections_.clear();
  for (const Tensor& p : params_) {
    auto key = std::make_pair(p.dtype(), p.device());
    if (corrections_.count(key) > 0) continue;
    const auto& [b1t, b2t] = powers_.at(p.device());
    corrections_.emplace(key, std::make_pair((1.0 / (1.0 - b1t)).cast(p.dtype()),
                                             (1.0 / (1.0 - b2t).sqrt()).cast(p.dtype())));
  }
}

void Adam::update(size_t i, const Tensor& grad, std::vector<Tensor>* touched) {
  Tensor& p = params_[i];
  const auto& [inv_c1, inv_sqrt_c2] = corrections_.at({p.dtype(), p.device()});
  Tensor g = weight_decay != 0 ? grad + weight_decay * p : grad;
  m_[i].assign(beta1 * m_[i] + (1 - beta1) * g);
  v_[i].assign(beta2 * v_[i] + (1 - beta2) * (g * g));
  touched->push_back(m_[i]);
  touched->push_back(v_[i]);
  p.assign(p - lr * (m_[i] * inv_c1) / (v_[i].sqrt() * inv_sqrt_c2 + eps));
}

}  // namespace tinyref::nn
