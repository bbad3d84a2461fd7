// Task 4: matmul's rule, dA = G B^T and dB = A^T G, on random shapes and layouts.
#include <random>

#include "ch03/autograd.h"
#include "gtest/gtest.h"
#include "tests/02_strided_tensors/dense.h"
#include "tests/03_autograd_nn/grad_testing.h"
#include "tests/testing/testing.h"

namespace {

using dense::Dense;
using grad_testing::Input;

Dense ref(const std::vector<Dense>& d) { return dense::matmul(d[0], d[1]); }
tinyref::Tensor tinyref_matmul(const std::vector<tinyref::Tensor>& t) { return t[0].matmul(t[1]); }

TEST(Task4MatmulGrad, RandomShapesAndLayouts) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int trial = 0; trial < 3 && !HasFatalFailure(); ++trial) {
      const int64_t m = 1 + rng() % 5, k = 1 + rng() % 5, n = 1 + rng() % 5;
      grad_testing::check_gradients("matmul", [](const auto& x) { return ch03::matmul(x[0], x[1]); }, ref, tinyref_matmul,
                                    {Input{{m, k}}, Input{{k, n}}}, rng);
    }
  }
}

TEST(Task4MatmulGrad, GradcheckFloat64) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    const int64_t m = 1 + rng() % 5, k = 1 + rng() % 5, n = 1 + rng() % 5;
    grad_testing::gradcheck64("matmul", [](const auto& x) { return ch03::matmul(x[0], x[1]); },
                              {Input{{m, k}}, Input{{k, n}}}, rng);
  }
}

TEST(Task4MatmulGrad, OnlyOperandsThatNeedItGetAGradient) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    // The first layer of a network: constant images @ weights.
    grad_testing::check_gradients("matmul(constant, w)", [](const auto& x) { return ch03::matmul(x[0], x[1]); },
                                  ref, tinyref_matmul, {Input{{4, 3}, -1, 1, 0, false}, Input{{3, 2}}}, rng);
    if (HasFatalFailure()) return;
    grad_testing::check_gradients("matmul(w, constant)", [](const auto& x) { return ch03::matmul(x[0], x[1]); },
                                  ref, tinyref_matmul, {Input{{4, 3}}, Input{{3, 2}, -1, 1, 0, false}}, rng);
  }
}

TEST(Task4MatmulGrad, ALinearLayerComposes) {
  // x @ w^T + b: matmul, transpose and a broadcast add, as Linear uses them.
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    grad_testing::check_gradients(
        "x @ w^T + b", [](const auto& x) { return ch03::matmul(x[0], ch03::transpose(x[1], 0, 1)) + x[2]; },
        [](const std::vector<Dense>& d) {
          return dense::zip(dense::matmul(d[0], dense::permute(d[1], {1, 0})), d[2], std::plus<>());
        },
        [](const auto& t) { return t[0].linear(t[1], t[2]); }, {Input{{5, 4}}, Input{{3, 4}}, Input{{3}}}, rng);
  }
}

}  // namespace
