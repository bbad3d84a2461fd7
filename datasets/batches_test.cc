#include "datasets/batches.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace datasets {
namespace {

// A tiny stand-in for MNIST: image i has every pixel equal to i, label i % 10.
Mnist fake_set(size_t count, size_t side) {
  Mnist set;
  set.images.count = count;
  set.images.rows = set.images.cols = side;
  for (size_t i = 0; i < count; ++i) {
    set.images.pixels.insert(set.images.pixels.end(), side * side, static_cast<uint8_t>(i));
    set.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return set;
}

TEST(EpochSamplerTest, EveryItemOncePerEpochInANewOrder) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    EpochSampler sampler(103, 10, seed);
    EXPECT_EQ(sampler.batches_per_epoch(), 11u);
    std::vector<uint32_t> batch, first_epoch, second_epoch;
    while (sampler.next(&batch)) first_epoch.insert(first_epoch.end(), batch.begin(), batch.end());
    EXPECT_EQ(sampler.epoch(), 1);
    while (sampler.next(&batch)) second_epoch.insert(second_epoch.end(), batch.begin(), batch.end());
    for (auto* epoch : {&first_epoch, &second_epoch}) {
      ASSERT_EQ(epoch->size(), 103u);
      std::vector<uint32_t> sorted = *epoch;
      std::sort(sorted.begin(), sorted.end());
      for (uint32_t i = 0; i < 103; ++i) ASSERT_EQ(sorted[i], i);
    }
    EXPECT_NE(first_epoch, second_epoch);
  }
}

TEST(EpochSamplerTest, SameSeedSameBatchesAndDropLast) {
  EpochSampler a(50, 8, 7, /*drop_last=*/true), b(50, 8, 7, true), c(50, 8, 8, true);
  std::vector<uint32_t> ba, bb, bc;
  int batches = 0;
  bool differs = false;
  while (a.next(&ba)) {
    ASSERT_TRUE(b.next(&bb));
    ASSERT_TRUE(c.next(&bc));
    EXPECT_EQ(ba, bb);
    EXPECT_EQ(ba.size(), 8u);
    differs |= ba != bc;
    ++batches;
  }
  EXPECT_EQ(batches, 6);  // 50 / 8, the last 2 items dropped
  EXPECT_TRUE(differs) << "another seed gives other batches";
}

TEST(EpochSamplerTest, BadArgumentsAreErrors) {
  EXPECT_THROW(EpochSampler(10, 0, 1), tinyref::Error);
  EXPECT_THROW(EpochSampler(0, 4, 1), tinyref::Error);
  EXPECT_THROW(EpochSampler(3, 4, 1, true), tinyref::Error);
}

TEST(RandomIndicesTest, UniformWithinRange) {
  std::mt19937_64 rng(3);
  std::vector<uint32_t> indices;
  std::vector<int> counts(10);
  for (int step = 0; step < 2000; ++step) {
    random_indices(rng, 10, 50, &indices);
    for (uint32_t i : indices) counts.at(i)++;
  }
  // 100000 draws over 10 values: each count is 10000 +- 95 (one sigma); 6 sigma is generous.
  for (int c : counts) EXPECT_NEAR(c, 10000, 600);
}

TEST(GatherTest, NormalizesTheChosenRows) {
  const Mnist set = fake_set(20, 3);
  Batch batch;
  const std::vector<uint32_t> indices = {4, 19, 0};
  gather(set, indices, {0.5f, 0.25f}, &batch);
  ASSERT_EQ(batch.images.size(), 27u);
  for (size_t b = 0; b < 3; ++b) {
    const double expected = (indices[b] / 255.0 - 0.5) / 0.25;
    for (size_t p = 0; p < 9; ++p) {
      EXPECT_TRUE(testing_util::close(expected, batch.images[b * 9 + p], 1e-6, 1e-6, "pixel"));
    }
    EXPECT_EQ(batch.labels[b], static_cast<int32_t>(indices[b] % 10));
  }
}

TEST(GatherTest, OutOfRangeIndexIsAnError) {
  const Mnist set = fake_set(5, 2);
  Batch batch;
  const std::vector<uint32_t> indices = {1, 5};
  try {
    gather(set, indices, kMnistNormalization, &batch);
    FAIL() << "expected an error";
  } catch (const tinyref::Error& e) {
    EXPECT_NE(std::string(e.what()).find("index 5"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace datasets
