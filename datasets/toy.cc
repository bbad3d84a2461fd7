#include "datasets/toy.h"

#include <cmath>
#include <numbers>
#include <random>
#include <utility>

#include "tinyref/error.h"

namespace datasets {
namespace {

// 53 random bits scaled into [0, 1): every double it returns is exact, on any platform.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Box-Muller. 1 - u keeps log's argument in (0, 1], so no -inf.
double standard_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - uniform01(rng);
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// Uniform in [0, bound) without modulo bias (rejection of the top partial range).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t draw;
  do draw = rng(); while (draw >= limit);
  return draw % bound;
}

// Noise, then a Fisher-Yates shuffle (std::shuffle's sequence is implementation-defined too).
void add_noise_and_shuffle(ToySet& set, double noise, std::mt19937_64& rng) {
  for (auto& point : set.points) {
    point[0] += noise * standard_normal(rng);
    point[1] += noise * standard_normal(rng);
  }
  for (size_t i = set.points.size(); i > 1; --i) {
    const size_t j = uniform_below(rng, i);
    std::swap(set.points[i - 1], set.points[j]);
    std::swap(set.labels[i - 1], set.labels[j]);
  }
}

// i-th of `count` evenly spaced values from 0 to `end` inclusive, as numpy's linspace.
double linspace(int i, int count, double end) {
  return count == 1 ? 0.0 : end * i / (count - 1);
}

}  // namespace

ToySet make_moons(int n, double noise, uint64_t seed) {
  TT_CHECK(n >= 0, "make_moons: n must be >= 0, got " << n);
  TT_CHECK(noise >= 0, "make_moons: noise must be >= 0, got " << noise);
  ToySet set;
  const int upper = n / 2, lower = n - upper;
  for (int i = 0; i < upper; ++i) {
    const double t = linspace(i, upper, std::numbers::pi);
    set.points.push_back({std::cos(t), std::sin(t)});
    set.labels.push_back(0);
  }
  for (int i = 0; i < lower; ++i) {
    const double t = linspace(i, lower, std::numbers::pi);
    set.points.push_back({1.0 - std::cos(t), 0.5 - std::sin(t)});
    set.labels.push_back(1);
  }
  std::mt19937_64 rng(seed);
  add_noise_and_shuffle(set, noise, rng);
  return set;
}

ToySet make_spirals(int n_per_class, int classes, double noise, uint64_t seed) {
  TT_CHECK(n_per_class >= 0, "make_spirals: n_per_class must be >= 0, got " << n_per_class);
  TT_CHECK(classes >= 1, "make_spirals: classes must be >= 1, got " << classes);
  TT_CHECK(noise >= 0, "make_spirals: noise must be >= 0, got " << noise);
  constexpr double kTurn = 4.0;  // radians each arm turns on its way out
  ToySet set;
  for (int k = 0; k < classes; ++k) {
    for (int i = 0; i < n_per_class; ++i) {
      const double radius = linspace(i, n_per_class, 1.0);
      const double angle = 2.0 * std::numbers::pi * k / classes + linspace(i, n_per_class, kTurn);
      set.points.push_back({radius * std::sin(angle), radius * std::cos(angle)});
      set.labels.push_back(k);
    }
  }
  std::mt19937_64 rng(seed);
  add_noise_and_shuffle(set, noise, rng);
  return set;
}

}  // namespace datasets
