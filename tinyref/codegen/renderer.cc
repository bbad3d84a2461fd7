#include "tinyref/codegen/renderer.h"

#include "tinyref/codegen/cpp_renderer.h"
#include "tinyref/codegen/cuda_renderer.h"

namespace tinyref {

void render(Program& program, Language language) {
  switch (language) {
    case Language::kNone: break;
    case Language::kCpp:
      program.src = render_cpp(program);
      program.entry = cpp_entry_point(program);
      break;
    case Language::kCuda:
      program.src = render_cuda(program);
      program.entry = program.name;  // the extern "C" __global__ function itself
      program.dynamic_shared_bytes = cuda_dynamic_shared_bytes(program);
      break;
  }
}

}  // namespace tinyref
