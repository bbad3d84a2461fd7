// Seeded 2-D toy classification sets for the first chapters: two interleaved half moons, and
// K interleaved spiral arms. Same seed, same points, on every compiler and standard library.
//
//   datasets::ToySet moons = datasets::make_moons(/*n=*/100, /*noise=*/0.1, /*seed=*/7);
//   moons.points[0];   // {x, y}, roughly in [-1, 2] x [-0.5, 1]
//   moons.labels[0];   // 0 (upper moon) or 1 (lower moon)
//
// Why not <random>'s distributions: std::uniform_real_distribution and std::normal_distribution
// are implementation-defined, so libstdc++ and libc++ would give a student and a grader
// different points from the same seed. Only the engine (std::mt19937_64) is specified to the
// bit; the transforms from its output to uniform and normal numbers are written out here.
#ifndef DATASETS_TOY_H_
#define DATASETS_TOY_H_

#include <array>
#include <cstdint>
#include <vector>

namespace datasets {

// points[i] has class labels[i]; points are shuffled, so any prefix is a fair sample.
struct ToySet {
  std::vector<std::array<double, 2>> points;
  std::vector<int> labels;
};

// scikit-learn's make_moons: n/2 points (rounded down) on the upper half circle around (0, 0)
// with label 0, the rest on the lower half circle around (1, 0.5) with label 1; then Gaussian
// noise of standard deviation `noise` on each coordinate. Throws tinyref::Error if n < 0 or
// noise < 0.
ToySet make_moons(int n, double noise, uint64_t seed);

// CS231n's spirals: `classes` arms evenly spaced around the origin, each n_per_class points
// going out to radius 1 while turning 4 radians; arm k has label k. Gaussian noise of
// standard deviation `noise` on each coordinate. Throws tinyref::Error if n_per_class < 0,
// classes < 1 or noise < 0.
ToySet make_spirals(int n_per_class, int classes, double noise, uint64_t seed);

}  // namespace datasets

#endif  // DATASETS_TOY_H_
