// SHA-256 of a file, to tell a complete download from a cut or damaged one:
//
//   datasets::sha256_file("datasets/mnist/t10k-labels-idx1-ubyte");
//   // "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
//   datasets::verify_sha256(path, "ff7bcf...");   // throws tinyref::Error unless they match
//
// The file is streamed through OpenSSL's EVP interface in chunks, so a large file costs no
// memory.
#ifndef DATASETS_CHECKSUM_H_
#define DATASETS_CHECKSUM_H_

#include <string>

namespace datasets {

// 64 lowercase hex digits. Throws tinyref::Error when the file cannot be read.
std::string sha256_file(const std::string& path);

// Throws tinyref::Error "FILE: sha256 is X, expected Y (the file is corrupted or incomplete:
// delete it and run ./course setup)" on a mismatch. expected_hex may be upper or lower case.
void verify_sha256(const std::string& path, const std::string& expected_hex);

}  // namespace datasets

#endif  // DATASETS_CHECKSUM_H_
