// What the tensor-core tests share: a fresh GPU Kernel of a tensor's last kernel, codegen options
// that put tensor cores first, and running every tensor-core variant of a kernel on the GPU (or
// the CUDA emulator) against float64 within TF32's bound, derived here.
//
//   const Kernel k = gpu_kernel(a.matmul(b));              // (m, n, k), no optimization yet
//   for (const Kernel& v : gpu_variants(k, gpu_tf32_options())) ...   // tensor-core ones first
//   expect_tensor_core_variants_match(mm, {{128, 64}, {64, 128}}, 64, seed);   // each variant run
//
// The tolerance, derived (tf32_bound). TF32 keeps 10 of float32's 23 mantissa bits; rounding to nearest, its
// unit roundoff is u = 2^-11: each input is a(1 + d), |d| <= u. A product of two rounded inputs
// is exact in float32 (11 + 11 significant bits), so a term's error is at most (2u + u^2)|a b|.
// The K terms are added in float32 (unit roundoff v = 2^-24) in an order we do not know, with up
// to K - 1 roundings, each at most v times a partial sum bounded by sum|a b| (Higham's recursive
// summation bound, gamma_{K-1} ~ (K - 1) v); tensor cores may truncate instead of rounding, which
// doubles v. So for C = A B,
//     |C_ij - exact_ij| <= (2u + u^2 + 2 K v) * sum_k |A_ik B_kj|
// elementwise, with the scale sum_k |A_ik B_kj| computed in float64. A wrong fragment or lane
// (an element from another row, column or K) errs by the size of a whole term, far past it.
//
// Where nothing rounds the inputs (a warpgroup MMA reading what cp.async copied: the copies move
// bits, and the tensor cores read shared memory themselves), the tensor cores truncate each input
// to TF32 (its low 13 bits ignored): |d| < 2^-10 = 2u, so a term's error is at most (4u + 4u^2)|a b|
// (tf32_truncated_bound). mma.sync rounds in the lane before it multiplies (tt_mma_tf32), and
// the synchronous copies round as they store (staging.h: staged_as_tf32).
#ifndef TINYREF_CODEGEN_TENSOR_CORE_TESTING_H_
#define TINYREF_CODEGEN_TENSOR_CORE_TESTING_H_

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"
#include "tinyref/backends/registry.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/options.h"
#include "tinyref/engine/realize.h"
#include "tinyref/engine/search.h"
#include "tinyref/schedule/schedule.h"
#include "tinyref/tensor.h"

namespace tinyref {

inline CodegenOptions gpu_tf32_options() {
  CodegenOptions o;
  o.gpu = true;
  o.tf32 = Tf32::kAll;
  o.language = Language::kCuda;
  return o;
}

// A matmul's kernel with A's source replaced by a*a, computed inside the kernel as a fused
// elementwise op would be (the scheduler realizes a*a first for a matmul).
inline ScheduleItem with_a_squared(ScheduleItem item) {
  auto mul = std::make_shared<AstNode>(*item.ast->src[0]->src[0]);
  auto square = std::make_shared<AstNode>();
  square->op = Op::MUL;
  square->src = {mul->src[0], mul->src[0]};
  mul->src[0] = square;
  auto sum = std::make_shared<AstNode>(*item.ast->src[0]);
  sum->src[0] = mul;
  auto store = std::make_shared<AstNode>(*item.ast);
  store->src[0] = sum;
  item.ast = store;
  return item;
}

inline Kernel gpu_kernel(const Tensor& t) {
  const ScheduleItem item = create_schedule({t.lazy()}).back();
  Kernel k(item.ast, buffer_args(item));
  k.gpu = true;
  return k;
}

constexpr double kTf32Roundoff = 1.0 / 2048;         // 2^-11
constexpr double kFloat32Roundoff = 1.0 / 16777216;  // 2^-24

inline double tf32_bound(int64_t k) { return 2 * kTf32Roundoff + kTf32Roundoff * kTf32Roundoff + 2.0 * k * kFloat32Roundoff; }
inline double tf32_truncated_bound(int64_t k) {
  return 4 * kTf32Roundoff + 4 * kTf32Roundoff * kTf32Roundoff + 2.0 * k * kFloat32Roundoff;
}
// A variant's bound: truncated where its inputs reach the tensor cores unrounded.
inline double tf32_bound(const Program& p, int64_t k) {
  const bool unrounded = p.opts.find("wgmma") != std::string::npos && p.opts.find("async") != std::string::npos;
  return unrounded ? tf32_truncated_bound(k) : tf32_bound(k);
}

// TT_TF32=1 for one scope (the CUDA devices read it for each kernel they lower).
struct Tf32On : testing_util::ScopedEnv {
  Tf32On() : ScopedEnv("TT_TF32", "1") {}
};

inline int count(const Program& p, UOpKind kind) {
  int n = 0;
  for (const UOp& u : p.uops) n += u.kind == kind;
  return n;
}

inline std::string gpu() {
  const std::string dev = cuda_or_emulator();
  if (dev == "CUDA_EMU") testing_util::running_emulated(dev, "no GPU here: the tensor-core kernels run on the CUDA emulator");
  return dev;
}

using VariantFilter = std::function<bool(const Program&)>;

// Runs every tensor-core variant (that `keep` keeps) of the last kernel of `out`'s graph (the others run first) on
// `dev`, with TT_TF32=1 asked for by the caller: each variant's Program and output. The cp.async
// ones too (TT_ASYNC=1, the default, set here all the same).
inline std::vector<std::pair<Program, std::vector<float>>> run_tensor_core_variants(const Tensor& out, const std::string& dev,
                                                                             const VariantFilter& keep = nullptr) {
  testing_util::ScopedEnv async("TT_ASYNC", "1");
  std::vector<ScheduleItem> items = create_schedule({out.lazy()});
  const ScheduleItem item = items.back();
  items.pop_back();
  run_schedule(items);
  Device& device = get_device(dev);
  const int64_t n = out.numel();
  std::vector<std::pair<Program, std::vector<float>>> runs;
  for (Program& p : lower_variants(item, device.codegen_options())) {
    if (p.opts.find("tensor_core") == std::string::npos || (keep && !keep(p))) continue;
    Buffer result(device, DType::kFloat32, n);
    std::vector<void*> ptrs = {result.ptr()};
    for (size_t i = 1; i < item.bufs.size(); ++i) ptrs.push_back(item.bufs[i]->realized_buffer()->ptr());
    device.launch(*device.compile(p), ptrs);
    std::vector<float> got(n);
    result.copy_out(got.data());
    runs.push_back({std::move(p), std::move(got)});
  }
  return runs;
}

// Runs every tensor-core variant of the last kernel of f(inputs) on the GPU and checks each
// element against float64 within tf32_bound(p, k) of its scale (scale(inputs): float64, per element).
// Returns each variant's opts.
inline std::vector<std::string> expect_tensor_core_variants_match(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                                           const std::vector<Shape>& shapes, int64_t k, uint64_t seed,
                                                           const VariantFilter& keep = nullptr) {
  const std::string dev = gpu();
  Tf32On tf32;
  Tensor::manual_seed(seed);
  std::vector<Tensor> cpu64, abs64, on_gpu;
  for (const Shape& s : shapes) {
    Tensor x = Tensor::randn(s, DType::kFloat32, "CPU").realize();
    cpu64.push_back(x.cast(DType::kFloat64));
    abs64.push_back(x.cast(DType::kFloat64).abs());
    on_gpu.push_back(x.to(dev));
  }
  const std::vector<double> want = f(cpu64).to_doubles(), scale = f(abs64).to_doubles();
  const std::vector<std::pair<Program, std::vector<float>>> runs = run_tensor_core_variants(f(on_gpu), dev, keep);
  for (const auto& [p, got] : runs) {
    int bad = 0;
    for (size_t i = 0; i < want.size() && bad < 5; ++i) {
      const double allowed = tf32_bound(p, k) * scale[i];
      if (!(std::abs(got[i] - want[i]) <= allowed)) {
        ADD_FAILURE() << p.name << " (" << p.opts << "), element " << i << ": expected " << want[i] << " (float64), got "
                      << got[i] << "; TF32 allows " << allowed << " (" << tf32_bound(p, k) << " of sum|a b| = " << scale[i] << ")";
        ++bad;
      }
    }
  }
  std::vector<std::string> opts;
  for (const auto& run : runs) opts.push_back(run.first.opts);
  return opts;
}

}  // namespace tinyref

#endif  // TINYREF_CODEGEN_TENSOR_CORE_TESTING_H_
