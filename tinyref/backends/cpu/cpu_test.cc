// The CPU backend's compile cache and its compile-error report.
#include "tinyref/backends/cpu/cpu.h"
#include "tinyref/backends/cpu/cpu_target.h"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/codegen/renderer.h"
#include "tinyref/codegen/uops.h"
#include "tinyref/error.h"

namespace tinyref {
namespace {

// out[i] = in[i] * k for 8 floats, written directly as uops.
Program scale_program(double k, const std::string& name) {
  Program p;
  p.name = name;
  p.bufs = {{DType::kFloat32, 8}, {DType::kFloat32, 8}};
  auto add = [&](UOp u) {
    p.uops.push_back(u);
    return static_cast<int>(p.uops.size()) - 1;
  };
  UOp g0(UOpKind::kDefineGlobal), g1(UOpKind::kDefineGlobal);
  g0.dtype = g1.dtype = DType::kFloat32;
  g1.arg = 1;
  const int out = add(g0), in = add(g1);
  UOp r(UOpKind::kRange);
  r.arg = 8;
  r.tag = "gidx";
  const int i = add(r);
  UOp ld(UOpKind::kLoad);
  ld.dtype = DType::kFloat32;
  ld.src = {in, i};
  const int v = add(ld);
  UOp c(UOpKind::kConst);
  c.dtype = DType::kFloat32;
  c.value = k;
  const int kc = add(c);
  UOp mul(UOpKind::kAlu);
  mul.op = Op::MUL;
  mul.dtype = DType::kFloat32;
  mul.src = {v, kc};
  const int m = add(mul);
  UOp st(UOpKind::kStore);
  st.dtype = DType::kFloat32;
  st.src = {out, i, m};
  add(st);
  UOp end(UOpKind::kEndRange);
  end.src = {i};
  add(end);
  render(p, Language::kCpp);  // the source the device compiles
  return p;
}

class CpuBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::filesystem::path(tmp ? tmp : "/tmp") / ("tinyref_cpu_test_" + std::to_string(std::random_device()()));
    cache_dir_.emplace("TT_CACHE_DIR", dir_.c_str());
  }
  void TearDown() override {
    cache_dir_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::optional<testing_util::ScopedEnv> cache_dir_;
};

TEST_F(CpuBackend, CompilesRunsAndCachesOnDisk) {
  const double k = 1.0 + std::random_device()() % 1000;  // a kernel no earlier run compiled
  Program p = scale_program(k, "E_8_scale");
  const int64_t before = stats().compiler_runs;
  std::unique_ptr<Device> cpu = make_cpu_device();
  auto kernel = cpu->compile(p);
  EXPECT_EQ(stats().compiler_runs, before + 1);
  std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8}, out(8);
  cpu->launch(*kernel, {out.data(), in.data()});
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], static_cast<float>(in[i] * k));
  // A second device (as in a second process) finds the shared object on disk.
  std::unique_ptr<Device> again = make_cpu_device();
  again->compile(p);
  EXPECT_EQ(stats().compiler_runs, before + 1);
  EXPECT_NE(kernel->source().find("extern \"C\" void E_8_scale(float* __restrict__ data0, const float* __restrict__ data1)"),
            std::string::npos)
      << kernel->source();
}

TEST_F(CpuBackend, CompileErrorShowsCompilerMessageAndSourcePath) {
  Program p = scale_program(2, "not a valid name");
  std::unique_ptr<Device> cpu = make_cpu_device();
  try {
    cpu->compile(p);
    FAIL() << "compiling an invalid kernel did not throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("CPU: compiling kernel not a valid name failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("source at " + dir_.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("error"), std::string::npos) << msg;  // the compiler's own message
  }
}

// The codegen is tuned for the machine: its widest vectors and their register count, unless
// $TT_CPU_ISA asks for a narrower one.
TEST(CpuTarget, OptionsFollowTheDetectedMachine) {
  const CpuTarget& t = detect_cpu_target();
  const CodegenOptions o = make_cpu_device()->codegen_options();
  EXPECT_EQ(o.vector_bytes, t.vector_bytes);
  EXPECT_EQ(o.vector_registers, t.vector_registers);
  EXPECT_EQ(o.l2_bytes, t.l2_bytes);
  EXPECT_GE(o.threads, 1);
  EXPECT_GT(t.l2_bytes, 0);
  EXPECT_NE(o.target.find(t.isa + ": "), std::string::npos) << o.target;  // what TT_DEBUG=2 prints
  EXPECT_NE(o.target.find(t.compiler_flags), std::string::npos) << o.target;
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && std::getenv("TT_CPU_ISA") == nullptr) {
    EXPECT_EQ(t.isa, "avx512");
    EXPECT_EQ(o.vector_bytes, 64);
    EXPECT_EQ(o.vector_registers, 32);
  }
#endif
}

// A narrower isa takes the wider instructions away from the compiler too, so its kernels are
// what that machine would run.
TEST(CpuTarget, ANarrowerIsaCompilesWithoutTheWiderInstructions) {
  EXPECT_EQ(cpu_target_for("scalar").vector_bytes, 0);
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    const CpuTarget t = cpu_target_for("avx2");
    EXPECT_EQ(t.vector_bytes, 32);
    EXPECT_EQ(t.vector_registers, 16);
    EXPECT_NE(t.compiler_flags.find("-mno-avx512f"), std::string::npos) << t.compiler_flags;
  }
#endif
}

TEST(CpuTarget, AnUnknownOrMissingIsaIsAClearError) {
  try {
    cpu_target_for("avx1024");
    ADD_FAILURE() << "an unknown isa was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("TT_CPU_ISA takes avx512, avx2, sse or scalar"), std::string::npos) << e.what();
  }
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f")) {
    try {
      cpu_target_for("avx512");
      ADD_FAILURE() << "avx512 was accepted on a machine without it";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("this machine has no avx512"), std::string::npos) << e.what();
    }
  }
#endif
}

}  // namespace
}  // namespace tinyref
