#include "tests/06_cpu_codegen/tinyref_kernel.h"

#include <algorithm>
#include <cstring>

#include "tinyref/backends/registry.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/linearizer.h"

namespace tinyref_kernel {

std::vector<double> run(const tinyref::AstRef& ast, const std::vector<tinyref::DType>& dtypes,
                        const std::vector<std::vector<double>>& inputs, int64_t out_numel) {
  using tinyref::DType;
  std::vector<tinyref::BufferArg> args = {{dtypes[0], out_numel}};
  for (size_t i = 0; i < inputs.size(); ++i) args.push_back({dtypes[i + 1], static_cast<int64_t>(inputs[i].size())});
  // Bytes per buffer, each buffer holding at least one element (INTERP never reads an empty one).
  std::vector<std::vector<unsigned char>> memory;
  std::vector<void*> pointers;
  for (size_t b = 0; b < args.size(); ++b) {
    const size_t item = tinyref::itemsize(args[b].dtype);
    memory.emplace_back(item * static_cast<size_t>(std::max<int64_t>(args[b].size, 1)));
    for (int64_t j = 0; b > 0 && j < args[b].size; ++j) {
      const double v = inputs[b - 1][j];
      if (args[b].dtype == DType::kFloat64) {
        std::memcpy(memory.back().data() + 8 * j, &v, 8);
      } else {
        const float x = static_cast<float>(v);
        std::memcpy(memory.back().data() + 4 * j, &x, 4);
      }
    }
    pointers.push_back(memory.back().data());
  }
  tinyref::Kernel kernel(ast, args);
  const tinyref::Program program = tinyref::linearize(kernel);
  tinyref::Device& interp = tinyref::get_device("INTERP");
  auto compiled = interp.compile(program);
  interp.launch(*compiled, pointers);
  std::vector<double> out(out_numel);
  for (int64_t j = 0; j < out_numel; ++j) {
    if (dtypes[0] == DType::kFloat64) {
      std::memcpy(&out[j], memory[0].data() + 8 * j, 8);
    } else {
      float x;
      std::memcpy(&x, memory[0].data() + 4 * j, 4);
      out[j] = x;
    }
  }
  return out;
}

}  // namespace tinyref_kernel
