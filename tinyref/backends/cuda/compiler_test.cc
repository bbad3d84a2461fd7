// NVRTC compilation and the module caches. NVRTC needs no GPU, so all of this runs on CI.
#include "tinyref/backends/cuda/compiler.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/cuda/nvrtc.h"
#include "tinyref/disk_cache.h"
#include "tinyref/error.h"

namespace tinyref::cuda {
namespace {

namespace fs = std::filesystem;

const char kScale[] =
    "extern \"C\" __global__ void scale(float* data0, const float* data1, int n) {\n"
    "  int gidx0 = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  if (gidx0 < n) data0[gidx0] = data1[gidx0] * 2.0f;\n"
    "}\n";

class CompilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!nvrtc_available()) GTEST_SKIP() << "built without the CUDA toolkit: no NVRTC";
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp ? tmp : fs::temp_directory_path().string()) /
           ("cache_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST_F(CompilerTest, CompilesToCubinForAnArchNvrtcKnows) {
  Compiler compiler(90, dir_);
  EXPECT_EQ(compiler.arch(), "sm_90a") << "9.0's own variant: wgmma is in no other";
  EXPECT_EQ(Compiler(80, dir_).arch(), "sm_80");
  const CompiledModule& module = compiler.compile(kScale, "scale");
  EXPECT_TRUE(module.cubin);
  ASSERT_GE(module.image.size(), 4u);
  EXPECT_EQ(module.image.substr(0, 4), "\x7f" "ELF");  // a CUBIN is an ELF file
  EXPECT_EQ(compiler.stats().compiles, 1);
}

TEST_F(CompilerTest, FallsBackToPtxForAGpuNewerThanNvrtc) {
  Compiler compiler(990, dir_);  // compute capability 99.0: no NVRTC emits machine code for it
  EXPECT_EQ(compiler.arch().rfind("compute_", 0), 0u) << compiler.arch();
  const CompiledModule& module = compiler.compile(kScale, "scale");
  EXPECT_FALSE(module.cubin);
  EXPECT_NE(module.image.find(".entry scale"), std::string::npos) << module.image.substr(0, 400);
}

TEST_F(CompilerTest, AnArchOlderThanNvrtcSupportsIsAnError) {
  try {
    Compiler compiler(30, dir_);
    FAIL() << "expected tinyref::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot target compute capability 3.0"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(CompilerTest, CompileErrorCarriesTheLogAndTheSavedSourcePath) {
  Compiler compiler(90, dir_);
  const std::string broken =
      "extern \"C\" __global__ void E_4(float* data0) {\n"
      "  data0[threadIdx.x] = undeclared_thing;\n"
      "}\n";
  std::string message;
  try {
    compiler.compile(broken, "E_4");
    FAIL() << "expected tinyref::Error";
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("could not compile kernel 'E_4' for sm_90a (NVRTC_ERROR_COMPILATION)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("E_4.cu(2): error: identifier \"undeclared_thing\" is undefined"),
            std::string::npos)
      << message;
  const std::string marker = "source saved to ";
  const size_t at = message.find(marker);
  ASSERT_NE(at, std::string::npos) << message;
  const size_t end = message.find('\n', at);
  const fs::path saved = message.substr(at + marker.size(), end - at - marker.size());
  EXPECT_EQ(read(saved), broken) << saved;
  EXPECT_EQ(compiler.stats().compiles, 1);
}

TEST_F(CompilerTest, SecondCompileHitsMemory) {
  Compiler compiler(90, dir_);
  const CompiledModule& first = compiler.compile(kScale, "scale");
  const CompiledModule& second = compiler.compile(kScale, "scale");
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(compiler.stats().compiles, 1);
  EXPECT_EQ(compiler.stats().memory_hits, 1);
}

// A search's variants: compiled side by side, then each compile() is a memory hit. Twins are
// compiled once; a source that fails is left for compile(), which throws its log in its place.
TEST_F(CompilerTest, CompileAheadFillsTheCacheAndLeavesFailuresToCompile) {
  Compiler compiler(90, dir_);
  std::vector<NamedSource> sources;
  for (int k = 2; k <= 5; ++k) {
    std::string source = kScale;
    source.replace(source.find("2.0f"), 4, std::to_string(k) + ".0f");
    sources.push_back({source, "scale"});
  }
  sources.push_back(sources[0]);                                 // the same source twice
  sources.push_back({"extern \"C\" __global__ void bad( {", "bad"});  // does not compile
  compiler.compile_ahead(sources);
  EXPECT_EQ(compiler.stats().compiles, 4) << "4 distinct sources compile; the twin and the failure do not count";
  EXPECT_EQ(compiler.stats().memory_hits, 0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(compiler.compile(sources[i].source, "scale").cubin);
  EXPECT_EQ(compiler.stats().compiles, 4);
  EXPECT_EQ(compiler.stats().memory_hits, 5);
  EXPECT_THROW(compiler.compile(sources[5].source, "bad"), Error);
  compiler.compile_ahead(sources);  // all cached but the failure, which keeps nothing
  EXPECT_EQ(compiler.stats().compiles, 5);
}

TEST_F(CompilerTest, AFreshCompilerIsServedByTheDiskCache) {
  std::string image;
  {
    Compiler compiler(90, dir_);
    image = compiler.compile(kScale, "scale").image;
    EXPECT_EQ(compiler.stats().compiles, 1);
  }
  Compiler fresh(90, dir_);
  EXPECT_EQ(fresh.compile(kScale, "scale").image, image);
  EXPECT_EQ(fresh.stats().compiles, 0);
  EXPECT_EQ(fresh.stats().disk_hits, 1);
}

// This binary runs itself as a child process that compiles into a fresh cache directory; the
// parent's compiler then finds the module there and compiles nothing.
TEST_F(CompilerTest, AnotherProcessCompilesNothing) {
  if (const char* child_dir = std::getenv("TT_CUDA_CHILD_CACHE_DIR")) {  // we are the child
    Compiler compiler(90, child_dir);
    compiler.compile(kScale, "scale");
    EXPECT_EQ(compiler.stats().compiles, 1);
    return;
  }
  // /proc/self/exe inside the shell would be the shell: resolve it here.
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string command = "TT_CUDA_CHILD_CACHE_DIR='" + dir_.string() + "' '" + self +
                              "' --gtest_filter=CompilerTest.AnotherProcessCompilesNothing"
                              " > '" + dir_.string() + ".log' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read(dir_.string() + ".log");
  Compiler compiler(90, dir_);
  compiler.compile(kScale, "scale");
  EXPECT_EQ(compiler.stats().compiles, 0);
  EXPECT_EQ(compiler.stats().disk_hits, 1);
}

TEST_F(CompilerTest, CacheKeyCoversSourceOptionsAndArch) {
  Compiler sm90(90, dir_);
  Compiler sm80(80, dir_);
  Compiler lineinfo(90, dir_, {"-lineinfo"});
  EXPECT_EQ(sm90.cache_key(kScale), Compiler(90, dir_).cache_key(kScale));
  EXPECT_EQ(sm90.cache_key(kScale).size(), 16u);
  EXPECT_NE(sm90.cache_key(kScale), sm90.cache_key(std::string(kScale) + " "));
  EXPECT_NE(sm90.cache_key(kScale), sm80.cache_key(kScale));
  EXPECT_NE(sm90.cache_key(kScale), lineinfo.cache_key(kScale));
}

TEST_F(CompilerTest, ACorruptCacheFileIsRecompiledNotTrusted) {
  Compiler compiler(90, dir_);
  const std::string hash = compiler.compile(kScale, "scale").hash;
  const fs::path file = dir_ / (hash + ".module");
  ASSERT_TRUE(fs::exists(file));
  fs::resize_file(file, fs::file_size(file) - 100);  // as if a crash cut it short
  Compiler fresh(90, dir_);
  const CompiledModule& module = fresh.compile(kScale, "scale");
  EXPECT_EQ(fresh.stats().compiles, 1);
  EXPECT_EQ(fresh.stats().disk_hits, 0);
  EXPECT_EQ(module.image.substr(0, 4), "\x7f" "ELF");
  // One flipped byte in the image, same length: the hash catches it.
  {
    std::fstream damaged(file, std::ios::binary | std::ios::in | std::ios::out);
    damaged.seekg(-10, std::ios::end);
    const char byte = static_cast<char>(damaged.get());
    damaged.seekp(-10, std::ios::end);
    damaged.put(static_cast<char>(~byte));
  }
  Compiler third(90, dir_);
  third.compile(kScale, "scale");
  EXPECT_EQ(third.stats().compiles, 1);
}

TEST_F(CompilerTest, EmptyCacheDirMeansNoDiskCache) {
  Compiler compiler(90, "");
  compiler.compile(kScale, "scale");
  Compiler fresh(90, "");
  fresh.compile(kScale, "scale");
  EXPECT_EQ(fresh.stats().compiles, 1);
}

TEST_F(CompilerTest, DefaultCacheDirFollowsXdgThenHome) {
  testing_util::ScopedEnv xdg("XDG_CACHE_HOME", "/some/xdg");
  EXPECT_EQ(Compiler::default_cache_dir(), fs::path("/some/xdg/tinyref/cuda"));
  xdg.set(nullptr);
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    EXPECT_EQ(Compiler::default_cache_dir(), fs::path(home) / ".cache/tinyref/cuda");
  }
}

TEST(FnvTest, KnownValues) {  // cache file names: FNV-1a as disk_cache.h computes it
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(hash_hex("a"), "af63dc4c8601ec8c");
}

}  // namespace
}  // namespace tinyref::cuda
