// A convolution's tensor-core choices (kernel.h: tensor_core_choices, is_convolution; Opt kPad):
// how its kernels are known, and how rows of 20 or 6 pixels become the mma's N or K. Planning
// only: what these variants compute, on a GPU or the emulator, tensor_core_test.cc checks.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tinyref/codegen/kernel.h"
#include "tinyref/codegen/optimizer.h"
#include "tinyref/codegen/staging.h"
#include "tinyref/codegen/tensor_core_testing.h"
#include "tinyref/engine/search.h"
#include "tinyref/tensor.h"

namespace tinyref {
namespace {

// PyTorch's defaults (options.h): a convolution's kernels may take TF32, a matmul's may not. A
// convolution is known by its sliding window, in the forward pass and in both gradients; a 1x1
// convolution has none and is a matmul (stays float32 by default, where cuDNN might use TF32).
TEST(TensorCoreChoices, AConvolutionIsKnownByItsSlidingWindow) {
  Tensor x = Tensor::randn({2, 8, 10, 10}, DType::kFloat32, "INTERP").requires_grad_();
  Tensor w = Tensor::randn({16, 8, 3, 3}, DType::kFloat32, "INTERP").requires_grad_();
  Tensor y = x.conv2d(w, Tensor(), 1, 1);
  (y * y).sum().backward();
  EXPECT_TRUE(is_convolution(gpu_kernel(y))) << "forward, padded: probed where the padding is valid";
  EXPECT_TRUE(is_convolution(gpu_kernel(w.grad()))) << "weight gradient: kernel row and image row";
  EXPECT_TRUE(is_convolution(gpu_kernel(x.grad()))) << "input gradient";
  EXPECT_TRUE(is_convolution(gpu_kernel(x.conv2d(w)))) << "forward, unpadded";
  Tensor a = Tensor::randn({64, 32}, DType::kFloat32, "INTERP"), b = Tensor::randn({32, 48}, DType::kFloat32, "INTERP");
  EXPECT_FALSE(is_convolution(gpu_kernel(a.matmul(b))));
  EXPECT_FALSE(is_convolution(gpu_kernel(a.reshape({4, 16, 32}).matmul(b))));
  EXPECT_FALSE(is_convolution(gpu_kernel(a.reshape({2, 2, 4, 4, 32}).sum({4}))));
  EXPECT_FALSE(is_convolution(gpu_kernel(x.conv2d(Tensor::randn({16, 8, 1, 1}, DType::kFloat32, "INTERP")))));
}

// MNIST's conv2 forward: 20-wide output rows are no multiple of the mma's 8 columns. Padded to
// 24 (Opt kPad: the padding reads 0 and is never stored), the rows are the mma's N and the
// channels its M; a warp tile then also spans image rows, and staged, only the weights go to
// shared memory: the image, read through its 5x5 window, would need a copy for every position.
TEST(TensorCoreChoices, AConvsRowsArePaddedToTheMmasEightColumns) {
  Tensor x = Tensor::randn({8, 32, 24, 24}, DType::kFloat32, "INTERP");
  Tensor w = Tensor::randn({32, 32, 5, 5}, DType::kFloat32, "INTERP");
  const Kernel k = gpu_kernel(x.conv2d(w));  // (8, 32, 20, 20) outputs, (32, 5, 5) reduced
  ASSERT_EQ(k.full_shape(), (Shape{8, 32, 20, 20, 32, 5, 5}));
  std::string why;
  EXPECT_FALSE(k.can_apply({OptKind::kPad, 4, 8}, &why)) << "32 is a multiple of 8 already (channels in, reduced)";
  EXPECT_FALSE(k.can_apply({OptKind::kPad, 1, 8}, &why)) << "32 is a multiple of 8 already";
  Kernel split = k;
  split.apply({OptKind::kUpcast, 0, 2});
  EXPECT_FALSE(split.can_apply({OptKind::kPad, 3, 8}, &why)) << "padding comes first";
  Kernel padded = k;
  padded.apply({OptKind::kPad, 3, 8});
  EXPECT_EQ(padded.full_shape(), (Shape{8, 32, 20, 24, 32, 5, 5}));
  bool rows_as_n = false;
  for (const TensorCoreChoice& c : tensor_core_choices(padded)) rows_as_n = rows_as_n || (c.m == 1 && c.n == 3 && c.k == 4);
  EXPECT_TRUE(rows_as_n) << "channels out as M, the padded row as N, channels in as K";
  CodegenOptions o = gpu_tf32_options();
  o.tf32 = Tf32::kConvolutions;
  int row_tiles = 0;
  for (const Kernel& v : gpu_variants(k, o)) {
    const std::string opts = to_string(v.applied);
    if (opts.rfind("pad 3 8, tensor_core ", 0) != 0 || opts.find("local 2 ") == std::string::npos || !v.stage_k_tiles) continue;
    SCOPED_TRACE(opts);
    ++row_tiles;
    const std::vector<StagedLeaf> plan = plan_staging(v);
    ASSERT_EQ(plan.size(), 1u) << "the weights alone";
    EXPECT_EQ(v.leaf_buffer(static_cast<size_t>(plan[0].leaf)).size, 32 * 32 * 5 * 5) << "the weights";
    EXPECT_EQ(plan[0].size, 32 * 5 * 5 * 8) << "all 32 channels out x the 5x5 window x 8 channels in";
  }
  EXPECT_GE(row_tiles, 2) << "warps down the image rows, staged";
  // Their copies: the weights' 8 channels x 5 x 5 a K-tile are 200 neighbours in global memory and
  // in the array, copied a float4 at a time (staging.cc: copy_order): 1600 over 128 threads.
  int checked = 0;
  for (const Program& p : lower_variants(create_schedule({x.conv2d(w).lazy()}).back(), o)) {
    if (p.opts.rfind("pad 3 8, tensor_core ", 0) != 0 || p.opts.find("local 2 4, ") == std::string::npos ||
        p.opts.find("stage") == std::string::npos) {
      continue;
    }
    SCOPED_TRACE(p.opts);
    int float4s = 0, scalars = 0;
    for (const UOp& u : p.uops) {
      if (u.kind != UOpKind::kStore || p.uops[u.src[0]].kind != UOpKind::kDefineLocal) continue;
      (u.lanes == 4 ? float4s : scalars) += 1;
    }
    EXPECT_EQ(float4s, (1600 + 127) / 128);
    EXPECT_EQ(scalars, 0);
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

// MNIST's conv2 weight gradient: 32x32 channels (M and N) at each of the 5x5 offsets, summed over
// images and 20x20 output pixels. The mma's K is a row's 20 pixels (contiguous in the output
// gradient and in the image), padded to 24: both factors read 0 there, so the padding adds 0 * 0.
// A warp tile then takes channels, and the block's warps all of a kernel row's 5 offsets.
TEST(TensorCoreChoices, AWeightGradientsRowSumIsPaddedToTheMmasEightK) {
  Tensor x = Tensor::randn({8, 32, 24, 24}, DType::kFloat32, "INTERP");
  Tensor w = Tensor::randn({32, 32, 5, 5}, DType::kFloat32, "INTERP").requires_grad_();
  Tensor dy = Tensor::randn({8, 32, 20, 20}, DType::kFloat32, "INTERP");
  (x.conv2d(w) * dy).sum().backward();
  const Kernel k = gpu_kernel(w.grad());
  ASSERT_EQ(k.full_shape(), (Shape{32, 32, 5, 5, 8, 20, 20}));  // outputs, then images, rows, pixels
  std::string why;
  EXPECT_TRUE(k.can_apply({OptKind::kPad, 6, 8}, &why)) << why;
  EXPECT_FALSE(k.can_apply({OptKind::kPad, 4, 8}, &why)) << "8 images are a multiple of 8 already";
  const Kernel sum = gpu_kernel(x.sum({3}));
  ASSERT_EQ(sum.full_shape(), (Shape{6144, 24}));
  EXPECT_FALSE(sum.can_apply({OptKind::kPad, 1, 16}, &why)) << "padding a plain sum adds what the padding reads";
  EXPECT_NE(why.find("sum of products"), std::string::npos) << why;
  Kernel padded = k;
  padded.apply({OptKind::kPad, 6, 8});
  EXPECT_EQ(padded.full_shape(), (Shape{32, 32, 5, 5, 8, 20, 24}));
  bool row_as_k = false;
  for (const TensorCoreChoice& c : tensor_core_choices(padded)) row_as_k = row_as_k || (c.m <= 1 && c.n <= 1 && c.k == 6);
  EXPECT_TRUE(row_as_k) << "channels as M and N, the padded row as K";
  EXPECT_TRUE(tensor_core_choices(k).empty() || tensor_core_choices(k)[0].k == 4) << "unpadded, only the images are a K";
  CodegenOptions o = gpu_tf32_options();
  o.tf32 = Tf32::kConvolutions;
  int offset_tiles = 0;
  for (const Kernel& v : gpu_variants(k, o)) {
    const std::string opts = to_string(v.applied);
    offset_tiles += opts.rfind("pad 6 8, tensor_core ", 0) == 0 && opts.find("local 3 5") != std::string::npos;
  }
  EXPECT_GE(offset_tiles, 4) << "the block's warps on a kernel row's 5 offsets";
}

// Padding takes the innermost dimension of its kind that is no multiple of 8, looking past those
// that are: a matmul's 100 rows under 64 columns become 104.
TEST(TensorCoreChoices, TheRowsArePaddedWhereTheColumnsAreAMultipleOfEight) {
  Tensor a = Tensor::randn({100, 32}, DType::kFloat32, "INTERP"), b = Tensor::randn({32, 64}, DType::kFloat32, "INTERP");
  const Kernel k = gpu_kernel(a.matmul(b));
  ASSERT_EQ(k.full_shape(), (Shape{100, 64, 32}));
  int padded = 0;
  for (const Kernel& v : gpu_variants(k, gpu_tf32_options())) padded += to_string(v.applied).rfind("pad 0 8, tensor_core", 0) == 0;
  EXPECT_GE(padded, 1) << "the 100 rows padded to 104 (the 64 columns need nothing)";
}

}  // namespace
}  // namespace tinyref
