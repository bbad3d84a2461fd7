// Hopper's warpgroup MMA (WGMMA and its fences, uops.h) as the renderers print it, in kernels built
// here uop by uop (no optimizer emits them yet): C (64 x N per warpgroup) = A B^T + 0.5, A 64 x K
// row-major, B N x K, K 16 or 32. Each thread copies elements of A and B into shared memory in
// the core-matrix layout a descriptor describes, then PROXY_FENCE, BARRIER, WGMMA_FENCE, one WGMMA
// per step of 8 along K, WGMMA_COMMIT, WGMMA_WAIT 0, and each thread stores its N/2 accumulators
// where the D fragment puts them. On an H100 natively (compute capability 9.0: sm_90a), elsewhere
// on the CUDA emulator, whose wgmma reads shared memory at the wait (cuda_renderer.cc).
//
//   Case{.n = 64, .k = 32, .a = rows_adjacent(64), .b = k_halves(64)}   // LBO 1024 > SBO 128 for A,
//                                                                       // 128 < 256 for B
//
// The tolerance: these inputs reach the tensor cores unrounded, which ignore their low 13 mantissa
// bits, so TF32's truncated bound (tensor_core_testing.h: tf32_truncated_bound) of the scale
// sum_k |A_ik B_jk| + 0.5 (the accumulator's start is one more term). An element from a wrong row,
// column or K (a swapped LBO and SBO, a fragment row off by 8) errs by a whole term, far past it.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/cuda/compiler.h"
#include "tinyref/backends/cuda/cuda_device.h"
#include "tinyref/backends/cuda/nvrtc.h"
#include "tinyref/backends/device.h"
#include "tinyref/backends/registry.h"
#include "tinyref/codegen/cpp_renderer.h"
#include "tinyref/codegen/cuda_renderer.h"
#include "tinyref/codegen/renderer.h"
#include "tinyref/codegen/tensor_core_testing.h"
#include "tinyref/codegen/uop_builder.h"
#include "tinyref/error.h"

namespace tinyref {
namespace {

constexpr float kInit = 0.5f;  // every accumulator's start: D = A B^T + D

// Where one operand's elements lie in its shared array, in bytes: row r (A's row, B's column),
// K k at offset + (r%8)*16 + (k%4)*4 + (k%8/4)*lbo + (r/8)*sbo + (k/8)*step, step the distance
// from one WGMMA's K-slice of 8 to the next (what advances its offset).
struct Operand {
  int64_t lbo, sbo, step, offset = 0;
  int64_t byte(int64_t r, int64_t k) const {
    return offset + r % 8 * 16 + k % 4 * 4 + k % 8 / 4 * lbo + r / 8 * sbo + k / 8 * step;
  }
};
// A step's two core matrices along K side by side (LBO 128), its 8-row groups 256 bytes apart.
Operand k_halves(int64_t rows) { return {128, 256, rows / 8 * 256}; }
// All 8-row groups side by side (SBO 128), the core matrices along K rows/8 * 128 bytes apart.
Operand rows_adjacent(int64_t rows) { return {rows / 8 * 128, 128, rows / 8 * 256}; }
// A row group's whole K in a row (LBO 128), the groups that plus `pad` bytes apart.
Operand k_contiguous(int64_t k, int64_t pad) { return {128, k / 4 * 128 + pad, 256}; }
Operand offset_by(Operand o, int64_t offset) {
  o.offset = offset;
  return o;
}

struct Case {
  int n, k;
  Operand a, b;
  int warpgroups = 1;
  bool split_rows = true;        // two warpgroups: 64 rows each (else N columns each)
  bool overwrite_before_wait = false;  // a barrier and a store into A's tile between issue and wait
  bool copy_before_wait = false;       // a cp.async into A's tile between issue and wait
  int64_t m() const { return split_rows ? 64 * warpgroups : 64; }
  int64_t columns() const { return split_rows ? n : int64_t{n} * warpgroups; }
  int threads() const { return 128 * warpgroups; }
  std::string name() const {
    return "wgmma_m" + std::to_string(m()) + "n" + std::to_string(columns()) + "k" + std::to_string(k) + "_lbo" +
           std::to_string(a.lbo) + "_" + std::to_string(b.lbo) + "_sbo" + std::to_string(a.sbo) + "_" + std::to_string(b.sbo) +
           (overwrite_before_wait ? "_overwritten" : "") + (copy_before_wait ? "_copied" : "");
  }
};

// Small integer arithmetic on uops.
struct Ints {
  UOpBuilder& b;
  int c(int64_t v) { return b.int_const(v); }
  int op(Op o, int x, int y) { return b.alu_uop(o, DType::kInt32, 1, {x, y}); }
  int add(int x, int y) { return op(Op::ADD, x, y); }
  int mul(int x, int64_t y) { return op(Op::MUL, x, c(y)); }
  int div(int x, int64_t y) { return op(Op::IDIV, x, c(y)); }
  int mod(int x, int64_t y) { return op(Op::MOD, x, c(y)); }
};

// Where element (r, k) of an operand lies in its array, in floats (Operand::byte / 4), as uops.
int staged_index(Ints& i, const Operand& o, int r, int k) {
  int at = i.add(i.c(o.offset / 4), i.add(i.mul(i.mod(r, 8), 4), i.mod(k, 4)));
  at = i.add(at, i.add(i.mul(i.div(i.mod(k, 8), 4), o.lbo / 4), i.mul(i.div(r, 8), o.sbo / 4)));
  return i.add(at, i.mul(i.div(k, 8), o.step / 4));
}

// Each thread copies every threads-th element of src (rows x k, row-major) to its place in the
// staged array, through plain LOADs and STOREs.
void stage(UOpBuilder& b, int array, int src, const Operand& o, int64_t rows, int64_t k, int threads, int lidx) {
  Ints i{b};
  const int64_t count = rows * k, steps = (count + threads - 1) / threads;
  b.open_scope();
  const int step = b.emit_typed(UOpKind::kRange, DType::kInt32, {}, 1, steps);
  const int e = i.add(i.mul(step, threads), lidx);
  std::vector<int> gate;
  if (count % threads != 0) gate.push_back(b.alu_uop(Op::CMPLT, DType::kBool, 1, {e, i.c(count)}));
  std::vector<int> load = {src, e}, store = {array, staged_index(i, o, i.div(e, k), i.mod(e, k))};
  load.insert(load.end(), gate.begin(), gate.end());
  store.push_back(b.emit_typed(UOpKind::kLoad, DType::kFloat32, load));
  store.insert(store.end(), gate.begin(), gate.end());
  b.emit_typed(UOpKind::kStore, DType::kFloat32, store);
  b.emit_typed(UOpKind::kEndRange, DType::kInt32, {step});
  b.close_scope();
}

int64_t array_floats(const Operand& o, int64_t rows, int64_t k) {
  int64_t last = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t kk = 0; kk < k; ++kk) last = std::max(last, o.byte(r, kk));
  }
  return last / 4 + 1;
}

Program wgmma_matmul(const Case& c) {
  UOpBuilder b;
  Ints i{b};
  const int out = b.emit_typed(UOpKind::kDefineGlobal, DType::kFloat32, {}, 1, 0);
  const int a_in = b.emit_typed(UOpKind::kDefineGlobal, DType::kFloat32, {}, 1, 1);
  const int b_in = b.emit_typed(UOpKind::kDefineGlobal, DType::kFloat32, {}, 1, 2);
  UOp special{UOpKind::kSpecial};
  special.arg = c.threads();
  special.tag = "lidx";
  const int lidx = b.emit(special);
  const auto shared = [&](int64_t floats) {
    UOp u{UOpKind::kDefineLocal};
    u.dtype = DType::kFloat32;
    u.arg = floats;
    u.tag = "stage";
    return b.emit(u);
  };
  const int a_tile = shared(array_floats(c.a, c.m(), c.k)), b_tile = shared(array_floats(c.b, c.columns(), c.k));
  stage(b, a_tile, a_in, c.a, c.m(), c.k, c.threads(), lidx);
  stage(b, b_tile, b_in, c.b, c.columns(), c.k, c.threads(), lidx);
  b.emit_typed(UOpKind::kProxyFence, DType::kInt32, {});
  b.emit_typed(UOpKind::kBarrier, DType::kInt32, {});

  std::vector<int> acc(c.n / 2);
  for (int& a : acc) a = b.define_acc(DType::kFloat32, kInit);
  b.emit_typed(UOpKind::kWgmmaFence, DType::kInt32, {});
  // This warpgroup's 64 rows of A, or its N columns of B: 8-row groups an SBO apart.
  const int group = i.div(lidx, 128);
  const int a_start = c.split_rows ? i.mul(group, 8 * c.a.sbo / 4) : i.c(0);
  const int b_start = c.split_rows ? i.c(0) : i.mul(group, c.n / 8 * c.b.sbo / 4);
  for (int s = 0; s < c.k / 8; ++s) {
    std::vector<int> src = {a_tile, i.add(a_start, i.c((c.a.offset + s * c.a.step) / 4)), i.c(c.a.lbo), i.c(c.a.sbo),
                            b_tile, i.add(b_start, i.c((c.b.offset + s * c.b.step) / 4)), i.c(c.b.lbo), i.c(c.b.sbo)};
    src.insert(src.end(), acc.begin(), acc.end());
    b.emit_typed(UOpKind::kWgmma, DType::kFloat32, src, 1, c.n);
  }
  b.emit_typed(UOpKind::kWgmmaCommit, DType::kInt32, {});
  if (c.overwrite_before_wait) {  // A's element lidx, which the tensor cores may still be reading
    b.emit_typed(UOpKind::kBarrier, DType::kInt32, {});
    const int where = staged_index(i, c.a, i.div(lidx, c.k), i.mod(lidx, c.k));
    b.emit_typed(UOpKind::kStore, DType::kFloat32, {a_tile, where, b.const_of(0, DType::kFloat32)});
  }
  if (c.copy_before_wait) {  // A's element lidx again, by cp.async: no barrier can order it
    const int where = staged_index(i, c.a, i.div(lidx, c.k), i.mod(lidx, c.k));
    const int yes = b.const_of(1, DType::kBool);
    b.emit_typed(UOpKind::kCopyAsync, DType::kFloat32, {a_tile, where, a_in, lidx, yes, yes}, 1, 1);
    b.emit_typed(UOpKind::kAsyncCommit, DType::kInt32, {});
  }
  b.emit_typed(UOpKind::kWgmmaWait, DType::kInt32, {}, 1, 0);

  // Thread t's accumulator j: row 16*(t/32) + t%32/4 + 8*(j/2 % 2), column 8*(j/4) + 2*(t%4) + j%2.
  const int t = i.mod(lidx, 128), lane = i.mod(t, 32);
  int row = i.add(i.mul(i.div(t, 32), 16), i.div(lane, 4)), col = i.mul(i.mod(lane, 4), 2);
  if (c.split_rows) row = i.add(row, i.mul(group, 64));
  if (!c.split_rows) col = i.add(col, i.mul(group, c.n));
  for (int j = 0; j < c.n / 2; ++j) {
    const int at = i.add(i.mul(i.add(row, i.c(8 * (j / 2 % 2))), c.columns()), i.add(col, i.c(8 * (j / 4) + j % 2)));
    b.emit_typed(UOpKind::kStore, DType::kFloat32, {out, at, acc[j]});
  }
  Program p = b.take();
  p.name = c.name();
  p.bufs = {{DType::kFloat32, c.m() * c.columns()}, {DType::kFloat32, c.m() * c.k}, {DType::kFloat32, c.columns() * c.k}};
  p.local_size = c.threads();
  render(p, Language::kCuda);
  return p;
}

// The GPU the kernels run on: a CUDA GPU of compute capability 9.0 (wgmma is sm_90a's), else the
// emulator. Empty, with `why`, on an older GPU.
std::string wgmma_device(std::string* why) {
  const std::string dev = cuda_or_emulator();
  if (dev == "CUDA_EMU") {
    testing_util::running_emulated(dev, "no GPU here: the wgmma kernels run on the CUDA emulator");
    return dev;
  }
  const int cc = dynamic_cast<cuda::CudaDevice&>(get_device(dev)).context().compute_capability();
  if (cc != 90) {
    *why = "wgmma needs compute capability 9.0 (sm_90a); this GPU has " + std::to_string(cc / 10) + "." + std::to_string(cc % 10);
    return "";
  }
  return dev;
}

// C for inputs a (m x k) and b (columns x k), run on dev.
std::vector<float> run(const Program& p, Device& dev, const Case& c, const std::vector<float>& a, const std::vector<float>& b) {
  Buffer out(dev, DType::kFloat32, c.m() * c.columns()), a_buf(dev, DType::kFloat32, a.size()), b_buf(dev, DType::kFloat32, b.size());
  a_buf.copy_in(a.data());
  b_buf.copy_in(b.data());
  dev.launch(*dev.compile(p), {out.ptr(), a_buf.ptr(), b_buf.ptr()});
  std::vector<float> got(c.m() * c.columns());
  out.copy_out(got.data());
  return got;
}

std::vector<float> randn(size_t n, std::mt19937_64& rng) {
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// Every case's C against float64 within the bound, for each seed; the first few misses reported.
void expect_within_bound(const Case& c, const std::string& dev) {
  const Program p = wgmma_matmul(c);
  SCOPED_TRACE(p.name);
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const std::vector<float> a = randn(c.m() * c.k, rng), b = randn(c.columns() * c.k, rng);
    std::vector<float> got;
    try {
      got = run(p, get_device(dev), c, a, b);
    } catch (const Error& e) {  // the emulator's report of a read it refused; the next case goes on
      ADD_FAILURE() << e.what();
      return;
    }
    int bad = 0;
    for (int64_t r = 0; r < c.m() && bad < 5; ++r) {
      for (int64_t col = 0; col < c.columns() && bad < 5; ++col) {
        double want = kInit, scale = kInit;
        for (int64_t k = 0; k < c.k; ++k) {
          want += double{a[r * c.k + k]} * b[col * c.k + k];
          scale += std::abs(double{a[r * c.k + k]} * b[col * c.k + k]);
        }
        const double allowed = tf32_truncated_bound(c.k) * scale, g = got[r * c.columns() + col];
        if (!(std::abs(g - want) <= allowed)) {
          ADD_FAILURE() << "C[" << r << "][" << col << "]: expected " << want << " (float64), got " << g << "; TF32 allows "
                        << allowed;
          ++bad;
        }
      }
    }
  }
}

TEST(WgmmaCuda, MatmulsAreWithinTf32sBoundOfFloat64) {
  std::string why;
  const std::string dev = wgmma_device(&why);
  if (dev.empty()) GTEST_SKIP() << why;
  // Each layout once with LBO below SBO and once above, so that the two swapped cannot pass; A
  // or B not at the start of its array; the last case's tiles past 48 KB (dynamic shared memory).
  const std::vector<Case> cases = {
      {.n = 8, .k = 16, .a = offset_by(k_halves(64), 16), .b = rows_adjacent(8)},
      {.n = 64, .k = 32, .a = rows_adjacent(64), .b = offset_by(k_halves(64), 48)},
      {.n = 128, .k = 16, .a = offset_by(k_contiguous(16, 0), 128), .b = k_halves(128)},
      {.n = 256, .k = 32, .a = rows_adjacent(64), .b = offset_by(k_contiguous(32, 512), 16)},
      {.n = 64, .k = 16, .a = k_halves(128), .b = rows_adjacent(64), .warpgroups = 2, .split_rows = true},
      {.n = 64, .k = 32, .a = offset_by(rows_adjacent(64), 32), .b = k_contiguous(32, 16), .warpgroups = 2, .split_rows = false},
  };
  for (const Case& c : cases) expect_within_bound(c, dev);
  EXPECT_GT(wgmma_matmul(cases[3]).dynamic_shared_bytes, 48 << 10) << "the tiles of N 256, K 32 with padded rows";
}

// PTX: a TF32 wgmma truncates its inputs' low 13 bits. 1 + 1.5 ulp of TF32 (2^-10) becomes 1 + 1 ulp,
// where rounding to nearest (ties away or to even) would give 1 + 2 ulp and no rounding the input
// itself; the sums are exact in float32 either way.
TEST(WgmmaCuda, InputsLoseTheirLow13MantissaBits) {
  std::string why;
  const std::string dev = wgmma_device(&why);
  if (dev.empty()) GTEST_SKIP() << why;
  const Case c{.n = 8, .k = 16, .a = k_halves(64), .b = k_halves(8)};
  const float x = 1.0f + 1.0f / 1024 + 1.0f / 2048;
  const std::vector<float> a(c.m() * c.k, x), b(c.columns() * c.k, 1.0f), neg_a(c.m() * c.k, -x);
  for (float got : run(wgmma_matmul(c), get_device(dev), c, a, b)) ASSERT_EQ(got, kInit + 16 * (1.0f + 1.0f / 1024));
  for (float got : run(wgmma_matmul(c), get_device(dev), c, neg_a, b)) ASSERT_EQ(got, kInit - 16 * (1.0f + 1.0f / 1024));
}

// The tensor cores may read A and B until the wait that ends the wgmma's group: a tile stored to
// between the issue and that wait (with a barrier, so that no ordinary race hides it) is a bug,
// which the emulator, reading at the wait, reports as a race with the wgmma's reads.
TEST(WgmmaCuda, ATileOverwrittenBeforeTheWaitIsARace) {
  const std::string dev = cuda_or_emulator();
  if (dev != "CUDA_EMU") GTEST_SKIP() << "a race is the emulator's to report; on a GPU the sum would merely be wrong";
  testing_util::running_emulated(dev, "the race report comes from the CUDA emulator");
  const Case c{.n = 64, .k = 16, .a = k_halves(64), .b = rows_adjacent(64), .overwrite_before_wait = true};
  std::mt19937_64 rng(1);
  const std::vector<float> a = randn(c.m() * c.k, rng), b = randn(c.columns() * c.k, rng);
  const Program p = wgmma_matmul(c);
  try {
    run(p, get_device(dev), c, a, b);
    ADD_FAILURE() << "no race reported";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cudaemu: shared-memory race"), std::string::npos) << what;
    EXPECT_NE(what.find("thread (1,0,0) writes byte 4 of __shared__"), std::string::npos) << what;
    EXPECT_NE(what.find("and thread (0,0,0) read it"), std::string::npos) << what;
  }
}

// A cp.async into a tile between the issue and the wait is the same bug, which no barrier can
// order: the emulator lands copies at their own wait and does wgmmas at theirs, each as late as a
// GPU may, so it checks a copy's bytes at its issue against every wgmma not yet waited for.
TEST(WgmmaCuda, ACopyIntoATileBeforeTheWaitIsARace) {
  const std::string dev = cuda_or_emulator();
  if (dev != "CUDA_EMU") GTEST_SKIP() << "a race is the emulator's to report; on a GPU the sum would merely be wrong";
  testing_util::running_emulated(dev, "the race report comes from the CUDA emulator");
  const Case c{.n = 64, .k = 16, .a = k_halves(64), .b = rows_adjacent(64), .copy_before_wait = true};
  std::mt19937_64 rng(1);
  const std::vector<float> a = randn(c.m() * c.k, rng), b = randn(c.columns() * c.k, rng);
  try {
    run(wgmma_matmul(c), get_device(dev), c, a, b);
    ADD_FAILURE() << "no race reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a cp.async into bytes that a wgmma not yet waited for"), std::string::npos) << e.what();
  }
}

// A program of one WGMMA of N 8 (K 8), its arg then set to n, for the renderers alone.
Program one_wgmma(int n) {
  Case c{.n = 8, .k = 8, .a = k_halves(64), .b = k_halves(8)};
  Program p = wgmma_matmul(c);
  for (UOp& u : p.uops) {
    if (u.kind == UOpKind::kWgmma) u.arg = n;  // the accumulators' count stays N 8's
  }
  return p;
}

TEST(WgmmaRender, TheCppRendererRefusesIt) {
  Program p = one_wgmma(8);
  try {
    render_cpp(p);
    ADD_FAILURE() << "rendered";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("runs warpgroup MMAs (WGMMA), which this language lacks"), std::string::npos) << e.what();
  }
  for (UOp& u : p.uops) {
    if (u.kind == UOpKind::kWgmma) u = UOp(UOpKind::kWgmmaCommit);  // no WGMMA left: the fences are refused too
  }
  try {
    render_cpp(p);
    ADD_FAILURE() << "rendered";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has PROXY_FENCE, which this language lacks"), std::string::npos) << e.what();
  }
}

TEST(WgmmaRender, AWgmmaOfAnotherNOrAccumulatorCountIsRefused) {
  EXPECT_THROW(render_cuda(one_wgmma(16)), Error) << "N 16 takes 8 accumulators";
  Program p = one_wgmma(8);
  for (UOp& u : p.uops) {
    if (u.kind == UOpKind::kWgmma) u.arg = 12, u.src.resize(8 + 6);
  }
  try {
    render_cuda(p);
    ADD_FAILURE() << "rendered";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a wgmma's N is a multiple of 8 from 8 to 256, not 12"), std::string::npos) << e.what();
  }
}

// What the CUDA renderer prints for a GPU: sm_90a's instructions, which NVRTC compiles for 9.0
// (and refuses for 8.0, which has no wgmma).
TEST(WgmmaRender, CudaHasTheSm90aInstructionsAndNvrtcCompilesThem) {
  std::vector<Program> programs;
  for (int n : {8, 64, 128, 256}) programs.push_back(wgmma_matmul({.n = n, .k = 16, .a = k_halves(64), .b = rows_adjacent(n)}));
  for (const Program& p : programs) {
    const std::string n = std::to_string(p.bufs[0].size / 64);
    EXPECT_NE(p.src.find("tt_wgmma_m64n" + n + "k8(tt_wgmma_desc(part0+"), std::string::npos) << p.src;
    EXPECT_NE(p.src.find("wgmma.mma_async.sync.aligned.m64n" + n + "k8.f32.tf32.tf32 {"), std::string::npos) << p.src;
    for (const char* text : {"wgmma.fence.sync.aligned;", "wgmma.commit_group.sync.aligned;", "wgmma.wait_group.sync.aligned ",
                             "fence.proxy.async.shared::cta;", "setp.ne.b32 p, ", "TT_WGMMA_WAIT(0);", "TT_PROXY_FENCE();"}) {
      EXPECT_NE(p.src.find(text), std::string::npos) << text;
    }
  }
  if (!cuda::nvrtc_available()) GTEST_SKIP() << "built without the CUDA toolkit: no NVRTC to compile with";
  cuda::Compiler hopper(90, ""), ampere(80, "");
  for (const Program& p : programs) {
    const cuda::CompiledModule* m = nullptr;
    EXPECT_NO_THROW(m = &hopper.compile(p.src, p.name)) << p.name;
    if (m == nullptr) continue;
    EXPECT_TRUE(m->cubin) << "machine code for sm_90a";
    if (!m->log.empty()) std::cout << p.name << ": NVRTC says\n" << m->log << "\n";  // ptxas's word on the wgmmas
  }
  EXPECT_THROW(ampere.compile(programs[0].src, programs[0].name), Error) << "wgmma is sm_90a's alone";
}

}  // namespace
}  // namespace tinyref
