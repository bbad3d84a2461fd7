#include "ch03/data.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace ch03 {

MnistLoader::MnistLoader(const datasets::Mnist& data, int64_t batch_size, bool shuffle, uint64_t seed)
    : data_(data), batch_size_(batch_size), shuffle_(shuffle), rng_(seed) {
  if (batch_size < 1) {
    throw std::invalid_argument("MnistLoader: batch size " + std::to_string(batch_size));
  }
  if (data.images.count == 0 || data.labels.size() != data.images.count) {
    throw std::invalid_argument("MnistLoader: " + std::to_string(data.images.count) + " images and " +
                                std::to_string(data.labels.size()) + " labels");
  }
  order_.resize(data.images.count);
  std::iota(order_.begin(), order_.end(), 0);
}

int64_t MnistLoader::size() const { return static_cast<int64_t>(data_.images.count); }

int64_t MnistLoader::num_batches() const { return (size() + batch_size_ - 1) / batch_size_; }

void MnistLoader::new_epoch() {
  std::iota(order_.begin(), order_.end(), 0);
  if (!shuffle_) return;
  // Fisher-Yates: every permutation equally likely. rng_() % (i + 1) rather than std::shuffle,
  // whose algorithm differs between standard libraries: a seed must mean the same order
  // everywhere. (The modulo bias is below 1e-14 for 60000 examples.)
  for (size_t i = order_.size(); i-- > 1;) {
    std::swap(order_[i], order_[rng_() % (i + 1)]);
  }
}

Batch MnistLoader::batch(int64_t i) const {
  if (i < 0 || i >= num_batches()) {
    throw std::out_of_range("MnistLoader::batch: " + std::to_string(i) + " of " +
                            std::to_string(num_batches()) + " batches");
  }
  const int64_t first = i * batch_size_, count = std::min(batch_size_, size() - first);
  const int64_t pixels = static_cast<int64_t>(data_.images.rows * data_.images.cols);
  Batch out;
  std::vector<float> images(count * pixels);
  for (int64_t b = 0; b < count; ++b) {
    const int64_t example = order_[first + b];
    const uint8_t* src = data_.images.pixels.data() + example * pixels;
    for (int64_t p = 0; p < pixels; ++p) {
      images[b * pixels + p] = (src[p] / 255.0f - kMnistMean) / kMnistStd;
    }
    out.labels.push_back(data_.labels[example]);
    out.indices.push_back(example);
  }
  out.images = ch02::FloatTensor::from_vector({count, pixels}, std::move(images));
  return out;
}

}  // namespace ch03
