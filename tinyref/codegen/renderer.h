// Program -> source, in the language a device compiles (CodegenOptions::language): the last
// step of the codegen, before a Device compiles program.src.
//
//   Program p = linearize(k);
//   render(p, Language::kCpp);    // p.src: C++ (cpp_renderer.h), p.entry: "E_4096_8_launch"
//   render(p, Language::kCuda);   // p.src: CUDA C (cuda_renderer.h), p.entry: "E_4096_8"
//   render(p, Language::kNone);   // nothing: INTERP runs p.uops
#ifndef TINYREF_CODEGEN_RENDERER_H_
#define TINYREF_CODEGEN_RENDERER_H_

#include "tinyref/codegen/options.h"
#include "tinyref/codegen/uops.h"

namespace tinyref {

void render(Program& program, Language language);

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_RENDERER_H_
