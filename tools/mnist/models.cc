#include "tools/mnist/models.h"

#include "tinyref/nn/layers.h"

namespace mnist_tool {

namespace {

using tinyref::Tensor;
namespace nn = tinyref::nn;

// torch's `self.layers = nn.Sequential(...)`: the same tensors under "layers.".
class BeautifulMnist : public nn::Module {
 public:
  explicit BeautifulMnist(const std::string& device) {
    const nn::Conv2dOptions conv{.device = device};
    const nn::BatchNorm2dOptions bn{.device = device};
    auto relu = [](const Tensor& x) { return x.relu(); };
    auto pool = [](const Tensor& x) { return nn::max_pool2d(x, 2); };
    layers_.add(std::make_unique<nn::Conv2d>(1, 32, 5, conv)).add("relu", relu);
    layers_.add(std::make_unique<nn::Conv2d>(32, 32, 5, conv)).add("relu", relu);
    layers_.add(std::make_unique<nn::BatchNorm2d>(32, bn)).add("max_pool2d", pool);
    layers_.add(std::make_unique<nn::Conv2d>(32, 64, 3, conv)).add("relu", relu);
    layers_.add(std::make_unique<nn::Conv2d>(64, 64, 3, conv)).add("relu", relu);
    layers_.add(std::make_unique<nn::BatchNorm2d>(64, bn)).add("max_pool2d", pool);
    layers_.add("flatten", [](const Tensor& x) { return nn::flatten(x); });
    layers_.add(std::make_unique<nn::Linear>(576, 10, nn::LinearOptions{.device = device}));
  }
  Tensor forward(const Tensor& x) override { return layers_(x); }
  void train(bool on) override {
    Module::train(on);
    layers_.train(on);
  }
  void collect(const std::string& prefix, bool params, bool buffers, nn::NamedTensors* out) const override {
    layers_.collect(prefix + "layers.", params, buffers, out);
  }

 private:
  nn::Sequential layers_;
};

}  // namespace

std::unique_ptr<nn::Module> make_model(const std::string& model, const std::string& device) {
  if (model == "cnn") return std::make_unique<BeautifulMnist>(device);
  TT_CHECK(model == "mlp", "mnist: unknown model '" << model << "' (cnn or mlp)");
  auto mlp = std::make_unique<nn::Sequential>();
  const nn::LinearOptions linear{.device = device};
  mlp->add(std::make_unique<nn::Linear>(784, 128, linear));
  mlp->add("relu", [](const Tensor& x) { return x.relu(); });
  mlp->add(std::make_unique<nn::Linear>(128, 10, linear));
  return mlp;
}

}  // namespace mnist_tool
