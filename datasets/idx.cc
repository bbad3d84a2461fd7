#include "datasets/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <memory>
#include <sstream>

#include "tinyref/error.h"

namespace datasets {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;

// Limits far above any real data set (MNIST is 60000 x 28 x 28) that still keep the product
// of the dimensions well inside uint64: a header beyond them is garbage, not data.
constexpr uint64_t kMaxCount = uint64_t{1} << 28;
constexpr uint64_t kMaxSide = uint64_t{1} << 14;

std::string hex32(uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << std::setw(8) << std::setfill('0') << value;
  return out.str();
}

uint32_t big_endian_u32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

const char* const kRedownload = "delete it and run ./course setup to download it again";

// The bytes of a file, inflated on the fly when the file is gzipped, so that a bad header is
// caught before the whole file has been decompressed into memory.
class ByteSource {
 public:
  explicit ByteSource(const std::string& path) : path_(path) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    TT_CHECK(std::filesystem::exists(status),
             path << ": no such file (run ./course setup to download MNIST)");
    TT_CHECK(!std::filesystem::is_directory(status),
             path << ": is a directory, expected an IDX file");
    file_.reset(std::fopen(path.c_str(), "rb"));
    TT_CHECK(file_ != nullptr, path << ": cannot open: " << std::strerror(errno));

    uint8_t magic[2] = {0, 0};
    const size_t got = read_file(magic, 2);
    gzipped_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    TT_CHECK(std::fseek(file_.get(), 0, SEEK_SET) == 0,
             path << ": cannot seek: " << std::strerror(errno));
    if (gzipped_) {
      // 16 + MAX_WBITS: accept the gzip wrapper only, and check its CRC-32 and length trailer.
      TT_ASSERT(inflateInit2(&zstream_, 16 + MAX_WBITS) == Z_OK);
      zstream_ready_ = true;
      compressed_.resize(kChunkBytes);
    }
  }

  ~ByteSource() {
    if (zstream_ready_) inflateEnd(&zstream_);
  }

  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Fills dst with up to n bytes; fewer than n only at the end of the data.
  size_t read(uint8_t* dst, size_t n) { return gzipped_ ? inflate_into(dst, n) : read_file(dst, n); }

  bool gzipped() const { return gzipped_; }

  // True when a gzip file ended before its stream did (its end marker and checksum missing).
  bool cut_short() const { return cut_short_; }

  // " after gunzip" where that is what the byte counts in a message refer to.
  const char* counted() const { return gzipped_ ? " after gunzip" : ""; }

 private:
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };

  size_t read_file(uint8_t* dst, size_t n) {
    const size_t got = std::fread(dst, 1, n, file_.get());
    TT_CHECK(got == n || !std::ferror(file_.get()),
             path_ << ": read error: " << std::strerror(errno));
    return got;
  }

  size_t inflate_into(uint8_t* dst, size_t n) {
    size_t produced = 0;
    while (produced < n && !stream_ended_) {
      if (zstream_.avail_in == 0 && !file_exhausted_) refill();
      const size_t want = std::min<size_t>(n - produced, std::numeric_limits<uInt>::max());
      zstream_.next_out = dst + produced;
      zstream_.avail_out = static_cast<uInt>(want);
      const int status = inflate(&zstream_, Z_NO_FLUSH);
      produced += want - zstream_.avail_out;
      if (status == Z_STREAM_END) {
        stream_ended_ = true;
        if (zstream_.avail_in == 0 && !file_exhausted_) refill();
        // Two gzip files glued together, or junk after one, is not the file the header describes.
        TT_CHECK(zstream_.avail_in == 0, path_ << ": unexpected bytes after the end of the gzip "
                                               << "stream: " << kRedownload);
      } else if (status == Z_BUF_ERROR) {
        // No progress possible: the input ran out before the stream ended.
        TT_ASSERT(file_exhausted_ && zstream_.avail_in == 0);
        cut_short_ = true;
        break;
      } else {
        TT_CHECK(status == Z_OK, path_ << ": corrupted gzip stream (zlib: "
                                       << (zstream_.msg ? zstream_.msg : zError(status))
                                       << ") after " << zstream_.total_out
                                       << " decompressed bytes: " << kRedownload);
      }
    }
    return produced;
  }

  void refill() {
    const size_t got = read_file(compressed_.data(), compressed_.size());
    file_exhausted_ = got == 0;
    zstream_.next_in = compressed_.data();
    zstream_.avail_in = static_cast<uInt>(got);
  }

  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  bool gzipped_ = false;
  z_stream zstream_{};
  bool zstream_ready_ = false;
  std::vector<uint8_t> compressed_;
  bool file_exhausted_ = false;
  bool stream_ended_ = false;
  bool cut_short_ = false;
};

// An IDX file of unsigned bytes: its dimensions and its elements.
struct IdxBytes {
  std::vector<uint64_t> dims;
  std::vector<uint8_t> data;
};

// "60000 images of 28x28" or "60000 labels": what a header promises, in words.
std::string describe(const std::vector<uint64_t>& dims, const char* noun) {
  std::ostringstream out;
  out << dims[0] << " " << noun;
  for (size_t i = 1; i < dims.size(); ++i) out << (i == 1 ? " of " : "x") << dims[i];
  return out.str();
}

IdxBytes read_idx(const std::string& path, uint32_t expected_magic, const char* noun) {
  ByteSource in(path);
  // The magic's low byte is the number of dimensions; each is a uint32 after the magic.
  const size_t rank = expected_magic & 0xff;
  const size_t header_bytes = 4 + 4 * rank;
  uint8_t header[4 + 4 * 3];
  TT_ASSERT(header_bytes <= sizeof(header));
  const size_t header_got = in.read(header, header_bytes);

  if (header_got >= 4) {
    const uint32_t magic = big_endian_u32(header);
    std::string hint;
    if (magic == kIdxImagesMagic) hint = " (that is an IDX images file)";
    if (magic == kIdxLabelsMagic) hint = " (that is an IDX labels file)";
    TT_CHECK(magic == expected_magic, path << ": wrong magic number " << hex32(magic)
                                           << ", expected " << hex32(expected_magic)
                                           << " for IDX " << noun << hint);
  }
  TT_CHECK(header_got == header_bytes,
           path << ": truncated: an IDX " << noun << " file starts with a " << header_bytes
                << "-byte header, found only " << header_got << " bytes" << in.counted()
                << ": " << kRedownload);

  IdxBytes idx;
  for (size_t i = 0; i < rank; ++i) idx.dims.push_back(big_endian_u32(header + 4 + 4 * i));
  bool sane = idx.dims[0] >= 1 && idx.dims[0] <= kMaxCount;
  for (size_t i = 1; i < rank; ++i) sane = sane && idx.dims[i] >= 1 && idx.dims[i] <= kMaxSide;
  TT_CHECK(sane, path << ": absurd header: " << describe(idx.dims, noun) << " (expected 1 to "
                      << kMaxCount << " " << noun
                      << (rank > 1 ? ", each side 1 to " + std::to_string(kMaxSide) : "")
                      << "; is this really an IDX file?)");
  uint64_t payload_bytes = 1;
  for (uint64_t dim : idx.dims) payload_bytes *= dim;

  // Grown chunk by chunk, so a header that promises more than the file holds costs no memory.
  while (idx.data.size() < payload_bytes) {
    const size_t old_size = idx.data.size();
    const size_t want = std::min<uint64_t>(payload_bytes - old_size, kChunkBytes);
    idx.data.resize(old_size + want);
    const size_t got = in.read(idx.data.data() + old_size, want);
    idx.data.resize(old_size + got);
    if (got < want) break;
  }
  TT_CHECK(idx.data.size() == payload_bytes,
           path << ": truncated: the header promises " << describe(idx.dims, noun) << ", "
                << header_bytes + payload_bytes << " bytes in all (" << header_bytes
                << "-byte header + " << payload_bytes << " bytes of data), found "
                << header_bytes + idx.data.size() << " bytes" << in.counted()
                << (in.cut_short() ? " (the gzip stream itself is cut off)" : "") << ": "
                << kRedownload);

  // Read to the very end: extra bytes mean a different file, and only the end of a gzip
  // stream carries the checksum that proves the data above is intact.
  uint64_t extra_bytes = 0;
  std::vector<uint8_t> scratch(kChunkBytes);
  for (size_t got; (got = in.read(scratch.data(), scratch.size())) > 0;) extra_bytes += got;
  TT_CHECK(!in.cut_short(), path << ": truncated gzip stream: the data is all there but the "
                                 << "gzip end marker and checksum are missing: " << kRedownload);
  TT_CHECK(extra_bytes == 0, path << ": " << extra_bytes << " unexpected bytes" << in.counted()
                                  << " after the " << header_bytes + payload_bytes
                                  << " bytes the header promises (" << describe(idx.dims, noun)
                                  << ")");
  return idx;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  IdxBytes idx = read_idx(path, kIdxImagesMagic, "images");
  IdxImages images;
  images.count = idx.dims[0];
  images.rows = idx.dims[1];
  images.cols = idx.dims[2];
  images.pixels = std::move(idx.data);
  return images;
}

IdxLabels read_idx_labels(const std::string& path) {
  return IdxLabels{std::move(read_idx(path, kIdxLabelsMagic, "labels").data)};
}

}  // namespace datasets
