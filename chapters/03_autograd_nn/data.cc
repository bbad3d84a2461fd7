#include "ch03/data.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "chapters/course.h"

namespace ch03 {

MnistLoader::MnistLoader(const datasets::Mnist& data, int64_t batch_size, bool shuffle, uint64_t seed)
    : data_(data), batch_size_(batch_size), shuffle_(shuffle), rng_(seed) {
  // TODO(ch03.8): check the arguments; the order starts as 0, 1, 2, ...
  throw course::NotImplemented("ch03.8: MnistLoader::MnistLoader");
}

int64_t MnistLoader::size() const { throw course::NotImplemented("ch03.8: MnistLoader::size"); }

int64_t MnistLoader::num_batches() const {
  throw course::NotImplemented("ch03.8: MnistLoader::num_batches");
}

void MnistLoader::new_epoch() {
  // TODO(ch03.8): reset the order to 0..n-1, then, when shuffling, Fisher-Yates: for i from
  // n-1 down to 1, swap order[i] with order[rng_() % (i + 1)]. (Not std::shuffle: its
  // algorithm differs between standard libraries, and a seed must mean the same order.)
  throw course::NotImplemented("ch03.8: MnistLoader::new_epoch");
}

Batch MnistLoader::batch(int64_t i) const {
  // TODO(ch03.8): examples order[i * batch_size ...], at most batch_size of them; each image's
  // 784 pixels become (pixel / 255 - kMnistMean) / kMnistStd in one row of a (B, 784) tensor.
  throw course::NotImplemented("ch03.8: MnistLoader::batch");
}

}  // namespace ch03
