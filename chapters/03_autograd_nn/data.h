// Mini-batches of MNIST for training: shuffled once per epoch, pixels normalized.
//
//   datasets::Mnist train = datasets::load_mnist("train");
//   ch03::MnistLoader loader(train, /*batch_size=*/64, /*shuffle=*/true, /*seed=*/1);
//   for (int epoch = 0; epoch < 3; ++epoch) {
//     loader.new_epoch();                              // a fresh order
//     for (int64_t i = 0; i < loader.num_batches(); ++i) {
//       ch03::Batch b = loader.batch(i);               // b.images (64, 784), b.labels, b.indices
//       ...
//     }
//   }
//
// The loader keeps a reference to the data set: keep the Mnist alive as long as the loader.
#ifndef CH03_DATA_H_
#define CH03_DATA_H_

#include <cstdint>
#include <random>
#include <vector>

#include "ch02/tensor.h"
#include "datasets/mnist.h"

namespace ch03 {

// The mean and standard deviation of MNIST's training pixels (scaled to [0, 1]): inputs
// centred and scaled this way let the same learning rate work for every layer.
inline constexpr float kMnistMean = 0.1307f;
inline constexpr float kMnistStd = 0.3081f;

struct Batch {
  ch02::FloatTensor images;      // (B, 784): (pixel / 255 - kMnistMean) / kMnistStd
  std::vector<int> labels;       // B class ids
  std::vector<int64_t> indices;  // which examples of the data set, in batch order
};

// ch03.8
class MnistLoader {
 public:
  // Throws std::invalid_argument for batch_size < 1 or an empty data set.
  MnistLoader(const datasets::Mnist& data, int64_t batch_size, bool shuffle, uint64_t seed);

  int64_t size() const;         // examples in the data set
  int64_t num_batches() const;  // ceil(size / batch_size): the last batch may be smaller

  // Starts the next epoch: with shuffle, a new random order of all examples (Fisher-Yates
  // driven by the seeded generator, so a seed fixes every epoch's order); without, 0, 1, 2, ...
  void new_epoch();

  // Batch i of the current epoch (0 <= i < num_batches(), else std::out_of_range).
  Batch batch(int64_t i) const;

 private:
  const datasets::Mnist& data_;
  int64_t batch_size_;
  bool shuffle_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
};

}  // namespace ch03

#endif  // CH03_DATA_H_
