// A model's state in a safetensors file (see safetensors.h): the checkpoint format of
// Hugging Face, PyTorch (safetensors.torch.load_file) and tinygrad (nn.state.safe_load).
//
//   nn::save_state("mnist.safetensors", model.state());
//   nn::load_state("mnist.safetensors", model.state());   // every tensor checked, then assigned
//
// Loading is all or nothing: a file that cannot be read, a tensor the model has that the file
// lacks (or, strictly, the other way round), a dtype or a shape that differs: each throws
// tinyref::Error naming the file and the tensor, and no tensor of the model has changed.
//
// dtypes map to the format's names: float32 "F32", float64 "F64", int32 "I32", uint8 "U8",
// bool "BOOL". Data is written little-endian, as the format requires.
#ifndef TINYREF_NN_STATE_H_
#define TINYREF_NN_STATE_H_

#include <map>
#include <string>

#include "tinyref/nn/module.h"
#include "tinyref/nn/safetensors.h"

namespace tinyref::nn {

std::string safetensors_dtype(DType dtype);  // "F32"
DType dtype_from_safetensors(const std::string& name, const std::string& where);  // throws for others

// The tensors' values as blobs (runs whatever is still lazy); names must be unique.
NamedBlobs to_blobs(const NamedTensors& state);

void save_state(const std::string& path, const NamedTensors& state,
                const std::map<std::string, std::string>& metadata = {});

// strict: the file may hold no tensor that `state` lacks.
void load_state(const std::string& path, const NamedTensors& state, bool strict = true);

}  // namespace tinyref::nn

#endif  // TINYREF_NN_STATE_H_
