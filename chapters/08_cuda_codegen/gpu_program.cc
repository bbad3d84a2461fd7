// Your lowering to GPU uops: task ch08.2. README.md, "Task 2", walks through it.
#include "ch08/gpu_program.h"

#include <map>
#include <stdexcept>

#include "ch06/linearize.h"
#include "ch06/simplify.h"
#include "chapters/course.h"

namespace ch08 {

// TODO(ch08.2): the digit as CUDA C, in the forms gpu_program.h shows. `dims` says how many
// blocks and threads there are: the slowest digit's stride times extent is all of them.
std::string index_expression(const GpuIndex& index, const gpu::LaunchDims& dims) {
  throw course::NotImplemented("ch08.2: index_expression");
}

// TODO(ch08.2): chapter 6's linearize, then a new uop list: the DEFINE_GLOBALs, one SPECIAL
// per digit (blocks then threads, slowest first, with var and extent), then every other uop
// except the RANGEs of digits and the END_RANGEs that close them. Operands are positions, so
// keep a table old position -> new position and rewrite every src through it. Then:
// indices (each digit's stride: the product of the extents of the faster digits of its kind),
// dims, group and group_size, float4; in a group reduce, (group_var < 1) AND every STORE's
// guard, and combine_after.
GpuProgram lower_gpu(const GpuKernel& kernel) {
  throw course::NotImplemented("ch08.2: lower_gpu");
}

}  // namespace ch08
