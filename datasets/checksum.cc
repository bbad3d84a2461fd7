#include "datasets/checksum.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "tinyref/error.h"

namespace datasets {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

struct DigestFreer {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

}  // namespace

std::string sha256_file(const std::string& path) {
  std::error_code error;
  TT_CHECK(std::filesystem::exists(path, error), path << ": no such file, cannot compute its sha256");
  TT_CHECK(!std::filesystem::is_directory(path, error),
           path << ": is a directory, cannot compute its sha256");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  TT_CHECK(file != nullptr, path << ": cannot open: " << std::strerror(errno));

  std::unique_ptr<EVP_MD_CTX, DigestFreer> context(EVP_MD_CTX_new());
  TT_ASSERT(context != nullptr);
  TT_ASSERT(EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) == 1);
  std::vector<unsigned char> chunk(size_t{1} << 16);
  for (;;) {
    const size_t got = std::fread(chunk.data(), 1, chunk.size(), file.get());
    if (got > 0) TT_ASSERT(EVP_DigestUpdate(context.get(), chunk.data(), got) == 1);
    if (got < chunk.size()) {
      TT_CHECK(!std::ferror(file.get()), path << ": read error: " << std::strerror(errno));
      break;
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  TT_ASSERT(EVP_DigestFinal_ex(context.get(), digest, &digest_size) == 1);
  TT_ASSERT(digest_size == 32);

  static const char kHexDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < digest_size; ++i) {
    hex += kHexDigits[digest[i] >> 4];
    hex += kHexDigits[digest[i] & 0xf];
  }
  return hex;
}

void verify_sha256(const std::string& path, const std::string& expected_hex) {
  std::string expected = expected_hex;
  std::transform(expected.begin(), expected.end(), expected.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  TT_CHECK(expected.size() == 64 && std::all_of(expected.begin(), expected.end(),
                                                [](unsigned char c) { return std::isxdigit(c); }),
           "verify_sha256(" << path << "): expected sha256 \"" << expected_hex
                            << "\" is not 64 hex digits");
  const std::string actual = sha256_file(path);
  TT_CHECK(actual == expected, path << ": sha256 is " << actual << ", expected " << expected
                                    << " (the file is corrupted or incomplete: delete it and run "
                                    << "./course setup)");
}

}  // namespace datasets
