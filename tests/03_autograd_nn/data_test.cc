// Task 8: the MNIST loader, on small synthetic data sets built by the test (no files needed).
#include <algorithm>
#include <numeric>
#include <random>

#include "ch03/data.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/testing/testing.h"

namespace {

datasets::Mnist synthetic(std::mt19937_64& rng, size_t count) {
  datasets::Mnist m;
  m.images.count = count;
  m.images.rows = m.images.cols = 28;
  m.images.pixels.resize(count * 28 * 28);
  for (uint8_t& p : m.images.pixels) p = static_cast<uint8_t>(rng() % 256);
  for (size_t i = 0; i < count; ++i) m.labels.push_back(static_cast<uint8_t>(rng() % 10));
  return m;
}

std::vector<int64_t> epoch_order(ch03::MnistLoader& loader) {
  loader.new_epoch();
  std::vector<int64_t> order;
  for (int64_t i = 0; i < loader.num_batches(); ++i) {
    const ch03::Batch b = loader.batch(i);
    order.insert(order.end(), b.indices.begin(), b.indices.end());
  }
  return order;
}

TEST(Task8DataLoader, EveryExampleOncePerEpoch) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const size_t count = 50 + rng() % 60;
    const int64_t batch = 1 + rng() % 16;
    const datasets::Mnist data = synthetic(rng, count);
    ch03::MnistLoader loader(data, batch, /*shuffle=*/true, seed);
    ASSERT_EQ(loader.size(), int64_t(count));
    ASSERT_EQ(loader.num_batches(), (int64_t(count) + batch - 1) / batch)
        << count << " examples in batches of " << batch << ": the last batch is smaller, not dropped";
    loader.new_epoch();
    for (int64_t i = 0; i < loader.num_batches(); ++i) {
      const ch03::Batch b = loader.batch(i);
      const int64_t want = std::min<int64_t>(batch, count - i * batch);
      ASSERT_EQ(b.images.shape(), (ch02::Shape{want, 784})) << "batch " << i;
      ASSERT_EQ(int64_t(b.labels.size()), want);
      ASSERT_EQ(int64_t(b.indices.size()), want);
    }
    std::vector<int64_t> order = epoch_order(loader);
    std::sort(order.begin(), order.end());
    std::vector<int64_t> all(count);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(order, all) << "an epoch must visit every example exactly once";
  }
}

TEST(Task8DataLoader, ImagesAreNormalizedPixelsOfTheirExamples) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const datasets::Mnist data = synthetic(rng, 40);
    ch03::MnistLoader loader(data, 16, /*shuffle=*/true, seed);
    loader.new_epoch();
    const ch03::Batch b = loader.batch(1);
    const dense::Dense got = strided_testing::read(b.images);
    dense::Dense want{{int64_t(b.indices.size()), 784}, {}};
    for (size_t r = 0; r < b.indices.size(); ++r) {
      EXPECT_EQ(b.labels[r], data.labels[b.indices[r]]) << "row " << r << " is example " << b.indices[r];
      for (int p = 0; p < 784; ++p) {
        want.values.push_back((data.images.pixels[b.indices[r] * 784 + p] / 255.0 - 0.1307) / 0.3081);
      }
    }
    // A float computation of (p / 255 - 0.1307) / 0.3081: a few ulp of values below 3.
    EXPECT_TRUE(strided_testing::matches(want, got, 1e-6, 1e-6, "batch 1's images"));
  }
}

TEST(Task8DataLoader, ShuffleIsSeededAndNewEachEpoch) {
  std::mt19937_64 rng(testing_util::seeds().front());
  const datasets::Mnist data = synthetic(rng, 64);
  ch03::MnistLoader a(data, 8, true, 5), b(data, 8, true, 5), c(data, 8, true, 6), plain(data, 8, false, 5);
  const std::vector<int64_t> a1 = epoch_order(a), a2 = epoch_order(a);
  EXPECT_EQ(a1, epoch_order(b)) << "the same seed, the same first epoch";
  EXPECT_EQ(a2, epoch_order(b)) << "the same seed, the same second epoch";
  EXPECT_NE(a1, a2) << "each epoch must be shuffled anew";
  EXPECT_NE(a1, epoch_order(c)) << "another seed, another order";
  std::vector<int64_t> in_order(64);
  std::iota(in_order.begin(), in_order.end(), 0);
  EXPECT_EQ(epoch_order(plain), in_order) << "without shuffle: 0, 1, 2, ...";
}

// data.h specifies the order exactly, so that a seed means the same epochs on every machine:
// reset to 0..n-1, then Fisher-Yates from the back, swapping order[i] with order[rng() % (i+1)],
// with one std::mt19937_64(seed) that lives across epochs. Written out here independently of
// any loader; a shuffle that is merely random (another direction, another modulus, no reset)
// gives other orders.
std::vector<int64_t> specified_order(std::mt19937_64& rng, size_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = n - 1; i >= 1; --i) std::swap(order[i], order[rng() % (i + 1)]);
  return order;
}

TEST(Task8DataLoader, ShuffleIsTheSpecifiedFisherYates) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 data_rng(seed);
    const size_t count = 30 + data_rng() % 40;
    const datasets::Mnist data = synthetic(data_rng, count);
    ch03::MnistLoader loader(data, 7, /*shuffle=*/true, seed);
    std::mt19937_64 spec_rng(seed);
    for (int epoch = 1; epoch <= 3; ++epoch) {
      EXPECT_EQ(epoch_order(loader), specified_order(spec_rng, count))
          << "the order of epoch " << epoch << " of " << count << " examples: reset to 0..n-1, then "
          << "for i from n-1 down to 1 swap order[i] with order[rng() % (i + 1)] (data.h)";
    }
  }
}

TEST(Task8DataLoader, BadArgumentsThrow) {
  std::mt19937_64 rng(1);
  const datasets::Mnist data = synthetic(rng, 10);
  EXPECT_THROW(ch03::MnistLoader(data, 0, true, 1), std::invalid_argument) << "batch size 0";
  ch03::MnistLoader loader(data, 4, false, 1);
  loader.new_epoch();
  EXPECT_THROW(loader.batch(3), std::out_of_range) << "batch 3 of 3 (10 examples in 4s)";
  EXPECT_THROW(loader.batch(-1), std::out_of_range);
}

}  // namespace
