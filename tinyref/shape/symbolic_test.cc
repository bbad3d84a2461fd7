#include "tinyref/shape/symbolic.h"

#include <random>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace tinyref::sym {
namespace {

TEST(Symbolic, DivModOfSplitIndexSimplify) {
  Expr i = var(0, "i", 0, 63), j = var(1, "j", 0, 3);
  Expr flat = i * 4 + j;
  EXPECT_EQ(floordiv(flat, 4)->render(), "i");
  EXPECT_EQ(mod(flat, 4)->render(), "j");
  EXPECT_EQ(flat->min, 0);
  EXPECT_EQ(flat->max, 255);
  EXPECT_EQ(mod(i * 6 + 3, 3)->render(), "0");
  EXPECT_EQ(floordiv(i * 6 + 4, 2)->render(), "((i*3)+2)");
  EXPECT_EQ(lt(flat, 256)->render(), "1");
  EXPECT_EQ(land({lt(i, 10), num(1)})->render(), "(i<10)");
  EXPECT_EQ((flat - flat)->render(), "0");
}

TEST(Symbolic, SplitLinear) {
  Expr i = var(0, "i", 0, 9), u = var(1, "u", 0, 7);
  int64_t coef;
  Expr rest;
  ASSERT_TRUE(split_linear(i * 8 + u + 3, 1, &coef, &rest));
  EXPECT_EQ(coef, 1);
  EXPECT_EQ(rest->render(), "((i*8)+3)");
  EXPECT_FALSE(split_linear(mod(i * 3 + u, 5), 1, &coef, &rest));
}

// Alignment is judged by constant factors: enough to prove, never a guess.
TEST(Symbolic, MultipleOf) {
  Expr i = var(0, "i", 0, 9), u = var(1, "u", 0, 7);
  EXPECT_TRUE(multiple_of(i * 8 + u * 4 + 12, 4));
  EXPECT_FALSE(multiple_of(i * 8 + u + 12, 4));  // u moves by one
  EXPECT_FALSE(multiple_of(i * 8 + 2, 4));
  EXPECT_FALSE(multiple_of(floordiv(i * 8, 3), 2));  // 16 / 3 = 5
}

// Every rewrite must agree with plain integer arithmetic on every point of the variables' ranges.
TEST(Symbolic, RandomExpressionsMatchIntegerArithmetic) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    auto r = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    for (int trial = 0; trial < 200; ++trial) {
      const int xmax = r(1, 12), ymax = r(1, 12);
      const int kx = r(-4, 6), ky = r(-3, 5), k0 = r(-10, 10);
      Expr x = var(0, "x", 0, xmax), y = var(1, "y", 0, ymax);
      Expr e = x * kx + y * ky + num(k0);
      std::vector<std::pair<int, int>> steps;  // (kind, constant), replayed on integers below
      const int depth = r(1, 3);
      for (int d = 0; d < depth; ++d) {
        const int kind = r(0, 3), k = kind < 2 ? r(1, 7) : kind == 2 ? r(-3, 3) : r(1, 4);
        steps.push_back({kind, k});
        switch (kind) {
          case 0: e = floordiv(e, k); break;
          case 1: e = mod(e, k); break;
          case 2: e = e * k + x; break;
          default: e = e + y * k; break;
        }
      }
      for (int64_t xv = 0; xv <= xmax; ++xv) {
        for (int64_t yv = 0; yv <= ymax; ++yv) {
          int64_t want = xv * kx + yv * ky + k0;
          for (auto [kind, k] : steps) {
            switch (kind) {
              case 0: want = floor_div(want, k); break;
              case 1: want = floor_mod(want, k); break;
              case 2: want = want * k + xv; break;
              default: want = want + yv * k; break;
            }
          }
          int64_t vars[2] = {xv, yv};
          const int64_t got = eval(e, vars);
          ASSERT_EQ(got, want) << e->render() << " at x=" << xv << " y=" << yv;
          EXPECT_GE(got, e->min) << e->render();
          EXPECT_LE(got, e->max) << e->render();
          Expr folded = substitute(substitute(e, 0, num(xv)), 1, num(yv));
          ASSERT_TRUE(folded->is_num()) << folded->render();
          EXPECT_EQ(folded->c, want) << e->render();
        }
      }
    }
  }
}

}  // namespace
}  // namespace tinyref::sym
