// Your group reduce: task ch08.4. README.md, "Task 4", walks through it.
#include <sstream>

#include "ch08/render_cuda.h"
#include "chapters/course.h"

namespace ch08 {

// TODO(ch08.4): the CUDA lines that combine the partials of a group, as render_cuda.h shows
// them: a __shared__ array [accumulators][threads of the block], every thread's partials into
// its column, __syncthreads(), the tree, then each accumulator read back from the group's first
// thread (threadIdx.x - group digit). Each line starts with two spaces and ends with "\n".
// Mind: a group of 100 threads (not a power of two); a barrier every thread of the block
// reaches, after every step; RMAX combines with ch08_max.
std::string group_combine(const GpuProgram& program, const std::vector<Accumulator>& accumulators) {
  throw course::NotImplemented("ch08.4: group_combine");
}

}  // namespace ch08
