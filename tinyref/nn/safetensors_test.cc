#include "tinyref/nn/safetensors.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/error.h"

namespace tinyref::nn {
namespace {

std::string temp_path(const std::string& name) { return std::string(std::getenv("TEST_TMPDIR")) + "/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file built by hand from the format's description, independent of write_safetensors.
std::string handmade(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

// The message of the tinyref::Error `f` throws ("" if it throws none).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const tinyref::Error& e) {
    return e.what();
  }
  return "";
}

TEST(SafetensorsTest, RoundTripIsBitExact) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    NamedBlobs blobs;
    const char* dtypes[] = {"F32", "F64", "I32", "U8", "BOOL"};
    for (int t = 0; t < 5; ++t) {
      TensorBlob b;
      b.dtype = dtypes[t];
      size_t numel = 1;
      for (int d = 0, rank = static_cast<int>(rng() % 4); d < rank; ++d) {
        b.shape.push_back(static_cast<int64_t>(rng() % 5));  // zero-sized dims included
        numel *= b.shape.back();
      }
      b.bytes.resize(numel * safetensors_itemsize(b.dtype));
      for (auto& byte : b.bytes) byte = static_cast<uint8_t>(rng());
      blobs["layer" + std::to_string(t) + ".weight"] = b;
    }
    const std::string path = temp_path("roundtrip.safetensors");
    write_safetensors(path, blobs, {{"format", "pt"}});
    const NamedBlobs back = read_safetensors(path);
    ASSERT_EQ(back.size(), blobs.size());
    for (const auto& [name, b] : blobs) {
      ASSERT_TRUE(back.count(name)) << name;
      EXPECT_EQ(back.at(name).dtype, b.dtype) << name;
      EXPECT_EQ(back.at(name).shape, b.shape) << name;
      EXPECT_EQ(back.at(name).bytes, b.bytes) << name;
    }
  }
}

TEST(SafetensorsTest, WritesTheDocumentedLayout) {
  NamedBlobs blobs;
  blobs["b"] = {"F32", {2}, {0, 0, 128, 63, 0, 0, 0, 64}};  // 1.0f, 2.0f little-endian
  blobs["a"] = {"U8", {1, 3}, {7, 8, 9}};
  const std::string path = temp_path("layout.safetensors");
  write_safetensors(path, blobs);
  const std::string file = slurp(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(file[i]);
  EXPECT_EQ(n % 8, 0u) << "the data section starts 8-byte aligned";
  const std::string header = file.substr(8, n);
  EXPECT_NE(header.find(R"("a":{"data_offsets":[0,3],"dtype":"U8","shape":[1,3]})"), std::string::npos) << header;
  EXPECT_NE(header.find(R"("b":{"data_offsets":[3,11],"dtype":"F32","shape":[2]})"), std::string::npos) << header;
  EXPECT_EQ(file.substr(8 + n), std::string("\x07\x08\x09\x00\x00\x80\x3f\x00\x00\x00\x40", 11));
}

TEST(SafetensorsTest, ReadsAHandmadeFile) {
  const std::string path = temp_path("handmade.safetensors");
  spit(path, handmade(R"({"__metadata__":{"x":"y"},"w":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
                      std::string("\x01\x00\x00\x00\xff\xff\xff\xff", 8)));
  const NamedBlobs blobs = read_safetensors(path);
  ASSERT_EQ(blobs.size(), 1u);
  int32_t values[2];
  std::memcpy(values, blobs.at("w").bytes.data(), 8);
  EXPECT_EQ(values[0], 1);
  EXPECT_EQ(values[1], -1);
}

TEST(SafetensorsTest, BadFilesGiveClearErrors) {
  const std::string path = temp_path("bad.safetensors");
  const std::string good_header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string good_data(8, '\x01');
  struct Case {
    const char* what;
    std::string bytes;
    const char* message;
  };
  const Case cases[] = {
      {"empty file", "", "truncated"},
      {"length cut short", std::string("\x10\x00\x00", 3), "truncated"},
      {"header cut short", handmade(good_header, good_data).substr(0, 30), "truncated"},
      {"data cut short", handmade(good_header, good_data).substr(0, 8 + good_header.size() + 5), "outside"},
      {"huge header length", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + good_header, "truncated"},
      {"corrupted JSON", handmade(R"({"w":{"dtype":"F32",)", good_data), "corrupted header"},
      {"not an object", handmade("[1,2]", ""), "not a JSON object"},
      {"missing field", handmade(R"({"w":{"dtype":"F32","shape":[2]}})", good_data), "malformed entry"},
      {"unknown dtype", handmade(R"({"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", good_data), "unknown dtype"},
      {"size mismatch", handmade(R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", good_data), "do not hold"},
      {"overlap", handmade(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", good_data), "overlaps"},
      {"trailing bytes", handmade(good_header, good_data + "xx"), "after the last tensor"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    spit(path, c.bytes);
    const std::string message = error_of([&] { read_safetensors(path); });
    EXPECT_NE(message.find(c.message), std::string::npos) << "got: \"" << message << "\"";
    EXPECT_NE(message.find(path), std::string::npos) << "the message names the file: " << message;
  }
  EXPECT_NE(error_of([] { read_safetensors("/nonexistent/model.safetensors"); }).find("cannot open"),
            std::string::npos);
}

TEST(SafetensorsTest, WriterRejectsInconsistentBlobs) {
  NamedBlobs blobs;
  blobs["w"] = {"F32", {3}, std::vector<uint8_t>(8)};
  EXPECT_NE(error_of([&] { write_safetensors(temp_path("x.safetensors"), blobs); }).find("needs 12 bytes, got 8"),
            std::string::npos);
}

}  // namespace
}  // namespace tinyref::nn
