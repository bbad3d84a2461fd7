// The two models `./course mnist` trains, named like their PyTorch twins in
// bench/anchors/torch_mnist.py, so a checkpoint written here loads into those modules.
//
//   auto model = mnist_tool::make_model("cnn", "CPU");   // tinygrad's beautiful_mnist
//   Tensor logits = (*model)(images);                    // images (N, 1, 28, 28) -> (N, 10)
//   model->state()   // "layers.0.weight", ..., "layers.4.running_mean", ..., "layers.13.bias"
//
// cnn: Conv 1-32 5x5, ReLU, Conv 32-32 5x5, ReLU, BatchNorm, maxpool 2, Conv 32-64 3x3, ReLU,
//      Conv 64-64 3x3, ReLU, BatchNorm, maxpool 2, flatten, Linear 576-10 (87,850 parameters).
// mlp: Linear 784-128, ReLU, Linear 128-10 (101,770 parameters); takes (N, 784).
#ifndef TOOLS_MNIST_MODELS_H_
#define TOOLS_MNIST_MODELS_H_

#include <memory>
#include <string>

#include "tinyref/nn/module.h"

namespace mnist_tool {

// model: "cnn" or "mlp"; throws tinyref::Error for anything else.
std::unique_ptr<tinyref::nn::Module> make_model(const std::string& model, const std::string& device);

}  // namespace mnist_tool

#endif  // TOOLS_MNIST_MODELS_H_
