// Task 6: CudaCompiler. NVRTC's options for an architecture, the cache key, compiling to a
// CUBIN (or PTX for a GPU newer than NVRTC), both caches, and a refused source reported with
// NVRTC's log and the source kept. NVRTC needs no GPU: these run wherever the CUDA toolkit is
// installed (CI included); elsewhere they skip, saying why.
#include "ch08/cuda_compiler.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tools/gpu/cuda_api.h"

namespace {

namespace fs = std::filesystem;
using ch08::CudaCompiler;

std::string kernel_source(const std::string& name, float factor) {
  return "extern \"C\" __global__ void " + name + "(float* __restrict__ out, const float* __restrict__ in) {\n"
         "  out[threadIdx.x] = in[threadIdx.x] * " + std::to_string(factor) + "f;\n}\n";
}

class Task6Compiler : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CudaCompiler::available()) GTEST_SKIP() << "no NVRTC here: " << CudaCompiler::why_not();
    dir_ = fs::path(::testing::TempDir()) / ("nvrtc_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  static int newest_known_arch() {
    int newest = 0;
    for (int a : gpu::nvrtc_api()->architectures()) newest = std::max(newest, a);
    return newest;
  }
  fs::path dir_;
};

TEST_F(Task6Compiler, OptionsForTheArchitecture) {
  CudaCompiler h100(90, dir_.string());
  const std::string one_rounding =
      "; --fmad=false keeps every multiply and add rounded on its own, so that a value recomputed in two kernels is "
      "the same in both (README, \"One value, one rounding\")";
  EXPECT_EQ(h100.options(), (std::vector<std::string>{"--gpu-architecture=sm_90", "--fmad=false"}))
      << "NVRTC knows sm_90: machine code" << one_rounding;
  EXPECT_TRUE(h100.cubin());
  const int newest = newest_known_arch();
  CudaCompiler future(newest + 100, dir_.string());
  EXPECT_EQ(future.options(),
            (std::vector<std::string>{"--gpu-architecture=compute_" + std::to_string(newest), "--fmad=false"}))
      << "a GPU newer than NVRTC gets PTX of the newest architecture NVRTC knows, which the driver compiles"
      << one_rounding;
  EXPECT_FALSE(future.cubin());
}

TEST_F(Task6Compiler, CompilesToACubin) {
  CudaCompiler nvrtc(90, dir_.string());
  const std::string& image = nvrtc.compile("scale", kernel_source("scale", 2));
  ASSERT_GE(image.size(), 4u);
  EXPECT_EQ(image.substr(0, 4), "\x7f" "ELF") << "a CUBIN is an ELF file of GPU machine code";
  EXPECT_EQ(nvrtc.stats().nvrtc_runs, 1);
}

TEST_F(Task6Compiler, CompilesToPtxForAnUnknownGpu) {
  CudaCompiler nvrtc(newest_known_arch() + 100, dir_.string());
  const std::string& ptx = nvrtc.compile("scale", kernel_source("scale", 2));
  EXPECT_NE(ptx.find(".entry scale"), std::string::npos) << "PTX text naming the kernel:\n" << ptx.substr(0, 400);
  EXPECT_EQ(ptx.find('\0'), std::string::npos) << "the PTX without NVRTC's terminating NUL";
}

TEST_F(Task6Compiler, CachesInMemoryAndOnDisk) {
  const std::string a = kernel_source("scale", 2), b = kernel_source("scale", 3);
  {
    CudaCompiler nvrtc(90, dir_.string());
    const std::string& first = nvrtc.compile("scale", a);
    EXPECT_EQ(&nvrtc.compile("scale", a), &first) << "the same source again: the same image";
    EXPECT_EQ(nvrtc.stats().nvrtc_runs, 1);
    EXPECT_EQ(nvrtc.stats().memory_hits, 1);
    nvrtc.compile("scale", b);
    EXPECT_EQ(nvrtc.stats().nvrtc_runs, 2) << "another source compiles";
  }
  CudaCompiler later(90, dir_.string());  // the next run of the program
  const std::string& image = later.compile("scale", a);
  EXPECT_EQ(later.stats().nvrtc_runs, 0) << "found in " << dir_;
  EXPECT_EQ(later.stats().disk_hits, 1);
  EXPECT_EQ(image.substr(0, 4), "\x7f" "ELF");
  bool named = false;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    named = named || entry.path().filename().string().rfind("scale_" + later.cache_key(a), 0) == 0;
  }
  EXPECT_TRUE(named) << "files are named <kernel>_<cache_key>";
}

TEST_F(Task6Compiler, TheKeyIsTheSourceTheArchitectureAndNvrtc) {
  CudaCompiler h100(90, dir_.string()), a100(80, dir_.string());
  const std::string s = kernel_source("scale", 2);
  EXPECT_EQ(h100.cache_key(s).size(), 16u) << "16 hex digits";
  EXPECT_EQ(h100.cache_key(s), CudaCompiler(90, "").cache_key(s)) << "the folder is not part of the key";
  EXPECT_NE(h100.cache_key(s), a100.cache_key(s)) << "sm_90 and sm_80 machine code differ";
  EXPECT_NE(h100.cache_key(s), h100.cache_key(s + " ")) << "every byte of the source counts";
  h100.compile("scale", s);
  a100.compile("scale", s);
  EXPECT_EQ(a100.stats().nvrtc_runs, 1) << "no CUBIN for sm_90 may serve an sm_80 GPU";
}

TEST_F(Task6Compiler, ARefusedSourceNamesTheKernelQuotesNvrtcAndKeepsTheSource) {
  CudaCompiler nvrtc(90, dir_.string());
  const std::string bad = "extern \"C\" __global__ void broken(float* out) {\n  out[0] = not_declared;\n}\n";
  try {
    nvrtc.compile("broken", bad);
    FAIL() << "a kernel using an undeclared name compiled";
  } catch (const ch08::CudaCompileError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kernel(), "broken");
    EXPECT_NE(message.find("broken"), std::string::npos) << message;
    EXPECT_NE(message.find("not_declared"), std::string::npos) << "NVRTC's log names what is wrong:\n" << message;
    EXPECT_NE(message.find(e.source_path()), std::string::npos) << "the message says where the source is:\n" << message;
    std::ifstream saved(e.source_path());
    std::string text((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, bad) << "the source, saved at " << e.source_path();
  }
}

}  // namespace
