// Writes IDX files, raw or gzipped: what the tests use to make small, broken and well-formed
// data sets of their own (testonly; the course only ever reads IDX).
//
//   datasets::IdxImages images{.count = 2, .rows = 3, .cols = 4, .pixels = std::vector<uint8_t>(24, 7)};
//   datasets::write_idx_images(dir + "/tiny-images.gz", images, /*gzip=*/true);
//   // a deliberately wrong file: labels magic, a header that promises 5 items, 2 bytes of data
//   datasets::write_idx_bytes(dir + "/bad", datasets::kIdxLabelsMagic, {5}, {1, 2}, false);
#ifndef DATASETS_IDX_WRITER_H_
#define DATASETS_IDX_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/idx.h"

namespace datasets {

void write_idx_images(const std::string& path, const IdxImages& images, bool gzip);
void write_idx_labels(const std::string& path, const IdxLabels& labels, bool gzip);

// Any header with any data: no check that they agree, so tests can write broken files.
void write_idx_bytes(const std::string& path, uint32_t magic, const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data, bool gzip);

// A file's bytes as they are on disk (gzipped ones still compressed), and the reverse: for
// tests that cut or damage a file.
std::vector<uint8_t> read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace datasets

#endif  // DATASETS_IDX_WRITER_H_
