// Task 3: the rules of reductions (sum, mean over any axes, keepdim or not) and of movement
// ops (reshape, permute, transpose, expand). See grad_testing.h for how each is checked.
#include <algorithm>
#include <numeric>
#include <random>

#include "ch03/autograd.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/02_strided_tensors/strided_testing.h"
#include "tests/03_autograd_nn/grad_testing.h"
#include "tests/testing/testing.h"

namespace {

using ch03::Tensor;
using dense::Dense;
using grad_testing::Input;

std::vector<int> random_axes(std::mt19937_64& rng, size_t ndim) {
  std::vector<int> axes;
  for (size_t a = 0; a < ndim; ++a) {
    if (rng() % 2) axes.push_back(rng() % 2 ? static_cast<int>(a) : static_cast<int>(a) - int(ndim));
  }
  std::shuffle(axes.begin(), axes.end(), rng);
  return axes;
}

std::string axes_str(const std::vector<int>& axes, bool keepdim) {
  std::string s = "{";
  for (size_t i = 0; i < axes.size(); ++i) s += (i ? ", " : "") + std::to_string(axes[i]);
  return s + "}, keepdim=" + (keepdim ? "true" : "false");
}

Dense dense_mean(const Dense& x, const std::vector<int>& axes, bool keepdim) {
  Dense s = dense::reduce(x, axes, keepdim, dense::Reduce::kSum);
  const double n = static_cast<double>(dense::count(x.shape)) /
                   static_cast<double>(dense::count(dense::reduce(x, axes, true, dense::Reduce::kSum).shape));
  return dense::map(s, [n](double v) { return v / n; });
}

// Runs both checks of one op on a random input of shape `shape`.
template <typename F32, typename F64, typename Ref, typename Tf>
void both(const std::string& name, F32 f32, F64 f64, Ref ref, Tf tf, const dense::Shape& shape,
          std::mt19937_64& rng) {
  grad_testing::check_gradients(name, f32, ref, tf, {Input{shape}}, rng);
  if (::testing::Test::HasFatalFailure()) return;
  grad_testing::gradcheck64(name, f64, {Input{shape}}, rng);
}

TEST(Task3ReduceMoveGrad, SumOverRandomAxes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 4 && !HasFatalFailure(); ++trial) {
      const dense::Shape shape = grad_testing::small_shape(rng, 1);
      const std::vector<int> axes = random_axes(rng, shape.size());
      const bool keepdim = rng() % 2;
      both("sum(x, " + axes_str(axes, keepdim) + ")",
           [&](const auto& x) { return ch03::sum(x[0], axes, keepdim); },
           [&](const auto& x) { return ch03::sum(x[0], axes, keepdim); },
           [&](const std::vector<Dense>& d) { return dense::reduce(d[0], axes, keepdim, dense::Reduce::kSum); },
           [&](const auto& t) { return axes.empty() ? t[0] : t[0].sum(axes, keepdim); }, shape, rng);
    }
  }
}

TEST(Task3ReduceMoveGrad, MeanOverRandomAxes) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 4 && !HasFatalFailure(); ++trial) {
      const dense::Shape shape = grad_testing::small_shape(rng, 1);
      const std::vector<int> axes = random_axes(rng, shape.size());
      const bool keepdim = rng() % 2;
      both("mean(x, " + axes_str(axes, keepdim) + ")",
           [&](const auto& x) { return ch03::mean(x[0], axes, keepdim); },
           [&](const auto& x) { return ch03::mean(x[0], axes, keepdim); },
           [&](const std::vector<Dense>& d) { return dense_mean(d[0], axes, keepdim); },
           [&](const auto& t) { return axes.empty() ? t[0] : t[0].mean(axes, keepdim); }, shape, rng);
    }
  }
}

TEST(Task3ReduceMoveGrad, SumAndMeanOfEverything) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape shape = grad_testing::small_shape(rng);
    std::vector<int> all(shape.size());
    std::iota(all.begin(), all.end(), 0);
    both("sum(x)", [](const auto& x) { return ch03::sum(x[0]); }, [](const auto& x) { return ch03::sum(x[0]); },
         [&](const std::vector<Dense>& d) { return dense::reduce(d[0], all, false, dense::Reduce::kSum); },
         [](const auto& t) { return t[0].sum(); }, shape, rng);
    if (HasFatalFailure()) return;
    both("mean(x)", [](const auto& x) { return ch03::mean(x[0]); }, [](const auto& x) { return ch03::mean(x[0]); },
         [&](const std::vector<Dense>& d) { return dense_mean(d[0], all, false); },
         [](const auto& t) { return t[0].mean(); }, shape, rng);
  }
}

TEST(Task3ReduceMoveGrad, Reshape) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape shape = grad_testing::small_shape(rng, 1);
    const dense::Shape to{1, dense::count(shape)};
    both("reshape(x, " + dense::shape_str(to) + ")", [&](const auto& x) { return ch03::reshape(x[0], to); },
         [&](const auto& x) { return ch03::reshape(x[0], to); },
         [&](const std::vector<Dense>& d) { return dense::reshape(d[0], to); },
         [&](const auto& t) { return t[0].reshape(to); }, shape, rng);
  }
}

TEST(Task3ReduceMoveGrad, PermuteAndTranspose) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const dense::Shape shape = grad_testing::small_shape(rng, 2);
    std::vector<int> order(shape.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    both("permute", [&](const auto& x) { return ch03::permute(x[0], order); },
         [&](const auto& x) { return ch03::permute(x[0], order); },
         [&](const std::vector<Dense>& d) { return dense::permute(d[0], order); },
         [&](const auto& t) { return t[0].permute(order); }, shape, rng);
    if (HasFatalFailure()) return;
    std::vector<int> swap(shape.size());
    std::iota(swap.begin(), swap.end(), 0);
    std::swap(swap.front(), swap.back());
    both("transpose(x, 0, -1)", [](const auto& x) { return ch03::transpose(x[0], 0, -1); },
         [](const auto& x) { return ch03::transpose(x[0], 0, -1); },
         [&](const std::vector<Dense>& d) { return dense::permute(d[0], swap); },
         [](const auto& t) { return t[0].transpose(0, -1); }, shape, rng);
  }
}

// A permutation that is not its own inverse: a gradient sent back through `order` itself
// instead of its inverse has the wrong shape or the wrong elements. (A random permutation of 2
// or 3 axes is often a swap, which is its own inverse.)
TEST(Task3ReduceMoveGrad, PermuteWithACycle) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const std::vector<int>& order : {std::vector<int>{1, 2, 0}, std::vector<int>{2, 0, 3, 1}}) {
      dense::Shape shape(order.size());
      for (int64_t& d : shape) d = 1 + rng() % 3;
      both("permute(x, cycle)", [&](const auto& x) { return ch03::permute(x[0], order); },
           [&](const auto& x) { return ch03::permute(x[0], order); },
           [&](const std::vector<Dense>& d) { return dense::permute(d[0], order); },
           [&](const auto& t) { return t[0].permute(order); }, shape, rng);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(Task3ReduceMoveGrad, Expand) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    dense::Shape small = grad_testing::small_shape(rng, 1), big = small;
    for (size_t a = 0; a < small.size(); ++a) {
      if (rng() % 2) {
        small[a] = 1;
        big[a] = 2 + rng() % 2;
      }
    }
    both("expand(x, " + dense::shape_str(big) + ")", [&](const auto& x) { return ch03::expand(x[0], big); },
         [&](const auto& x) { return ch03::expand(x[0], big); },
         [&](const std::vector<Dense>& d) { return dense::expand_to(d[0], big); },
         [&](const auto& t) { return t[0].expand(big); }, small, rng);
  }
}

}  // namespace
