#include "datasets/toy.h"

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace datasets {
namespace {

std::vector<int> count_labels(const ToySet& set, int classes) {
  std::vector<int> counts(classes, 0);
  for (int label : set.labels) {
    EXPECT_GE(label, 0);
    EXPECT_LT(label, classes);
    if (label >= 0 && label < classes) ++counts[label];
  }
  return counts;
}

bool same_points(const ToySet& a, const ToySet& b) {
  return a.points == b.points && a.labels == b.labels;
}

TEST(ToyMoons, SizesAndBalancedLabels) {
  for (int n : {0, 1, 2, 7, 100, 101}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const ToySet set = make_moons(n, 0.1, 1);
    ASSERT_EQ(set.points.size(), static_cast<size_t>(n));
    ASSERT_EQ(set.labels.size(), static_cast<size_t>(n));
    const std::vector<int> counts = count_labels(set, 2);
    EXPECT_EQ(counts[0], n / 2);
    EXPECT_EQ(counts[1], n - n / 2);
  }
}

TEST(ToyMoons, DeterministicPerSeedAndSeedsDiffer) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    EXPECT_TRUE(same_points(make_moons(50, 0.1, seed), make_moons(50, 0.1, seed)));
    EXPECT_FALSE(same_points(make_moons(50, 0.1, seed), make_moons(50, 0.1, seed + 1)));
  }
}

TEST(ToyMoons, PointsLieOnTheirMoons) {
  const ToySet set = make_moons(10, 0.0, 42);
  const ToySet noisy = make_moons(10, 0.1, 42);
  // Without noise every point lies exactly on its moon.
  for (size_t i = 0; i < set.points.size(); ++i) {
    const auto [x, y] = set.points[i];
    const double cx = set.labels[i] == 0 ? 0.0 : 1.0, cy = set.labels[i] == 0 ? 0.0 : 0.5;
    EXPECT_NEAR(std::hypot(x - cx, y - cy), 1.0, 1e-12) << "point " << i;
    EXPECT_TRUE(set.labels[i] == 0 ? y >= -1e-12 : y <= 0.5 + 1e-12) << "point " << i;
  }
  // With noise, the same shuffle (same labels order) and points within a few sigma.
  EXPECT_EQ(noisy.labels, set.labels);
  for (size_t i = 0; i < set.points.size(); ++i) {
    EXPECT_NEAR(noisy.points[i][0], set.points[i][0], 0.6);
    EXPECT_NEAR(noisy.points[i][1], set.points[i][1], 0.6);
  }
}

// The one stored expectation in this file, because nothing else can compute it: the data a
// seed gives must be the same for the student and the grader on any compiler and library.
// A change of engine, transform or shuffle moves these by whole units; the 1e-12 leaves room
// for a libm whose cos or log differs in the last bit.
TEST(ToyMoons, SeedGivesTheSamePointsEverywhere) {
  const ToySet set = make_moons(4, 0.1, 42);
  const std::vector<std::array<double, 2>> expected = {
      {0.89228254557217113, 0.10945198485006108},
      {-0.82052683342048283, -0.091212515564413982},
      {1.9011302952852829, 0.6763929921112557},
      {-0.061730835003414468, 0.4843886664975105}};
  EXPECT_EQ(set.labels, (std::vector<int>{0, 0, 1, 1}));
  ASSERT_EQ(set.points.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(set.points[i][0], expected[i][0], 1e-12) << "point " << i;
    EXPECT_NEAR(set.points[i][1], expected[i][1], 1e-12) << "point " << i;
  }
}

TEST(ToyMoons, NoiseHasTheRequestedSpread) {
  const double noise = 0.2;
  const int n = 20000;
  const ToySet clean = make_moons(n, 0.0, 3), noisy = make_moons(n, noise, 3);
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < 2; ++c) {
      const double d = noisy.points[i][c] - clean.points[i][c];
      sum += d;
      sum_sq += d * d;
    }
  }
  const double mean = sum / (2 * n), stddev = std::sqrt(sum_sq / (2 * n) - mean * mean);
  // 40000 draws: the sample mean's standard error is 0.2/200 = 0.001, the stddev's about
  // 0.0007; 5 standard errors leave no room for flakes and none for a wrong transform.
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(stddev, noise, 0.0035);
}

TEST(ToySpirals, SizesAndBalancedLabels) {
  for (int classes : {1, 2, 3, 5}) {
    SCOPED_TRACE("classes = " + std::to_string(classes));
    const ToySet set = make_spirals(40, classes, 0.05, 9);
    ASSERT_EQ(set.points.size(), static_cast<size_t>(40 * classes));
    ASSERT_EQ(set.labels.size(), set.points.size());
    for (int count : count_labels(set, classes)) EXPECT_EQ(count, 40);
    for (const auto& [x, y] : set.points) EXPECT_LT(std::hypot(x, y), 1.5);
  }
}

TEST(ToySpirals, DeterministicPerSeedAndSeedsDiffer) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    EXPECT_TRUE(same_points(make_spirals(30, 3, 0.1, seed), make_spirals(30, 3, 0.1, seed)));
    EXPECT_FALSE(same_points(make_spirals(30, 3, 0.1, seed), make_spirals(30, 3, 0.1, seed + 1)));
  }
}

TEST(ToySets, BadArgumentsThrow) {
  EXPECT_THROW(make_moons(-1, 0.1, 1), tinyref::Error);
  EXPECT_THROW(make_moons(10, -0.1, 1), tinyref::Error);
  EXPECT_THROW(make_spirals(-1, 3, 0.1, 1), tinyref::Error);
  EXPECT_THROW(make_spirals(10, 0, 0.1, 1), tinyref::Error);
  EXPECT_THROW(make_spirals(10, 3, -0.1, 1), tinyref::Error);
}

}  // namespace
}  // namespace datasets
