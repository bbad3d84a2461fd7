#include "datasets/mnist.h"

#include <cstdlib>
#include <filesystem>

#include "datasets/checksum.h"
#include "tinyref/error.h"

namespace datasets {
namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

const std::array<MnistFile, 4>& files_of(Dataset d) {
  return d == Dataset::kFashion ? kFashionMnistFiles : kMnistFiles;
}

// The file of split `prefix` ("train" or "t10k") and kind ("images", "labels").
const MnistFile& dataset_file(Dataset d, const std::string& prefix, const std::string& kind) {
  for (const MnistFile& file : files_of(d)) {
    if (file.name.rfind(prefix + "-" + kind, 0) == 0) return file;
  }
  throw tinyref::InternalError("no " + std::string(dataset_name(d)) + " file for " + prefix + " " + kind);
}

Mnist load_files(Dataset d, const std::string& dir, const std::string& split, bool verify_checksums);

}  // namespace

const char* dataset_name(Dataset d) { return d == Dataset::kFashion ? "fashion" : "mnist"; }

Dataset chosen_dataset() {
  const std::string name = env_or_empty("TT_DATASET");
  if (name.empty() || name == "mnist") return Dataset::kMnist;
  TT_CHECK(name == "fashion", "TT_DATASET=" << name << ": the data sets are \"mnist\" (the default) and "
                                                   "\"fashion\" (Fashion-MNIST)");
  return Dataset::kFashion;
}

std::string find_dataset_dir(Dataset d) {
  if (d == Dataset::kMnist) return find_mnist_dir();
  const std::string dir = env_or_empty("TT_FASHION_MNIST_DIR");
  return dir.empty() ? kFashionMnistDir : dir;
}

bool dataset_available(Dataset d) {
  const std::filesystem::path dir = find_dataset_dir(d);
  for (const MnistFile& file : files_of(d)) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(dir / file.name, error)) return false;
  }
  return true;
}

Mnist load_dataset(Dataset d, const std::string& split, bool verify_checksums) {
  return load_files(d, find_dataset_dir(d), split, verify_checksums);
}

std::string find_mnist_dir() {
  if (std::string dir = env_or_empty("TT_MNIST_DIR"); !dir.empty()) return dir;

  // In a Bazel test the runfile is a symlink into the source tree, where the data lives; the
  // relative candidate also covers a test's working directory and a run from the repo root.
  std::vector<std::filesystem::path> listings;
  const std::string test_srcdir = env_or_empty("TEST_SRCDIR");
  const std::string test_workspace = env_or_empty("TEST_WORKSPACE");
  if (!test_srcdir.empty() && !test_workspace.empty()) {
    listings.push_back(std::filesystem::path(test_srcdir) / test_workspace / "datasets" /
                       "MNIST.sha256");
  }
  listings.push_back(std::filesystem::path("datasets") / "MNIST.sha256");
  for (const std::filesystem::path& listing : listings) {
    std::error_code error;
    const std::filesystem::path real = std::filesystem::canonical(listing, error);
    if (!error) return (real.parent_path() / "mnist").string();
  }
  return "datasets/mnist";
}

bool mnist_available() { return dataset_available(Dataset::kMnist); }

Mnist load_mnist(const std::string& split, bool verify_checksums) {
  return load_mnist_from(find_mnist_dir(), split, verify_checksums);
}

Mnist load_mnist_from(const std::string& dir, const std::string& split, bool verify_checksums) {
  return load_files(Dataset::kMnist, dir, split, verify_checksums);
}

namespace {

Mnist load_files(Dataset d, const std::string& dir, const std::string& split, bool verify_checksums) {
  TT_CHECK(split == "train" || split == "test",
           "load_mnist: split must be \"train\" or \"test\", got \"" << split << "\"");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const MnistFile& images_file = dataset_file(d, prefix, "images");
  const MnistFile& labels_file = dataset_file(d, prefix, "labels");
  const std::string images_path = dir + "/" + std::string(images_file.name);
  const std::string labels_path = dir + "/" + std::string(labels_file.name);

  for (const std::string& path : {images_path, labels_path}) {
    std::error_code error;
    if (d == Dataset::kFashion) {
      TT_CHECK(std::filesystem::is_regular_file(path, error),
               path << ": no such file: Fashion-MNIST is not installed (install Debian's "
                    << kFashionMnistPackage << " package: ./course setup --fashion, or apt-get install "
                    << kFashionMnistPackage << "; or point TT_FASHION_MNIST_DIR at a folder holding the four files)");
    }
    TT_CHECK(std::filesystem::is_regular_file(path, error),
             path << ": no such file: MNIST not downloaded (run ./course setup to download "
                  << "MNIST, or point TT_MNIST_DIR at a folder holding the four files)");
  }
  if (verify_checksums) {
    verify_sha256(images_path, std::string(images_file.sha256));
    verify_sha256(labels_path, std::string(labels_file.sha256));
  }

  Mnist mnist;
  mnist.images = read_idx_images(images_path);
  mnist.labels = read_idx_labels(labels_path).labels;
  TT_CHECK(mnist.images.rows == kMnistSide && mnist.images.cols == kMnistSide,
           images_path << ": MNIST images are " << kMnistSide << "x" << kMnistSide
                       << ", this file holds " << mnist.images.rows << "x" << mnist.images.cols
                       << " images");
  TT_CHECK(mnist.images.count == mnist.labels.size(),
           "MNIST " << split << ": " << images_path << " holds " << mnist.images.count
                    << " images but " << labels_path << " holds " << mnist.labels.size()
                    << " labels; they must match one to one");
  for (size_t i = 0; i < mnist.labels.size(); ++i) {
    TT_CHECK(mnist.labels[i] < kMnistClasses,
             labels_path << ": label " << int{mnist.labels[i]} << " at index " << i
                         << " is not a class 0..9");
  }
  return mnist;
}

}  // namespace
}  // namespace datasets
