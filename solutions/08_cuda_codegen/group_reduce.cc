#include <sstream>

#include "ch08/render_cuda.h"

namespace ch08 {

std::string group_combine(const GpuProgram& program, const std::vector<Accumulator>& accumulators) {
  if (accumulators.empty()) return "";
  const std::string& lidx = program.group;
  const int64_t size = program.group_size;
  const std::string type = accumulators[0].dtype == ch04::DType::kFloat32 ? "float" : "double";
  const bool max = accumulators[0].op == ch04::Op::RMAX;
  // The tree's first step pairs each thread with the one `half` above it, half the smallest
  // power of two that covers the group: for a group of 100, 64 (threads 64..99 hand their
  // partials to 0..35; 36..63 have no partner this step).
  int64_t half = 1;
  while (2 * half < size) half *= 2;
  std::ostringstream out;
  const std::string in = "  ";
  const std::string shared = "partial" + std::to_string(program.combine_after);
  auto slot = [&](size_t a, const std::string& thread) {
    return shared + "[" + std::to_string(a) + "][" + thread + "]";
  };
  auto combined = [&](const std::string& x, const std::string& y) {
    return max ? "ch08_max(" + x + ", " + y + ")" : "(" + x + "+" + y + ")";
  };
  out << in << "__shared__ " << type << " " << shared << "[" << accumulators.size() << "][" << program.dims.threads << "];\n";
  for (size_t a = 0; a < accumulators.size(); ++a) out << in << slot(a, "threadIdx.x") << " = " << accumulators[a].name << ";\n";
  out << in << "__syncthreads();\n";
  out << in << "for (int step = " << half << "; step > 0; step >>= 1) {\n";
  out << in << "  if (" << lidx << " < step && " << lidx << " + step < " << size << ") {\n";
  for (size_t a = 0; a < accumulators.size(); ++a) {
    out << in << "    " << slot(a, "threadIdx.x") << " = " << combined(slot(a, "threadIdx.x"), slot(a, "threadIdx.x+step"))
        << ";\n";
  }
  out << in << "  }\n";
  out << in << "  __syncthreads();\n";
  out << in << "}\n";
  for (size_t a = 0; a < accumulators.size(); ++a) {
    out << in << accumulators[a].name << " = " << slot(a, "threadIdx.x-" + lidx) << ";\n";
  }
  return out.str();
}

}  // namespace ch08
