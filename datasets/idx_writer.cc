#include "datasets/idx_writer.h"

#include <zlib.h>

#include <fstream>
#include <iterator>

#include "tinyref/error.h"

namespace datasets {

void write_idx_bytes(const std::string& path, uint32_t magic, const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data, bool gzip) {
  std::vector<uint8_t> bytes;
  auto put_big_endian = [&bytes](uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back((value >> shift) & 0xff);
  };
  put_big_endian(magic);
  for (uint32_t dim : dims) put_big_endian(dim);
  bytes.insert(bytes.end(), data.begin(), data.end());
  if (!gzip) {
    write_file_bytes(path, bytes);
    return;
  }
  gzFile file = gzopen(path.c_str(), "wb");
  TT_CHECK(file != nullptr, path << ": cannot create");
  const int written = gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  const int closed = gzclose(file);
  TT_CHECK(written == static_cast<int>(bytes.size()) && closed == Z_OK,
           path << ": gzip write failed");
}

void write_idx_images(const std::string& path, const IdxImages& images, bool gzip) {
  TT_CHECK(images.pixels.size() == images.count * images.rows * images.cols,
           path << ": " << images.pixels.size() << " pixels for " << images.count
                << " images of " << images.rows << "x" << images.cols);
  write_idx_bytes(path, kIdxImagesMagic,
                  {static_cast<uint32_t>(images.count), static_cast<uint32_t>(images.rows),
                   static_cast<uint32_t>(images.cols)},
                  images.pixels, gzip);
}

void write_idx_labels(const std::string& path, const IdxLabels& labels, bool gzip) {
  write_idx_bytes(path, kIdxLabelsMagic, {static_cast<uint32_t>(labels.labels.size())},
                  labels.labels, gzip);
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TT_CHECK(in, path << ": cannot open");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  TT_CHECK(out.good(), path << ": write failed");
}

}  // namespace datasets
