// The safetensors checkpoint format: an 8-byte little-endian header length, a JSON header,
// then the raw little-endian bytes of every tensor. Files written here open in PyTorch
// (safetensors.torch.load_file) and in any other tool that reads the format.
//
//   NamedBlobs blobs;
//   blobs["fc.weight"] = {"F32", {10, 784}, bytes_of(weight)};
//   write_safetensors("model.safetensors", blobs);
//   NamedBlobs back = read_safetensors("model.safetensors");   // validated, or throws
//
// Layout on disk:
//   [u64 n][n bytes: {"fc.weight":{"dtype":"F32","shape":[10,784],"data_offsets":[0,31360]}, ...}]
//   [data: tensors back to back; offsets are relative to the start of this section]
//
// Reading checks everything before returning anything (a truncated file, a corrupted header,
// offsets outside the data or overlapping, a size that does not match dtype and shape), so a
// caller that loads into a model changes nothing when the file is bad.
#ifndef TINYREF_NN_SAFETENSORS_H_
#define TINYREF_NN_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tinyref::nn {

struct TensorBlob {
  std::string dtype;           // safetensors' names: "F64", "F32", "I32", "U8", "BOOL", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // little-endian, row-major
};

// Sorted by name, so a file's layout does not depend on insertion order.
using NamedBlobs = std::map<std::string, TensorBlob>;

// Bytes per element of a safetensors dtype name; throws tinyref::Error for an unknown one.
size_t safetensors_itemsize(const std::string& dtype);

void write_safetensors(const std::string& path, const NamedBlobs& tensors,
                       const std::map<std::string, std::string>& metadata = {});

NamedBlobs read_safetensors(const std::string& path);

}  // namespace tinyref::nn

#endif  // TINYREF_NN_SAFETENSORS_H_
