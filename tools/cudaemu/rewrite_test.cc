// The rewriter, construct by construct: what each becomes, what it leaves alone, the lines it
// keeps, and the errors it gives. (That the output compiles and runs is what the intrinsics and
// diagnostics tests show.)
#include "tools/cudaemu/rewrite.h"

#include <algorithm>
#include <string>

#include "gtest/gtest.h"

namespace cudaemu {
namespace {

// The rewritten text without the two lines the rewriter puts first.
std::string rw(const std::string& src) {
  const std::string out = rewrite_cuda(src, RewriteOptions{"t.cu", "prelude.h"});
  const size_t body = out.find('\n', out.find("#line")) + 1;
  return out.substr(body);
}

// Spaces squeezed, so that expectations do not depend on the spaces the edits leave behind.
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
    } else {
      if (c == '\n' && !out.empty() && out.back() == ' ') out.pop_back();
      out += c;
    }
  }
  return out;
}

#define EXPECT_REWRITES(src, want) EXPECT_EQ(squeeze(rw(src)), squeeze(want)) << "from:\n" << (src)

TEST(Rewrite, PutsThePreludeFirstAndKeepsEveryLine) {
  const std::string src = "// one\n__global__ void k(float* x) {\n  x[0] = 1;\n}\n\nint main() { return 0; }\n";
  const std::string out = rewrite_cuda(src, RewriteOptions{"dir/t.cu", "tools/cudaemu/prelude.h"});
  EXPECT_EQ(out.rfind("#include \"tools/cudaemu/prelude.h\"\n#line 1 \"dir/t.cu\"\n", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), std::count(src.begin(), src.end(), '\n') + 2);
}

TEST(Rewrite, KernelPointerParametersBecomeCheckedPointers) {
  EXPECT_REWRITES("__global__ void k(float* out, const float* __restrict__ in, int n, float v) {}",
                  "__global__ void k(::cudaemu::ptr<float> out, ::cudaemu::ptr<const float> in, int n, float v) {}");
  EXPECT_REWRITES("extern \"C\" __global__ void __launch_bounds__(256) E_4(float* __restrict__ data0) {}",
                  "extern \"C\" __global__ void __launch_bounds__(256) E_4(::cudaemu::ptr<float> data0) {}");
  EXPECT_REWRITES("__device__ void f(float const *p, unsigned int* q, float4*) {}",
                  "__device__ void f(::cudaemu::ptr<float const> p, ::cudaemu::ptr<unsigned int> q, ::cudaemu::ptr<float4>) {}");
}

TEST(Rewrite, LeavesWhatIsNotAPlainPointerAlone) {
  const std::string src = "__device__ void f(float** pp, float& r, void (*cb)(int), int n = 2 * 3) {}";
  EXPECT_REWRITES(src, src);
}

TEST(Rewrite, DeviceFunctionsReturningPointersAndTemplates) {
  EXPECT_REWRITES("template <class T> __device__ inline const T* row(const T* base, int i) { return base + i; }",
                  "template <class T> __device__ inline ::cudaemu::ptr<const T> row(::cudaemu::ptr<const T> base, int i) { return base + i; }");
  EXPECT_REWRITES("__host__ __device__ float* f(float* p) { return p; }",
                  "__host__ __device__ ::cudaemu::ptr<float> f(::cudaemu::ptr<float> p) { return p; }");
}

TEST(Rewrite, MemberOperatorsOfDeviceStructs) {
  const std::string src = "struct V { float v[4]; __device__ float& operator[](int i) { return v[i]; } };";
  EXPECT_REWRITES(src, src);
}

TEST(Rewrite, HostCodeKeepsItsRawPointers) {
  const std::string src = "void host(float* h) { float* d = h; *d = 1; auto x = h[0]; }";
  EXPECT_REWRITES(src, src);
}

TEST(Rewrite, LocalPointerDeclarations) {
  EXPECT_REWRITES("__global__ void k(float* x) { const float* p = x + 1; float *a = x, *b; }",
                  "__global__ void k(::cudaemu::ptr<float> x) { ::cudaemu::ptr<const float> p = x + 1; ::cudaemu::ptr<float> a = x, b; }");
  EXPECT_REWRITES("__global__ void k(float* x) { for (float* p = x; p < x + 4; ++p) p[0] = 0; }",
                  "__global__ void k(::cudaemu::ptr<float> x) { for (::cudaemu::ptr<float> p = x; p < x + 4; ++p) p[0] = 0; }");
  EXPECT_REWRITES("__global__ void k(float* x) { float* __restrict__ p = x; Vec<float>* v = 0; }",
                  "__global__ void k(::cudaemu::ptr<float> x) { ::cudaemu::ptr<float> p = x; ::cudaemu::ptr<Vec<float>> v = 0; }");
}

TEST(Rewrite, ExpressionsThatLookLikeDeclarationsAreLeftAlone) {
  const std::string src = "__global__ void k(int a, int b) { int c = a * b; c *= a; a * b < c; }";
  EXPECT_REWRITES(src, src);
  const std::string init = "__global__ void k(int a, int b) { float v[2] = {a * b, 1}; }";
  EXPECT_REWRITES(init, init);
}

TEST(Rewrite, MixingPointersAndValuesInOneDeclarationIsAnError) {
  EXPECT_THROW(rw("__global__ void k(float* x) {\n float *p = x, v = 0;\n}"), RewriteError);
  try {
    rw("__global__ void k(float* x) {\n float *p = x, v = 0;\n}");
  } catch (const RewriteError& e) {
    EXPECT_NE(std::string(e.what()).find("t.cu:2: declare pointers and non-pointers in separate statements"),
              std::string::npos)
        << e.what();
  }
}

TEST(Rewrite, PointerCasts) {
  EXPECT_REWRITES("__global__ void k(float* x) { const float4* v = reinterpret_cast<const float4*>(x); }",
                  "__global__ void k(::cudaemu::ptr<float> x) { ::cudaemu::ptr<const float4> v = ::cudaemu::ptr_cast<const float4>(x); }");
  EXPECT_REWRITES("__global__ void k(float* x, int i) { float4 v = *(const float4*)(x + i); *(float4*)(x + i) = v; }",
                  "__global__ void k(::cudaemu::ptr<float> x, int i) { float4 v = ::cudaemu::deref(::cudaemu::ptr_cast<const float4>((x + i))); "
                  "::cudaemu::deref(::cudaemu::ptr_cast<float4>((x + i))) = v; }");
  EXPECT_REWRITES("__global__ void k(char* s) { float* f = (float*)s; float v = (float)s[0]; }",
                  "__global__ void k(::cudaemu::ptr<char> s) { ::cudaemu::ptr<float> f = ::cudaemu::ptr_cast<float>(s); float v = (float)s[0]; }");
}

TEST(Rewrite, UnaryStarBecomesACheckedDereferenceWithItsLine) {
  EXPECT_REWRITES("__global__ void k(float* p, float a) { *p = a * *p; a = *p++ + -*p; }",
                  "__global__ void k(::cudaemu::ptr<float> p, float a) { ::cudaemu::deref(p) = a * ::cudaemu::deref(p); "
                  "a = ::cudaemu::deref(p++) + -::cudaemu::deref(p); }");
  EXPECT_REWRITES("__global__ void k(float* p) { int s = sizeof *p; }",
                  "__global__ void k(::cudaemu::ptr<float> p) { int s = sizeof *p; }");
}

TEST(Rewrite, AutoDeclarationsHoldValuesNotProxies) {
  EXPECT_REWRITES("__global__ void k(float* p) { auto v = p[0] * 2, w = p[1]; const auto& r = p[2]; auto* q = p; }",
                  "__global__ void k(::cudaemu::ptr<float> p) { auto v = ::cudaemu::value(p[0] * 2), w = ::cudaemu::value(p[1]); "
                  "const auto& r = ::cudaemu::value(p[2]); auto q = ::cudaemu::value(p); }");
}

TEST(Rewrite, ConditionalBranchesAreValues) {
  // As proxies, `i < n ? x[i] : 0` would be an int (x[i] converted to the literal's type).
  EXPECT_REWRITES("__global__ void k(float* x, int n, int i) { float v = i < n ? x[i] : 0; }",
                  "__global__ void k(::cudaemu::ptr<float> x, int n, int i) { float v = i < n ? ::cudaemu::value(x[i]) : ::cudaemu::value(0); }");
  EXPECT_REWRITES("__global__ void k(int a, int b, int c) { f(a ? b : c ? a : b, (a ? b : c)); }",
                  "__global__ void k(int a, int b, int c) { f(a ? ::cudaemu::value(b) : ::cudaemu::value(c ? ::cudaemu::value(a) : ::cudaemu::value(b)), "
                  "(a ? ::cudaemu::value(b) : ::cudaemu::value(c))); }");
  // Written without spaces (as tinyref's renderer does), the ':' and the '::' stay apart.
  EXPECT_REWRITES("__global__ void k(int a, int b, int c) { f((a<b)?a:c); }",
                  "__global__ void k(int a, int b, int c) { f((a<b)?::cudaemu::value(a): ::cudaemu::value(c)); }");
}

TEST(Rewrite, SharedArraysAndScalars) {
  EXPECT_REWRITES("__global__ void k() {\n  __shared__ float tile[32][33], row[32];\n}",
                  "__global__ void k() {\n  ::cudaemu::shared_array<float[32][33]> tile{CUDAEMU_SITE(\"float tile[32][33]\", 2), 0};"
                  "::cudaemu::shared_array<float[32]> row{CUDAEMU_SITE(\"float row[32]\", 2), 0};\n}");
  EXPECT_REWRITES("__global__ void k() { static volatile __shared__ __align__(16) unsigned int c[N + 1]; }",
                  "__global__ void k() { ::cudaemu::shared_array<unsigned int[N + 1]> c{CUDAEMU_SITE(\"unsigned int c[N + 1]\", 1), 16}; }");
  EXPECT_REWRITES("__global__ void k(float* x) { __shared__ float sum; if (x) { sum = 0; atomicAdd(&sum, x[0]); } x[0] = sum; }",
                  "__global__ void k(::cudaemu::ptr<float> x) { ::cudaemu::shared_var<float> sum{CUDAEMU_SITE(\"float sum\", 1), 0}; "
                  "if (x) { sum.at() = 0; atomicAdd(&sum.at(), x[0]); } x[0] = sum.at(); }");
  EXPECT_REWRITES("__global__ void k() { extern __shared__ float4 smem[]; }",
                  "__global__ void k() { ::cudaemu::dynamic_shared<float4> smem{CUDAEMU_SITE(\"float4 smem[]\", 1)}; }");
}

TEST(Rewrite, ASharedScalarIsOnlyRewrittenInItsScope) {
  EXPECT_REWRITES("__global__ void k(float* x) { { __shared__ int n; n = 1; } int n = 2; x[n] = 0; }",
                  "__global__ void k(::cudaemu::ptr<float> x) { { ::cudaemu::shared_var<int> n{CUDAEMU_SITE(\"int n\", 1), 0}; n.at() = 1; } "
                  "int n = 2; x[n] = 0; }");
}

TEST(Rewrite, SizeofASharedNameIsThatOfItsType) {
  EXPECT_REWRITES("__global__ void k() { __shared__ float t[4][5]; __shared__ int n; int a = sizeof(t), b = sizeof(n); }",
                  "__global__ void k() { ::cudaemu::shared_array<float[4][5]> t{CUDAEMU_SITE(\"float t[4][5]\", 1), 0}; "
                  "::cudaemu::shared_var<int> n{CUDAEMU_SITE(\"int n\", 1), 0}; int a = sizeof(float[4][5]), b = sizeof(int); }");
}

TEST(Rewrite, SharedMisuseIsAnError) {
  EXPECT_THROW(rw("__shared__ float g[4];"), RewriteError);
  EXPECT_THROW(rw("__global__ void k() { __shared__ float* p; }"), RewriteError);
  EXPECT_THROW(rw("__global__ void k() { extern __shared__ float s[4]; }"), RewriteError);
}

TEST(Rewrite, Launches) {
  EXPECT_REWRITES("void f() { k<<<g, b>>>(x, n); }",
                  "void f() { ::cudaemu::launch(\"k\", k, ::cudaemu::config(g, b), x, n); }");
  EXPECT_REWRITES("void f() { if (a) k<<<1, 2>>>(x); else k<<<3, 4>>>(y); }",
                  "void f() { if (a) ::cudaemu::launch(\"k\", k, ::cudaemu::config(1, 2), x); "
                  "else ::cudaemu::launch(\"k\", k, ::cudaemu::config(3, 4), y); }");
  EXPECT_REWRITES("void f() { ns::k<float, 4><<<dim3(a, b), 256, bytes, stream>>>(); }",
                  "void f() { ::cudaemu::launch(\"ns::k<float,4>\", ns::k<float, 4>, ::cudaemu::config(dim3(a, b), 256, bytes, stream)); }");
}

TEST(Rewrite, LaunchErrorsNameTheLine) {
  try {
    rw("void f() {\n  k<<<1, 1(x);\n}");
    FAIL() << "no error";
  } catch (const RewriteError& e) {
    EXPECT_NE(std::string(e.what()).find("t.cu:2:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(rw("void f() { <<<1, 1>>>(x); }"), RewriteError);
}

TEST(Rewrite, CommentsStringsAndDirectivesAreNotCode) {
  const std::string src =
      "// __shared__ k<<<1,1>>>()\n#define LAUNCH k<<<1, 1>>>()\nconst char* s = \"a<<<b>>>(c) __shared__\";\n"
      "/* __global__ void k(float* p) {} */\n";
  EXPECT_REWRITES(src, src);
}

TEST(Rewrite, DeviceHeadersAreIncludedRewritten) {
  EXPECT_REWRITES("#include \"chapters/07/common.cuh\"\n#include <cuda_runtime.h>\n#include \"a.h\"\n",
                  "#include \"chapters/07/common.emu.cuh\"\n#include <cuda_runtime.h>\n#include \"a.h\"\n");
}

TEST(Rewrite, PragmasBeforeLoopsAndAssert) {
  EXPECT_REWRITES("__global__ void k(float* x) {\n#pragma unroll\n  for (float* p = x; p; ) assert(p[0] > 0);\n}",
                  "__global__ void k(::cudaemu::ptr<float> x) {\n#pragma unroll\n  for (::cudaemu::ptr<float> p = x; p; ) CUDAEMU_ASSERT(p[0] > 0);\n}");
}

TEST(Rewrite, UnterminatedInputIsAnErrorWithItsLine) {
  try {
    rw("int a;\n/* open\n");
    FAIL() << "no error";
  } catch (const RewriteError& e) {
    EXPECT_EQ(std::string(e.what()), "t.cu:2: a /* comment is never closed");
  }
  EXPECT_THROW(rw("const char* s = \"abc\n\";"), RewriteError);
  EXPECT_THROW(rw("__global__ void k() { if (1) { }"), RewriteError);
}

}  // namespace
}  // namespace cudaemu
