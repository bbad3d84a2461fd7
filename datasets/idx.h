// Readers for IDX, the file format MNIST (and Fashion-MNIST) ships in, raw or gzipped:
//
//   datasets::IdxImages train = datasets::read_idx_images("datasets/mnist/train-images-idx3-ubyte");
//   // train.count == 60000, train.rows == train.cols == 28
//   uint8_t first_pixel_of_image_7 = train.pixels[7 * train.rows * train.cols];
//   datasets::IdxLabels labels = datasets::read_idx_labels("t10k-labels-idx1-ubyte.gz");
//
// The format (http://yann.lecun.com/exdb/mnist/): a big-endian uint32 magic number whose third
// byte is the element type (0x08 = unsigned byte) and fourth the number of dimensions, one
// big-endian uint32 per dimension, then the elements in row-major order. Images are
// 0x00000803 (count, rows, cols), labels 0x00000801 (count).
//
// A file that starts with the gzip magic bytes 1f 8b is inflated on the fly, so both the
// original downloads (*.gz) and the unpacked files work. Every way a download can go wrong
// (missing, cut short, corrupted, the wrong file) throws tinyref::Error naming the file and
// what was expected versus found: a student should never see a segfault or a silent garbage
// image because of a bad download.
#ifndef DATASETS_IDX_H_
#define DATASETS_IDX_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace datasets {

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;

struct IdxImages {
  size_t count = 0;
  size_t rows = 0;
  size_t cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols, image after image, row-major
};

struct IdxLabels {
  std::vector<uint8_t> labels;
};

// Both throw tinyref::Error for a missing file, a header with a zero or absurdly large
// dimension, a wrong magic number, a file shorter or longer than its header promises, or a
// corrupted gzip stream.
IdxImages read_idx_images(const std::string& path);
IdxLabels read_idx_labels(const std::string& path);

}  // namespace datasets

#endif  // DATASETS_IDX_H_
