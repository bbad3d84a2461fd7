// Task 4: the Compiler. Hand-written kernel sources (no other task needed) are compiled, loaded
// and run; the disk cache is checked for what it must reuse and for what it must not (a binary
// built with other flags), and every failure must be a CompileError that names the kernel and
// keeps the source.
//
// Each test gets a fresh cache folder under $TEST_TMPDIR, so the compiler-run counts are exact.
#include "ch06/compiler.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace {

namespace fs = std::filesystem;
using ch06::Compiler;
using ch06::CompileError;

// out[i] = in[i] * SCALE for n floats; SCALE is `scale` unless the flags define it.
std::string scale_source(const std::string& name, const std::string& scale, int n) {
  std::ostringstream s;
  s << "#ifndef SCALE\n#define SCALE " << scale << "\n#endif\n"
    << "extern \"C\" void " << name << "(float* __restrict__ out, const float* __restrict__ in) {\n"
    << "  for (int i = 0; i < " << n << "; i++) out[i] = in[i] * SCALE;\n}\n"
    << "extern \"C\" void " << ch06::entry_point(name) << "(void** b) { " << name
    << "((float*)b[0], (const float*)b[1]); }\n";
  return s.str();
}

std::vector<float> run_scale(ch06::KernelFunction f, const std::vector<float>& in) {
  std::vector<float> out(in.size(), -1.0f);
  void* bufs[] = {out.data(), const_cast<float*>(in.data())};
  f(bufs);
  return out;
}

class Task4Compiler : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp ? tmp : "/tmp") /
           ("ch06_compiler_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir() const { return dir_.string(); }
  fs::path dir_;
};

TEST_F(Task4Compiler, CompilesLoadsAndRuns) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int n = 1 + static_cast<int>(rng() % 40);
    const int scale = 2 + static_cast<int>(rng() % 50);
    std::vector<float> in(n);
    for (float& v : in) v = static_cast<float>(rng() % 1000) / 8.0f;
    Compiler compiler(dir());
    const auto f = compiler.compile("E_scale", scale_source("E_scale", std::to_string(scale), n));
    ASSERT_NE(f, nullptr);
    const std::vector<float> out = run_scale(f, in);
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(out[i], in[i] * static_cast<float>(scale)) << "element " << i << " of " << n << ", scale " << scale;
    }
    EXPECT_EQ(compiler.stats().compiler_runs, 1);
  }
}

TEST_F(Task4Compiler, SecondCompileOfTheSameSourceRunsNoCompiler) {
  const std::string src = scale_source("E_twice", "3", 8);
  Compiler first(dir());
  const auto f = first.compile("E_twice", src);
  EXPECT_EQ(first.stats().compiler_runs, 1);
  EXPECT_EQ(first.compile("E_twice", src), f) << "the same source twice must give the loaded function again";
  EXPECT_EQ(first.stats().compiler_runs, 1) << "the second compile of the same source ran the compiler again";
  EXPECT_EQ(first.stats().memory_hits, 1);

  // A new Compiler (as in a second run of the program) finds the shared object on disk.
  Compiler second(dir());
  const auto g = second.compile("E_twice", src);
  EXPECT_EQ(second.stats().compiler_runs, 0) << "a second run must load the cached .so, not compile";
  EXPECT_EQ(second.stats().disk_hits, 1);
  EXPECT_EQ(run_scale(g, {1, 2, 3, 4, 5, 6, 7, 8}), (std::vector<float>{3, 6, 9, 12, 15, 18, 21, 24}));
  bool so = false, cc = false;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("E_twice_", 0) != 0) continue;
    so = so || e.path().extension() == ".so";
    cc = cc || e.path().extension() == ".cc";
  }
  EXPECT_TRUE(so && cc) << "the cache folder " << dir() << " should hold E_twice_<key>.so and its .cc";
}

TEST_F(Task4Compiler, DifferentSourcesDoNotShareACacheEntry) {
  Compiler compiler(dir());
  const auto f3 = compiler.compile("E_scale", scale_source("E_scale", "3", 4));
  const auto f5 = compiler.compile("E_scale", scale_source("E_scale", "5", 4));
  EXPECT_EQ(compiler.stats().compiler_runs, 2);
  EXPECT_EQ(run_scale(f3, {1, 1, 1, 1}), (std::vector<float>{3, 3, 3, 3}));
  EXPECT_EQ(run_scale(f5, {1, 1, 1, 1}), (std::vector<float>{5, 5, 5, 5})) << "a cache hit for another source";
  const std::string k = compiler.cache_key("a");
  EXPECT_EQ(k.size(), 16u) << "cache_key should be 16 hex digits, got '" << k << "'";
  EXPECT_EQ(k.find_first_not_of("0123456789abcdef"), std::string::npos) << k;
  EXPECT_EQ(compiler.cache_key("a"), k) << "cache_key must depend on its input only";
  EXPECT_NE(compiler.cache_key("b"), k);
}

// The flags decide the machine code: the same source under other flags is another binary. The
// flags here define SCALE, so a stale binary (a cache key without the flags) computes visibly
// wrong numbers.
TEST_F(Task4Compiler, CacheKeyCoversCompilerAndFlags) {
  const std::string src = scale_source("E_flags", "1", 4);
  std::vector<std::string> flags = ch06::default_compiler_flags();
  std::vector<std::string> flags2 = flags, flags7 = flags;
  flags2.push_back("-DSCALE=2");
  flags7.push_back("-DSCALE=7");
  Compiler two(dir(), ch06::default_compiler(), flags2), seven(dir(), ch06::default_compiler(), flags7);
  EXPECT_NE(two.cache_key(src), seven.cache_key(src)) << "the cache key must include the flags";
  EXPECT_EQ(run_scale(two.compile("E_flags", src), {1, 2, 3, 4}), (std::vector<float>{2, 4, 6, 8}));
  EXPECT_EQ(run_scale(seven.compile("E_flags", src), {1, 2, 3, 4}), (std::vector<float>{7, 14, 21, 28}))
      << "the kernel built with -DSCALE=2 was loaded for -DSCALE=7: the cache key misses the flags";
  EXPECT_EQ(seven.stats().compiler_runs, 1);
  Compiler other_cxx(dir(), "c++", flags2);
  EXPECT_NE(other_cxx.cache_key(src), two.cache_key(src)) << "the cache key must include the compiler";
}

TEST_F(Task4Compiler, DefaultFlags) {
  const std::vector<std::string> flags = ch06::default_compiler_flags();
  for (const char* want : {"-O3", "-march=native", "-fopenmp", "-shared", "-fPIC"}) {
    EXPECT_NE(std::find(flags.begin(), flags.end(), want), flags.end()) << "missing " << want;
  }
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_NE(std::find(flags.begin(), flags.end(), "-fsanitize=address"), flags.end())
      << "an ASan build must compile its kernels with -fsanitize=address too";
#endif
  EXPECT_EQ(ch06::entry_point("r_4_8"), "r_4_8_entry");
  EXPECT_NE(ch06::Compiler(dir()).cache_key("x"), ch06::Compiler(dir(), ch06::default_compiler(), {"-O0"}).cache_key("x"))
      << "a Compiler made with the defaults must key its cache by them";
}

TEST_F(Task4Compiler, CompiledCodeRunsOpenMP) {
  const std::string src =
      "#include <omp.h>\n"
      "extern \"C\" void E_omp_entry(void** b) {\n"
      "  int* out = (int*)b[0];\n"
      "  #pragma omp parallel num_threads(2)\n"
      "  { if (omp_get_thread_num() == 0) out[0] = omp_get_num_threads(); }\n"
      "}\n";
  Compiler compiler(dir());
  int threads = 0;
  void* bufs[] = {&threads};
  compiler.compile("E_omp", src)(bufs);
  EXPECT_EQ(threads, 2) << "the kernel was not compiled with -fopenmp";
}

TEST_F(Task4Compiler, CompileErrorNamesTheKernelAndKeepsTheSource) {
  const std::string bad = "extern \"C\" void E_bad_entry(void** b) { this is not C++; }\n";
  Compiler compiler(dir());
  try {
    compiler.compile("E_bad", bad);
    FAIL() << "compiling invalid C++ did not throw";
  } catch (const CompileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("E_bad"), std::string::npos) << "the message should name the kernel: " << msg;
    EXPECT_EQ(e.kernel(), "E_bad");
    ASSERT_TRUE(fs::exists(e.source_path())) << "the source should stay on disk for the student: '"
                                              << e.source_path() << "'";
    std::ifstream in(e.source_path());
    std::stringstream kept;
    kept << in.rdbuf();
    EXPECT_EQ(kept.str(), bad) << "the kept file should hold the source that failed";
    EXPECT_NE(msg.find(e.source_path()), std::string::npos) << "the message should say where the source is: " << msg;
    EXPECT_NE(msg.find("error"), std::string::npos) << "the message should quote the compiler's output: " << msg;
  }
  // A failed compile leaves no shared object behind that a later run would load.
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_NE(e.path().extension(), ".so") << e.path();
}

TEST_F(Task4Compiler, MissingCompilerOrEntryPointIsAClearError) {
  Compiler nowhere(dir(), "/nonexistent/bin/g++");
  try {
    nowhere.compile("E_x", scale_source("E_x", "2", 4));
    FAIL() << "a compiler that does not exist did not throw";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/bin/g++"), std::string::npos) << e.what();
  }
  Compiler compiler(dir());
  try {
    compiler.compile("E_named", "extern \"C\" void something_else(void** b) {}\n");
    FAIL() << "a source without the entry point did not throw";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("E_named_entry"), std::string::npos) << e.what();
  }
}

TEST_F(Task4Compiler, UnusableCacheFolderIsAClearError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "a_file") << "not a folder";
  Compiler compiler((dir_ / "a_file" / "cache").string());
  try {
    compiler.compile("E_x", scale_source("E_x", "2", 4));
    FAIL() << "a cache folder inside a file did not throw";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find((dir_ / "a_file").string()), std::string::npos) << e.what();
  }
}

}  // namespace
