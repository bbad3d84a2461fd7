#include "tinyref/nn/state.h"

#include <bit>
#include <cstring>
#include <set>

namespace tinyref::nn {

// The format is little-endian and blobs are copied byte for byte.
static_assert(std::endian::native == std::endian::little, "tinyref::nn::state assumes a little-endian host");

namespace {

std::vector<uint8_t> bytes_of(const Tensor& t) {
  std::vector<uint8_t> out;
  auto put = [&](const auto& v) {
    out.resize(v.size() * sizeof(v[0]));
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  };
  switch (t.dtype()) {
    case DType::kFloat32: put(t.to_vector<float>()); break;
    case DType::kFloat64: put(t.to_vector<double>()); break;
    case DType::kInt32: put(t.to_vector<int32_t>()); break;
    case DType::kUInt8: put(t.to_vector<uint8_t>()); break;
    case DType::kBool: {
      std::vector<bool> v = t.to_vector<bool>();
      out.assign(v.begin(), v.end());  // safetensors' BOOL is one byte, 0 or 1
      break;
    }
  }
  return out;
}

}  // namespace

std::string safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "F32";
    case DType::kFloat64: return "F64";
    case DType::kInt32: return "I32";
    case DType::kUInt8: return "U8";
    case DType::kBool: return "BOOL";
  }
  TT_ASSERT(false);
  return "";
}

DType dtype_from_safetensors(const std::string& name, const std::string& where) {
  if (name == "F32") return DType::kFloat32;
  if (name == "F64") return DType::kFloat64;
  if (name == "I32") return DType::kInt32;
  if (name == "U8") return DType::kUInt8;
  if (name == "BOOL") return DType::kBool;
  TT_CHECK(false, where << ": dtype " << name << " has no tinyref equivalent (F32, F64, I32, U8, BOOL)");
  return DType::kFloat32;
}

NamedBlobs to_blobs(const NamedTensors& state) {
  std::vector<Tensor> all = tensors_of(state);
  realize_all(all);  // one schedule for whatever is still lazy
  NamedBlobs blobs;
  for (const auto& [name, t] : state) {
    TT_CHECK(t.defined(), "save_state: tensor \"" << name << "\" is undefined");
    TensorBlob b{safetensors_dtype(t.dtype()), std::vector<int64_t>(t.shape().begin(), t.shape().end()), bytes_of(t)};
    TT_CHECK(blobs.emplace(name, std::move(b)).second, "save_state: the name \"" << name << "\" appears twice");
  }
  return blobs;
}

void save_state(const std::string& path, const NamedTensors& state, const std::map<std::string, std::string>& metadata) {
  write_safetensors(path, to_blobs(state), metadata);
}

void load_state(const std::string& path, const NamedTensors& state, bool strict) {
  NamedBlobs blobs = read_safetensors(path);  // validated in full, or throws
  // First check and stage every tensor; only then assign, so an error changes nothing.
  std::vector<Tensor> staged;
  std::set<std::string> wanted;
  for (const auto& [name, t] : state) {
    const std::string where = "load_state: " + path + ", tensor \"" + name + "\"";
    TT_CHECK(wanted.insert(name).second, "load_state: the name \"" << name << "\" appears twice in the model");
    auto it = blobs.find(name);
    TT_CHECK(it != blobs.end(), where << " is missing from the file (it holds " << blobs.size() << " tensors)");
    const TensorBlob& b = it->second;
    const DType dt = dtype_from_safetensors(b.dtype, where);
    TT_CHECK(dt == t.dtype(), where << ": the file holds " << dtype_name(dt) << ", the model wants "
                                    << dtype_name(t.dtype()));
    const std::vector<int64_t> want(t.shape().begin(), t.shape().end());
    TT_CHECK(b.shape == want, where << ": shape " << shape_str(b.shape) << " in the file, " << shape_str(want)
                                    << " in the model");
    if (dt == DType::kBool) {
      for (uint8_t byte : b.bytes) TT_CHECK(byte <= 1, where << ": a BOOL byte is " << int{byte} << ", not 0 or 1");
    }
    staged.push_back(Tensor::from_buffer(b.bytes.data(), dt, t.shape(), t.device()));
  }
  if (strict) {
    for (const auto& [name, b] : blobs) {
      TT_CHECK(wanted.count(name) != 0, "load_state: " << path << " holds tensor \"" << name
                                                       << "\", which the model does not have");
    }
  }
  for (size_t i = 0; i < state.size(); ++i) {
    Tensor target = state[i].second;  // shares the model's value
    target.assign(staged[i]);
  }
}

}  // namespace tinyref::nn
