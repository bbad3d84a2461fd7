#include "datasets/batches.h"

#include <algorithm>
#include <numeric>

#include "tinyref/error.h"

namespace datasets {

uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  TT_ASSERT(n > 0);
  // Reject the top sliver of the 64-bit range that would make small values more likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t draw;
  do draw = rng(); while (draw >= limit);
  return draw % n;
}

EpochSampler::EpochSampler(size_t n, size_t batch_size, uint64_t seed, bool drop_last)
    : batch_size_(batch_size), drop_last_(drop_last), rng_(seed), order_(n) {
  TT_CHECK(batch_size > 0, "EpochSampler: batch size must be positive");
  TT_CHECK(n > 0, "EpochSampler: the data set is empty");
  TT_CHECK(!drop_last || batch_size <= n, "EpochSampler: batch size " << batch_size
                                              << " is larger than the " << n
                                              << " items and drop_last leaves no batch");
  std::iota(order_.begin(), order_.end(), 0u);
  shuffle();
}

void EpochSampler::shuffle() {
  for (size_t i = order_.size() - 1; i > 0; --i) {
    std::swap(order_[i], order_[uniform_below(rng_, i + 1)]);
  }
}

size_t EpochSampler::batches_per_epoch() const {
  return drop_last_ ? order_.size() / batch_size_ : (order_.size() + batch_size_ - 1) / batch_size_;
}

bool EpochSampler::next(std::vector<uint32_t>* indices) {
  const size_t remaining = order_.size() - position_;
  if (remaining == 0 || (drop_last_ && remaining < batch_size_)) {
    indices->clear();
    position_ = 0;
    ++epoch_;
    shuffle();
    return false;
  }
  const size_t take = std::min(batch_size_, remaining);
  indices->assign(order_.begin() + static_cast<long>(position_),
                  order_.begin() + static_cast<long>(position_ + take));
  position_ += take;
  return true;
}

void random_indices(std::mt19937_64& rng, size_t n, size_t batch_size,
                    std::vector<uint32_t>* indices) {
  TT_CHECK(n > 0, "random_indices: the data set is empty");
  indices->resize(batch_size);
  for (auto& index : *indices) index = static_cast<uint32_t>(uniform_below(rng, n));
}

void gather(const Mnist& set, std::span<const uint32_t> indices, Normalization norm, Batch* batch) {
  const size_t pixels = set.images.rows * set.images.cols;
  batch->indices.assign(indices.begin(), indices.end());
  batch->images.resize(indices.size() * pixels);
  batch->labels.resize(indices.size());
  // One multiply-add per pixel: (p/255 - mean)/std = p * scale + shift.
  const float scale = 1.0f / (255.0f * norm.stddev), shift = -norm.mean / norm.stddev;
  for (size_t b = 0; b < indices.size(); ++b) {
    const size_t i = indices[b];
    TT_CHECK(i < set.labels.size(), "gather: index " << i << " (batch position " << b
                                                     << ") is outside the " << set.labels.size()
                                                     << " items of the set");
    const uint8_t* src = set.images.pixels.data() + i * pixels;
    float* dst = batch->images.data() + b * pixels;
    for (size_t p = 0; p < pixels; ++p) dst[p] = src[p] * scale + shift;
    batch->labels[b] = set.labels[i];
  }
}

}  // namespace datasets
