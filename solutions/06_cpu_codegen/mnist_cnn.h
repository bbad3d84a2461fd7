// The milestone: tinygrad's beautiful_mnist, trained by the framework you wrote. Chapter 4's
// tensors and layers build each step's graph, chapter 5's FusedEngine cuts it into kernels and
// chapter 6's CpuRunner compiles and runs them.
//
//   datasets::Mnist train = datasets::load_mnist("train"), test = datasets::load_mnist("test");
//   ch06::CnnResult r = ch06::train_cnn(train, test, ch06::CnnConfig{});   // 70 steps of 512
//   r.test_accuracy   // at least 0.98
//
// The model (tools/mnist's, and bench/anchors/torch_mnist.py's):
//   Conv 1-32 5x5, ReLU, Conv 32-32 5x5, ReLU, BatchNorm, maxpool 2,
//   Conv 32-64 3x3, ReLU, Conv 64-64 3x3, ReLU, BatchNorm, maxpool 2, flatten, Linear 576-10
// on raw pixels (0..255), Adam 1e-3, batches of 512 drawn with replacement.
#ifndef CH06_MNIST_CNN_H_
#define CH06_MNIST_CNN_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "ch04/nn.h"
#include "ch04/tensor.h"
#include "ch06/optimize.h"
#include "datasets/mnist.h"

namespace ch06 {

class BeautifulMnist {
 public:
  BeautifulMnist();  // initialized from ch04::Tensor's global generator (seed it first)
  // ch06.12: logits (N, 10) of images (N, 1, 28, 28).
  ch04::Tensor operator()(const ch04::Tensor& images);
  std::vector<ch04::Tensor> parameters() const;
  std::vector<ch04::Tensor> buffers() const;  // the BatchNorms' running statistics
  void train(bool on);                        // BatchNorm: batch statistics, or running ones

  ch04::nn::Conv2d conv1, conv2;
  ch04::nn::BatchNorm2d bn1;
  ch04::nn::Conv2d conv3, conv4;
  ch04::nn::BatchNorm2d bn2;
  ch04::nn::Linear fc;
};

struct CnnConfig {
  int steps = 70;
  int batch = 512;
  double lr = 1e-3;
  uint64_t seed = 0;           // the initialization (Tensor::manual_seed) and the batches;
                               // 0 is tools/mnist's default, where tinyref reaches 98.39%
  int eval_images = 0;         // test images for the final accuracy; 0: all 10,000
  OptimizeOptions options;     // the CpuRunner's
};

struct CnnStep {
  int step = 0;
  double loss = 0;
  double seconds = 0;
};

struct CnnResult {
  double test_accuracy = 0;
  double final_loss = 0;
  std::vector<double> step_seconds;
  double eval_seconds = 0;
  int64_t kernels_compiled = 0;  // distinct kernels the CpuRunner compiled (training and evaluation)
};

// ch06.12: trains a fresh BeautifulMnist on the FusedEngine with a CpuRunner(config.options)
// (installed for the call, the previous engine restored after), then measures the test accuracy
// in evaluation mode, in batches, without gradients. on_step is called after every step.
CnnResult train_cnn(const datasets::Mnist& train, const datasets::Mnist& test, const CnnConfig& config,
                    const std::function<void(const CnnStep&)>& on_step = {});

// ch06.12: the fraction of the first `images` test images (0: all) the model classifies right,
// in evaluation mode, without gradients, in batches of 1000, on the engine installed now. The
// model is back in training mode afterwards.
double evaluate_cnn(BeautifulMnist& model, const datasets::Mnist& test, int images = 0);

}  // namespace ch06

#endif  // CH06_MNIST_CNN_H_
