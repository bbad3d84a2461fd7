#include "datasets/mnist.h"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "datasets/idx_writer.h"
#include "gtest/gtest.h"
#include "tinyref/error.h"

namespace datasets {
namespace {

template <typename Action>
std::string error_message(Action&& action) {
  try {
    action();
  } catch (const tinyref::Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a tinyref::Error, none was thrown";
  return "";
}

::testing::AssertionResult mentions(const std::string& message,
                                    const std::vector<std::string>& parts) {
  for (const std::string& part : parts) {
    if (message.find(part) == std::string::npos) {
      return ::testing::AssertionFailure() << "the message\n  " << message
                                           << "\ndoes not mention \"" << part << "\"";
    }
  }
  return ::testing::AssertionSuccess();
}

// Sets an environment variable for one scope and puts back what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A folder holding a fake MNIST training split of 28x28 images, one image per label.
std::string fake_mnist_dir(const std::string& name, size_t image_count,
                           const std::vector<uint8_t>& labels, size_t side = kMnistSide) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::filesystem::path dir = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") / name;
  std::filesystem::create_directories(dir);
  IdxImages images{.count = image_count, .rows = side, .cols = side, .pixels = {}};
  for (size_t i = 0; i < image_count * side * side; ++i) {
    images.pixels.push_back(static_cast<uint8_t>(i % 251));
  }
  write_idx_images((dir / "train-images-idx3-ubyte").string(), images, false);
  write_idx_labels((dir / "train-labels-idx1-ubyte").string(), IdxLabels{labels}, false);
  return dir.string();
}

TEST(MnistTest, LoadsAFolderOfIdxFiles) {
  const std::string dir = fake_mnist_dir("fake_ok", 4, {3, 1, 4, 1});
  const Mnist mnist = load_mnist_from(dir, "train", /*verify_checksums=*/false);
  EXPECT_EQ(mnist.images.count, 4u);
  EXPECT_EQ(mnist.images.rows, 28u);
  EXPECT_EQ(mnist.images.cols, 28u);
  ASSERT_EQ(mnist.images.pixels.size(), 4u * 28 * 28);
  EXPECT_EQ(mnist.images.pixels[300], 300 % 251);
  EXPECT_EQ(mnist.labels, (std::vector<uint8_t>{3, 1, 4, 1}));
}

TEST(MnistTest, EnvironmentVariableChoosesTheFolder) {
  const std::string dir = fake_mnist_dir("fake_env", 2, {0, 9});
  ScopedEnv env("TT_MNIST_DIR", dir.c_str());
  EXPECT_EQ(find_mnist_dir(), dir);
  // Only the training split exists there.
  EXPECT_FALSE(mnist_available());
  EXPECT_EQ(load_mnist("train", false).labels, (std::vector<uint8_t>{0, 9}));
}

// Inside a test, the folder is found through the MNIST.sha256 runfile's symlink: the source
// tree's datasets/mnist/, not a folder inside the test's runfiles.
TEST(MnistTest, FindsTheSourceTreeFolderFromATest) {
  ScopedEnv env("TT_MNIST_DIR", nullptr);
  const std::filesystem::path dir = find_mnist_dir();
  EXPECT_TRUE(dir.is_absolute()) << dir;
  EXPECT_EQ(dir.filename(), "mnist");
  EXPECT_EQ(dir.parent_path().filename(), "datasets");
  EXPECT_EQ(dir.string().find(".runfiles"), std::string::npos) << dir;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.parent_path() / "MNIST.sha256")) << dir;
}

// A `sha256sum -c` listing beside datasets/MNIST.sha256 (./course checks the downloads with
// them) agrees with the table the library checks on load: `prefix` + name per line.
void expect_listing_matches(const std::string& listing_name, const std::array<MnistFile, 4>& files,
                            const std::string& prefix) {
  ScopedEnv env("TT_MNIST_DIR", nullptr);
  const std::filesystem::path listing = std::filesystem::path(find_mnist_dir()).parent_path() / listing_name;
  std::ifstream in(listing);
  ASSERT_TRUE(in) << listing;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), files.size()) << listing;
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(lines[i], std::string(files[i].sha256) + "  " + prefix + std::string(files[i].name)) << listing;
  }
}

TEST(MnistTest, ChecksumListingMatchesTheTable) { expect_listing_matches("MNIST.sha256", kMnistFiles, "mnist/"); }

TEST(MnistTest, MismatchedCountsNameBothFiles) {
  const std::string dir = fake_mnist_dir("fake_counts", 5, {1, 2, 3, 4});
  EXPECT_TRUE(mentions(error_message([&] { load_mnist_from(dir, "train", false); }),
                       {dir + "/train-images-idx3-ubyte", "holds 5 images",
                        dir + "/train-labels-idx1-ubyte", "holds 4 labels"}));
}

TEST(MnistTest, LabelOutsideZeroToNineNamesItsIndex) {
  const std::string dir = fake_mnist_dir("fake_label", 4, {1, 2, 10, 3});
  EXPECT_TRUE(mentions(error_message([&] { load_mnist_from(dir, "train", false); }),
                       {dir + "/train-labels-idx1-ubyte", "label 10 at index 2",
                        "not a class 0..9"}));
}

TEST(MnistTest, ImagesMustBe28By28) {
  const std::string dir = fake_mnist_dir("fake_side", 2, {1, 2}, 27);
  EXPECT_TRUE(mentions(error_message([&] { load_mnist_from(dir, "train", false); }),
                       {dir + "/train-images-idx3-ubyte", "28x28", "holds 27x27"}));
}

TEST(MnistTest, ChecksumsAreVerifiedByDefault) {
  const std::string dir = fake_mnist_dir("fake_sum", 2, {1, 2});
  EXPECT_TRUE(mentions(error_message([&] { load_mnist_from(dir, "train"); }),
                       {dir + "/train-images-idx3-ubyte", "sha256 is",
                        "expected " + std::string(kMnistFiles[0].sha256), "./course setup"}));
}

TEST(MnistTest, MissingFilesAndBadSplit) {
  const std::string dir = fake_mnist_dir("fake_missing_test", 2, {1, 2});
  EXPECT_TRUE(mentions(error_message([&] { load_mnist_from(dir, "test", false); }),
                       {dir + "/t10k-images-idx3-ubyte", "no such file", "./course setup"}));
  EXPECT_TRUE(mentions(error_message([&] { load_mnist_from(dir, "validation", false); }),
                       {"split must be \"train\" or \"test\"", "\"validation\""}));
}

std::array<size_t, kMnistClasses> histogram(const std::vector<uint8_t>& labels) {
  std::array<size_t, kMnistClasses> counts{};
  for (uint8_t label : labels) ++counts.at(label);
  return counts;
}

// The real data set, when ./course setup has downloaded it. The label counts are those of the
// original MNIST (LeCun et al.), recomputed from the npm package's files with an independent
// reader (a few lines of Python), so they identify the genuine set, not merely a well-formed one.
TEST(MnistTest, RealTrainingSet) {
  ScopedEnv env("TT_MNIST_DIR", nullptr);
  if (!mnist_available()) GTEST_SKIP() << "MNIST not downloaded: run ./course setup";
  const Mnist train = load_mnist("train");  // verifies the sha256 sums
  EXPECT_EQ(train.images.count, 60000u);
  EXPECT_EQ(train.images.rows, 28u);
  EXPECT_EQ(train.images.cols, 28u);
  EXPECT_EQ(train.images.pixels.size(), 60000u * 28 * 28);
  EXPECT_EQ(train.labels.size(), 60000u);
  EXPECT_EQ(histogram(train.labels), (std::array<size_t, kMnistClasses>{
                                         5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                         5949}));
  EXPECT_EQ(train.labels[0], 5);  // the famous first training digit
}

TEST(MnistTest, RealTestSet) {
  ScopedEnv env("TT_MNIST_DIR", nullptr);
  if (!mnist_available()) GTEST_SKIP() << "MNIST not downloaded: run ./course setup";
  const Mnist test = load_mnist("test");
  EXPECT_EQ(test.images.count, 10000u);
  EXPECT_EQ(test.images.rows, 28u);
  EXPECT_EQ(test.images.cols, 28u);
  EXPECT_EQ(test.labels.size(), 10000u);
  EXPECT_EQ(histogram(test.labels),
            (std::array<size_t, kMnistClasses>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                               1009}));
  EXPECT_EQ(test.labels[0], 7);
}

// Fashion-MNIST: chosen by TT_DATASET, installed by Debian's package, checked like MNIST.

TEST(FashionMnistTest, TtDatasetChoosesTheDataSet) {
  {
    ScopedEnv env("TT_DATASET", nullptr);
    EXPECT_EQ(chosen_dataset(), Dataset::kMnist);
  }
  {
    ScopedEnv env("TT_DATASET", "fashion");
    EXPECT_EQ(chosen_dataset(), Dataset::kFashion);
    EXPECT_STREQ(dataset_name(chosen_dataset()), "fashion");
  }
  ScopedEnv env("TT_DATASET", "imagenet");
  EXPECT_TRUE(mentions(error_message([] { chosen_dataset(); }), {"TT_DATASET=imagenet", "\"mnist\"", "\"fashion\""}));
}

TEST(FashionMnistTest, MissingFilesNameTheDebianPackage) {
  ScopedEnv env("TT_FASHION_MNIST_DIR", "/no/such/folder");
  EXPECT_FALSE(dataset_available(Dataset::kFashion));
  EXPECT_TRUE(mentions(error_message([] { load_dataset(Dataset::kFashion, "train"); }),
                       {"/no/such/folder/train-images-idx3-ubyte.gz", "Fashion-MNIST is not installed",
                        "dataset-fashion-mnist"}));
}

TEST(FashionMnistTest, ChecksumListingMatchesTheTable) {
  expect_listing_matches("FASHION_MNIST.sha256", kFashionMnistFiles, "");
}

// The real set, where the package is installed: 6000 training and 1000 test images of each of
// the 10 classes (counted with an independent reader, a few lines of Python); image 0 of
// both splits is an ankle boot (class 9).
TEST(FashionMnistTest, RealDataSet) {
  ScopedEnv env("TT_FASHION_MNIST_DIR", nullptr);
  if (!dataset_available(Dataset::kFashion)) GTEST_SKIP() << "Fashion-MNIST not installed (dataset-fashion-mnist)";
  const Mnist train = load_dataset(Dataset::kFashion, "train");  // gzipped; verifies the sha256 sums
  EXPECT_EQ(train.images.count, 60000u);
  EXPECT_EQ(histogram(train.labels), (std::array<size_t, kMnistClasses>{6000, 6000, 6000, 6000, 6000, 6000, 6000,
                                                                         6000, 6000, 6000}));
  EXPECT_EQ(train.labels[0], 9);
  const Mnist test = load_dataset(Dataset::kFashion, "test");
  EXPECT_EQ(test.images.count, 10000u);
  EXPECT_EQ(histogram(test.labels), (std::array<size_t, kMnistClasses>{1000, 1000, 1000, 1000, 1000, 1000, 1000,
                                                                        1000, 1000, 1000}));
  EXPECT_EQ(test.labels[0], 9);
}

}  // namespace
}  // namespace datasets
