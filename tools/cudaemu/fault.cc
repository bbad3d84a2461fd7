// Reports. Every fault reads the same way, most important first:
//
//   cudaemu: out-of-bounds write
//     kernel add_one<<<(4,1,1), (256,1,1)>>> launched at add.cu:31
//     block (3,0,0), thread (232,0,0) (warp 7, lane 8), at add.cu:12
//     the 4-byte write at 0x5583a0 is 0 bytes past the end of allocation #2 (4000 bytes from cudaMalloc)
//     (element 1000 of 4-byte elements, which has 1000 of them)
#include <sstream>
#include <string>

#include "tools/cudaemu/block.h"

namespace cudaemu::detail {

std::string dim_str(const uint3& d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}
std::string dim_str(const dim3& d) { return dim_str(uint3{d.x, d.y, d.z}); }

std::string where(const std::source_location& loc) {
  if (loc.line() == 0) return "an unknown line";
  std::string file = loc.file_name();
  if (const size_t slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
  return file + ":" + std::to_string(loc.line());
}

std::string kernel_line(const Launch& launch) {
  const LaunchConfig& c = launch.spec->config;
  std::ostringstream os;
  os << "  kernel " << launch.spec->name << "<<<" << dim_str(c.grid) << ", " << dim_str(c.block);
  if (c.shared_bytes) os << ", " << c.shared_bytes;
  os << ">>>";
  if (c.loc.line() != 0) os << " launched at " << where(c.loc);
  os << "\n";
  return os.str();
}

std::string block_report(const Launch& launch, uint64_t block, const std::string& title, const std::string& details) {
  const dim3 grid = launch.spec->config.grid;
  const uint3 b{static_cast<unsigned>(block % grid.x), static_cast<unsigned>((block / grid.x) % grid.y),
                static_cast<unsigned>(block / (uint64_t{grid.x} * grid.y))};
  return "cudaemu: " + title + "\n" + kernel_line(launch) + "  block " + dim_str(b) + "\n" + details;
}

void fault(cudaError_t code, const std::string& title, const std::string& details, const std::source_location& loc) {
  const CudaThread& t = this_thread();
  const Launch& launch = this_launch();
  std::ostringstream os;
  os << "cudaemu: " << title << "\n"
     << kernel_line(launch) << "  block " << dim_str(t.info.block_idx) << ", thread " << dim_str(t.info.thread_idx)
     << " (warp " << t.warp << ", lane " << t.lane << "), at " << where(loc) << "\n"
     << details;
  const_cast<Launch&>(launch).record_fault(this_block(), code, os.str());
  throw KernelFault{};
}

void invalid_use(const char* what, const std::source_location& loc) {
  fault(cudaErrorLaunchFailure, "invalid use of device memory", std::string("  ") + what + "\n", loc);
}

void index_fault(int64_t index, size_t extent, const Region* region, const std::source_location& loc) {
  std::ostringstream os;
  os << "  index " << index << " is outside [0, " << extent << ") in " << (region ? describe_shared(*region) : "an array")
     << "\n";
  fault(cudaErrorIllegalAddress, "out-of-bounds index into a __shared__ array", os.str(), loc);
}

void device_fault(const char* kind, const char* what, const std::source_location& loc) {
  const std::string k = kind;
  fault(k == "assert" ? cudaErrorAssert : cudaErrorIllegalInstruction, k == "assert" ? "assertion failed" : "trap",
        std::string("  ") + (k == "assert" ? "assert(" + std::string(what) + ")" : std::string(what)) + "\n", loc);
}

}  // namespace cudaemu::detail
