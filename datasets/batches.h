// Feeding a training loop: seeded shuffling and batches gathered straight from the uint8
// images, normalized on the way. Nothing copies the whole set: one epoch's permutation is an
// index vector, and a step touches only its own batch's rows.
//
//   datasets::Mnist train = datasets::load_mnist("train");
//   datasets::EpochSampler sampler(train.labels.size(), /*batch=*/64, /*seed=*/0);
//   datasets::Batch batch;
//   while (sampler.next(&batch.indices)) {
//     datasets::gather(train, batch.indices, datasets::kMnistNormalization, &batch);
//     // batch.images: 64 x 784 floats, (pixel/255 - 0.1307) / 0.3081; batch.labels: 64 ints
//   }
//
// The random numbers come from std::mt19937_64 with our own Fisher-Yates and bounded draws:
// std::shuffle and std::uniform_int_distribution are implementation-defined, and a seed must
// give the same batches with every standard library.
#ifndef DATASETS_BATCHES_H_
#define DATASETS_BATCHES_H_

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "datasets/mnist.h"

namespace datasets {

// pixel in 0..255 -> (pixel / 255 - mean) / stddev.
struct Normalization {
  float mean = 0.0f;
  float stddev = 1.0f;
};

// MNIST's training-set statistics, as PyTorch's examples use.
inline constexpr Normalization kMnistNormalization{0.1307f, 0.3081f};

struct Batch {
  std::vector<uint32_t> indices;
  std::vector<float> images;    // indices.size() x (rows*cols), row-major
  std::vector<int32_t> labels;  // indices.size()
};

// A uniform draw from 0..n-1 without modulo bias, identical on every standard library.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n);

// Epochs over n items in a fresh seeded permutation each; every item once per epoch.
class EpochSampler {
 public:
  // drop_last: leave out the final partial batch of each epoch.
  EpochSampler(size_t n, size_t batch_size, uint64_t seed, bool drop_last = false);

  // The next batch's indices; false (and `indices` empty) once the epoch is over, after which
  // the following call starts the next epoch with a new permutation.
  bool next(std::vector<uint32_t>* indices);

  size_t batches_per_epoch() const;
  int epoch() const { return epoch_; }

 private:
  void shuffle();
  size_t batch_size_;
  bool drop_last_;
  std::mt19937_64 rng_;
  std::vector<uint32_t> order_;
  size_t position_ = 0;
  int epoch_ = 0;
};

// batch_size indices drawn with replacement (tinygrad's beautiful_mnist samples this way).
void random_indices(std::mt19937_64& rng, size_t n, size_t batch_size,
                    std::vector<uint32_t>* indices);

// Fills batch->images and batch->labels for `indices`; throws tinyref::Error naming the index
// when one is out of range.
void gather(const Mnist& set, std::span<const uint32_t> indices, Normalization norm, Batch* batch);

}  // namespace datasets

#endif  // DATASETS_BATCHES_H_
