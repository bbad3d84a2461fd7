#include "tinyref/nn/safetensors.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>

#include "tinyref/error.h"

namespace tinyref::nn {

namespace {

using nlohmann::json;

// A header larger than this is not a checkpoint (safetensors itself caps it at 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// 0 for a dtype the format does not define.
size_t itemsize_or_zero(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

// The bytes of a tensor of this shape and dtype. A header may claim any shape: a negative
// dimension, or a size that overflows 64 bits (and so could wrap round to match the data), is
// rejected, naming `where`.
uint64_t byte_count(const std::vector<int64_t>& shape, const std::string& dtype, const std::string& where) {
  for (int64_t d : shape) TT_CHECK(d >= 0, where << ": negative dimension in shape " << shape_text(shape));
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;  // empty, whatever the rest
  uint64_t bytes = safetensors_itemsize(dtype);
  for (int64_t d : shape) {
    TT_CHECK(!__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes),
             where << ": shape " << shape_text(shape) << " of dtype " << dtype << " has more bytes than 64 bits count");
  }
  return bytes;
}

}  // namespace

size_t safetensors_itemsize(const std::string& dtype) {
  const size_t size = itemsize_or_zero(dtype);
  TT_CHECK(size != 0, "safetensors: unknown dtype \"" << dtype << "\"");
  return size;
}

void write_safetensors(const std::string& path, const NamedBlobs& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, blob] : tensors) {
    const uint64_t bytes = byte_count(blob.shape, blob.dtype, "safetensors: tensor \"" + name + "\"");
    TT_CHECK(bytes == blob.bytes.size(), "safetensors: tensor \"" << name << "\" of dtype " << blob.dtype << " and shape "
                                                                  << shape_text(blob.shape) << " needs " << bytes
                                                                  << " bytes, got " << blob.bytes.size());
    header[name] = {{"dtype", blob.dtype},
                    {"shape", blob.shape},
                    {"data_offsets", {offset, offset + blob.bytes.size()}}};
    offset += blob.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned

  std::ofstream out(path, std::ios::binary);
  TT_CHECK(out, "safetensors: cannot write " << path);
  const uint64_t n = text.size();
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(n >> (8 * i));
  out.write(reinterpret_cast<const char*>(length), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& [name, blob] : tensors) {
    out.write(reinterpret_cast<const char*>(blob.bytes.data()),
              static_cast<std::streamsize>(blob.bytes.size()));
  }
  TT_CHECK(out.good(), "safetensors: writing " << path << " failed");
}

NamedBlobs read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TT_CHECK(in, "safetensors: cannot open " << path << " (no such file?)");
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  TT_CHECK(file.size() >= 8, "safetensors: " << path << " is truncated: " << file.size()
                                             << " bytes, not even the 8-byte header length");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | file[i];
  TT_CHECK(header_size <= kMaxHeaderBytes && header_size <= file.size() - 8,
           "safetensors: " << path << " is truncated or not a safetensors file: the header "
                           << "claims " << header_size << " bytes but the file has "
                           << file.size() - 8 << " after the length");
  json header;
  try {
    header = json::parse(file.begin() + 8, file.begin() + 8 + static_cast<long>(header_size));
  } catch (const json::exception& e) {
    TT_CHECK(false, "safetensors: " << path << " has a corrupted header: " << e.what());
  }
  TT_CHECK(header.is_object(), "safetensors: " << path << ": the header is not a JSON object");

  const uint64_t data_begin = 8 + header_size, data_size = file.size() - data_begin;
  NamedBlobs out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "safetensors: " + path + ", tensor \"" + name + "\"";
    TensorBlob blob;
    uint64_t begin = 0, end = 0;
    try {
      blob.dtype = entry.at("dtype").get<std::string>();
      blob.shape = entry.at("shape").get<std::vector<int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
      TT_CHECK(offsets.size() == 2, where << ": data_offsets must hold [begin, end]");
      begin = offsets[0];
      end = offsets[1];
    } catch (const json::exception& e) {
      TT_CHECK(false, where << ": malformed entry (" << e.what() << ")");
    }
    TT_CHECK(itemsize_or_zero(blob.dtype) != 0, where << ": unknown dtype \"" << blob.dtype << "\"");
    const uint64_t bytes = byte_count(blob.shape, blob.dtype, where);
    TT_CHECK(begin <= end && end <= data_size,
             where << ": data_offsets [" << begin << ", " << end << "] lie outside the "
                   << data_size << " bytes of data (the file is truncated or corrupted)");
    TT_CHECK(end - begin == bytes,
             where << ": " << end - begin << " bytes do not hold dtype " << blob.dtype
                   << " and shape " << shape_text(blob.shape));
    blob.bytes.assign(file.begin() + static_cast<long>(data_begin + begin),
                      file.begin() + static_cast<long>(data_begin + end));
    ranges.push_back({begin, end});
    out.emplace(name, std::move(blob));
  }
  // The format stores tensors back to back: any overlap or hole means corruption.
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    TT_CHECK(begin == covered, "safetensors: " << path << ": tensor data overlaps or leaves a "
                                               << "hole at byte " << std::min(begin, covered));
    covered = end;
  }
  TT_CHECK(covered == data_size, "safetensors: " << path << ": " << data_size - covered
                                                 << " bytes after the last tensor");
  return out;
}

}  // namespace tinyref::nn
