#include "datasets/idx.h"

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "datasets/idx_writer.h"
#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace datasets {
namespace {

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return (std::filesystem::path(dir != nullptr ? dir : "/tmp") / name).string();
}

// The message of the tinyref::Error that `action` throws, or a failure if it throws none.
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

IdxImages random_images(std::mt19937_64& rng, size_t max_count, size_t max_side) {
  IdxImages images;
  images.count = std::uniform_int_distribution<size_t>(1, max_count)(rng);
  images.rows = std::uniform_int_distribution<size_t>(1, max_side)(rng);
  images.cols = std::uniform_int_distribution<size_t>(1, max_side)(rng);
  images.pixels.resize(images.count * images.rows * images.cols);
  std::uniform_int_distribution<int> pixel(0, 255);
  for (uint8_t& p : images.pixels) p = static_cast<uint8_t>(pixel(rng));
  return images;
}

// 3 images of 4x5: a 16-byte header and 60 bytes of pixels, 76 bytes in all.
IdxImages small_images() {
  IdxImages images{.count = 3, .rows = 4, .cols = 5, .pixels = {}};
  for (int i = 0; i < 60; ++i) images.pixels.push_back(static_cast<uint8_t>(i * 4));
  return images;
}

TEST(IdxTest, ImagesRoundTripRawAndGzip) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const IdxImages written = random_images(rng, 50, 30);
    for (bool gzip : {false, true}) {
      SCOPED_TRACE(gzip ? "gzip" : "raw");
      const std::string path = temp_path("round_trip_images");
      write_idx_images(path, written, gzip);
      const IdxImages read = read_idx_images(path);
      EXPECT_EQ(read.count, written.count);
      EXPECT_EQ(read.rows, written.rows);
      EXPECT_EQ(read.cols, written.cols);
      EXPECT_EQ(read.pixels, written.pixels);
    }
  }
}

TEST(IdxTest, LabelsRoundTripRawAndGzip) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    IdxLabels written;
    written.labels.resize(std::uniform_int_distribution<size_t>(1, 5000)(rng));
    for (uint8_t& label : written.labels) label = static_cast<uint8_t>(rng() % 256);
    for (bool gzip : {false, true}) {
      SCOPED_TRACE(gzip ? "gzip" : "raw");
      const std::string path = temp_path("round_trip_labels");
      write_idx_labels(path, written, gzip);
      EXPECT_EQ(read_idx_labels(path).labels, written.labels);
    }
  }
}

// Larger than the reader's 1 MiB chunks, so the data crosses several reads and refills.
TEST(IdxTest, ReadsFilesLargerThanOneChunk) {
  std::mt19937_64 rng(7);
  IdxImages written{.count = 1500, .rows = 28, .cols = 28, .pixels = {}};
  written.pixels.resize(written.count * 28 * 28);
  for (uint8_t& p : written.pixels) p = static_cast<uint8_t>(rng() % 7);  // compressible
  for (bool gzip : {false, true}) {
    const std::string path = temp_path("large_images");
    write_idx_images(path, written, gzip);
    EXPECT_EQ(read_idx_images(path).pixels, written.pixels) << (gzip ? "gzip" : "raw");
  }
}

// Gzip is recognized by its magic bytes, not by the file name.
TEST(IdxTest, DetectsGzipByContentNotName) {
  const IdxImages written = small_images();
  const std::string gzipped_without_suffix = temp_path("images_plain_name");
  const std::string raw_with_suffix = temp_path("images_raw.gz");
  write_idx_images(gzipped_without_suffix, written, true);
  write_idx_images(raw_with_suffix, written, false);
  EXPECT_EQ(read_file_bytes(gzipped_without_suffix)[0], 0x1f);
  EXPECT_EQ(read_idx_images(gzipped_without_suffix).pixels, written.pixels);
  EXPECT_EQ(read_idx_images(raw_with_suffix).pixels, written.pixels);
}

TEST(IdxTest, MissingFileNamesPathAndSetup) {
  const std::string path = temp_path("no_such_dir/train-images-idx3-ubyte");
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                       {path, "no such file", "run ./course setup to download MNIST"}));
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(path); }), {path, "no such file"}));
}

TEST(IdxTest, DirectoryIsNotAFile) {
  const std::string path = temp_path("a_directory");
  std::filesystem::create_directories(path);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }), {path, "is a directory"}));
}

TEST(IdxTest, TruncatedRawImagesSayExpectedVersusFound) {
  const std::string path = temp_path("truncated_images");
  write_idx_images(path, small_images(), false);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  ASSERT_EQ(bytes.size(), 76u);
  bytes.resize(53);
  write_file_bytes(path, bytes);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                       {path, "truncated", "3 images of 4x5", "76 bytes in all", "found 53 bytes",
                        "./course setup"}));
}

TEST(IdxTest, TruncatedHeader) {
  const std::string path = temp_path("truncated_header");
  write_idx_images(path, small_images(), false);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  bytes.resize(9);
  write_file_bytes(path, bytes);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                       {path, "truncated", "16-byte header", "found only 9 bytes"}));
  write_file_bytes(path, {});
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(path); }),
                       {path, "truncated", "8-byte header", "found only 0 bytes"}));
}

// Every cut of a raw file, wherever it falls, is reported as truncation with the size found.
TEST(IdxTest, TruncatedRawAnywhere) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const std::string path = temp_path("truncated_anywhere");
    write_idx_images(path, random_images(rng, 10, 10), false);
    std::vector<uint8_t> bytes = read_file_bytes(path);
    const size_t cut = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
    bytes.resize(cut);
    write_file_bytes(path, bytes);
    EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                         {path, "truncated", " " + std::to_string(cut) + " bytes"}));
  }
}

TEST(IdxTest, TruncatedRawLabels) {
  const std::string path = temp_path("truncated_labels");
  write_idx_bytes(path, kIdxLabelsMagic, {100}, std::vector<uint8_t>(60, 3), false);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(path); }),
                       {path, "truncated", "100 labels", "108 bytes in all", "found 68 bytes"}));
}

TEST(IdxTest, TruncatedGzipStream) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const std::string path = temp_path("truncated_gzip");
    // Random pixels hardly compress, so cutting the compressed file in half loses data.
    write_idx_images(path, random_images(rng, 20, 20), true);
    std::vector<uint8_t> bytes = read_file_bytes(path);
    bytes.resize(bytes.size() / 2);
    write_file_bytes(path, bytes);
    EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                         {path, "truncated", "after gunzip", "gzip stream itself is cut off"}));
  }
}

// All the data arrives but the 8-byte trailer (CRC-32 and length) does not.
TEST(IdxTest, GzipWithoutTrailer) {
  const std::string path = temp_path("gzip_without_trailer");
  write_idx_images(path, small_images(), true);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  bytes.resize(bytes.size() - 8);
  write_file_bytes(path, bytes);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                       {path, "truncated gzip stream", "checksum are missing"}));
}

TEST(IdxTest, CorruptedGzipChecksum) {
  const std::string path = temp_path("corrupted_gzip_crc");
  write_idx_images(path, small_images(), true);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  bytes[bytes.size() - 8] ^= 0xff;  // first byte of the CRC-32 trailer
  write_file_bytes(path, bytes);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                       {path, "corrupted gzip stream", "zlib: incorrect data check"}));
}

TEST(IdxTest, CorruptedGzipBlockType) {
  const std::string path = temp_path("corrupted_gzip_block");
  write_idx_images(path, small_images(), true);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  // gzopen writes a bare 10-byte gzip header; bits 1-2 of the next byte are the deflate block
  // type, and 11 is reserved.
  ASSERT_EQ(bytes[3], 0) << "expected no optional gzip header fields";
  bytes[10] |= 0x06;
  write_file_bytes(path, bytes);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                       {path, "corrupted gzip stream", "zlib: invalid block type"}));
}

TEST(IdxTest, CorruptedGzipHeader) {
  const std::string path = temp_path("corrupted_gzip_header");
  write_idx_labels(path, IdxLabels{{1, 2, 3}}, true);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  bytes[2] = 7;  // compression method: only 8 (deflate) exists
  write_file_bytes(path, bytes);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(path); }),
                       {path, "corrupted gzip stream", "zlib: unknown compression method"}));
}

// A damaged byte anywhere in the compressed data is caught, at the latest by the CRC-32.
TEST(IdxTest, CorruptedGzipAnywhereIsCaught) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const std::string path = temp_path("corrupted_gzip_anywhere");
    write_idx_images(path, random_images(rng, 20, 20), true);
    std::vector<uint8_t> bytes = read_file_bytes(path);
    const size_t at = std::uniform_int_distribution<size_t>(10, bytes.size() - 1)(rng);
    bytes[at] ^= static_cast<uint8_t>(std::uniform_int_distribution<int>(1, 255)(rng));
    write_file_bytes(path, bytes);
    SCOPED_TRACE("damaged byte " + std::to_string(at) + " of " + std::to_string(bytes.size()));
    EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }), {path}));
  }
}

TEST(IdxTest, WrongMagicSaysExpectedVersusFoundInHex) {
  const std::string labels_path = temp_path("labels_not_images");
  write_idx_labels(labels_path, IdxLabels{{1, 2, 3}}, false);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(labels_path); }),
                       {labels_path, "wrong magic number 0x00000801", "expected 0x00000803",
                        "that is an IDX labels file"}));

  const std::string images_path = temp_path("images_not_labels");
  write_idx_images(images_path, small_images(), true);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(images_path); }),
                       {images_path, "wrong magic number 0x00000803", "expected 0x00000801",
                        "that is an IDX images file"}));

  const std::string text_path = temp_path("not_idx_at_all.html");
  const std::string html = "<html>404 Not Found</html>";
  write_file_bytes(text_path, std::vector<uint8_t>(html.begin(), html.end()));
  EXPECT_TRUE(mentions(error_message([&] { read_idx_images(text_path); }),
                       {text_path, "wrong magic number 0x3c68746d", "expected 0x00000803"}));
}

TEST(IdxTest, AbsurdHeaders) {
  const std::string path = temp_path("absurd_header");
  struct Case {
    uint32_t count, rows, cols;
    std::string described;
  };
  for (const Case& bad : {Case{0, 28, 28, "0 images of 28x28"}, Case{5, 0, 28, "5 images of 0x28"},
                          Case{5, 28, 0, "5 images of 28x0"},
                          Case{0xffffffffu, 28, 28, "4294967295 images of 28x28"},
                          Case{10, 100000, 100000, "10 images of 100000x100000"}}) {
    SCOPED_TRACE(bad.described);
    write_idx_bytes(path, kIdxImagesMagic, {bad.count, bad.rows, bad.cols}, {1, 2, 3}, false);
    EXPECT_TRUE(mentions(error_message([&] { read_idx_images(path); }),
                         {path, "absurd header", bad.described}));
  }
  write_idx_bytes(path, kIdxLabelsMagic, {0}, {}, true);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(path); }),
                       {path, "absurd header", "0 labels"}));
}

TEST(IdxTest, ExtraBytesAfterTheDataAreRejected) {
  const std::string path = temp_path("extra_bytes");
  write_idx_bytes(path, kIdxLabelsMagic, {4}, {1, 2, 3, 4, 5, 6}, false);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(path); }),
                       {path, "2 unexpected bytes", "after the 12 bytes the header promises"}));

  write_idx_bytes(path, kIdxLabelsMagic, {4}, {1, 2, 3, 4, 5, 6}, true);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(path); }),
                       {path, "2 unexpected bytes after gunzip"}));

  write_idx_labels(path, IdxLabels{{1, 2, 3}}, true);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  bytes.push_back(0);
  write_file_bytes(path, bytes);
  EXPECT_TRUE(mentions(error_message([&] { read_idx_labels(path); }),
                       {path, "unexpected bytes after the end of the gzip stream"}));
}

}  // namespace
}  // namespace datasets
