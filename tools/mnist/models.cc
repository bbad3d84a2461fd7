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
    const auto f32 = tinyref::DType::kFloat32;
    auto relu = [](const Tensor& x) { return x.relu(); };
    auto pool = [](const Tensor& x) { return nn::max_pool2d(x, 2); };
    layers_.add(std::make_unique<nn::Conv2d>(1, 32, 5, 1, 0, 1, 1, true, f32, device)).add("relu", relu);
    layers_.add(std::make_unique<nn::Conv2d>(32, 32, 5, 1, 0, 1, 1, true, f32, device)).add("relu", relu);
    layers_.add(std::make_unique<nn::BatchNorm2d>(32, 1e-5, 0.1, true, f32, device)).add("max_pool2d", pool);
    layers_.add(std::make_unique<nn::Conv2d>(32, 64, 3, 1, 0, 1, 1, true, f32, device)).add("relu", relu);
    layers_.add(std::make_unique<nn::Conv2d>(64, 64, 3, 1, 0, 1, 1, true, f32, device)).add("relu", relu);
    layers_.add(std::make_unique<nn::BatchNorm2d>(64, 1e-5, 0.1, true, f32, device)).add("max_pool2d", pool);
    layers_.add("flatten", [](const Tensor& x) { return nn::flatten(x); });
    layers_.add(std::make_unique<nn::Linear>(576, 10, true, f32, device));
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
  const auto f32 = tinyref::DType::kFloat32;
  mlp->add(std::make_unique<nn::Linear>(784, 128, true, f32, device));
  mlp->add("relu", [](const Tensor& x) { return x.relu(); });
  mlp->add(std::make_unique<nn::Linear>(128, 10, true, f32, device));
  return mlp;
}

}  // namespace mnist_tool
