#include "datasets/checksum.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/idx_writer.h"
#include "gtest/gtest.h"
#include "tinyref/error.h"

namespace datasets {
namespace {

std::string temp_file(const std::string& name, const std::string& contents) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = (std::filesystem::path(dir != nullptr ? dir : "/tmp") / name).string();
  write_file_bytes(path, std::vector<uint8_t>(contents.begin(), contents.end()));
  return path;
}

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

// The test vectors of FIPS 180-2, appendix B.
constexpr char kSha256Abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kSha256Empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kSha256MillionA[] =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(ChecksumTest, KnownVectors) {
  EXPECT_EQ(sha256_file(temp_file("abc", "abc")), kSha256Abc);
  EXPECT_EQ(sha256_file(temp_file("empty", "")), kSha256Empty);
  // A million bytes span many of the reader's chunks, so this checks the streaming too.
  EXPECT_EQ(sha256_file(temp_file("million_a", std::string(1000000, 'a'))), kSha256MillionA);
}

TEST(ChecksumTest, VerifyAcceptsAMatchInEitherCase) {
  const std::string path = temp_file("abc", "abc");
  EXPECT_NO_THROW(verify_sha256(path, kSha256Abc));
  std::string upper = kSha256Abc;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NO_THROW(verify_sha256(path, upper));
}

TEST(ChecksumTest, MismatchNamesFileBothSumsAndTheFix) {
  const std::string path = temp_file("abd", "abd");
  const std::string message = error_message([&] { verify_sha256(path, kSha256Abc); });
  const std::string expected_message = path + ": sha256 is " + sha256_file(path) + ", expected " +
                                       kSha256Abc +
                                       " (the file is corrupted or incomplete: delete it and run "
                                       "./course setup)";
  EXPECT_EQ(message, expected_message);
}

TEST(ChecksumTest, MissingFile) {
  const std::string path = "/nonexistent/dir/train-images-idx3-ubyte";
  const std::string message = error_message([&] { sha256_file(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("no such file"), std::string::npos) << message;
}

TEST(ChecksumTest, MalformedExpectedSum) {
  const std::string path = temp_file("abc", "abc");
  const std::string message = error_message([&] { verify_sha256(path, "abc123"); });
  EXPECT_NE(message.find("\"abc123\" is not 64 hex digits"), std::string::npos) << message;
}

}  // namespace
}  // namespace datasets
