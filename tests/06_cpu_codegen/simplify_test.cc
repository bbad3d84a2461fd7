// Task 1: bounds() and simplify() on index expressions. Hand-picked cases say what must fold
// (and what must not: the boundaries); random expressions check that simplify() never changes
// a value, neither as ch04::evaluate computes it (floor division) nor as the generated C++
// computes it (truncating division), which is the one that runs.
#include "ch06/simplify.h"

#include <functional>
#include <map>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace {

using ch04::Expr;
using ch04::ExprKind;
using ch04::num;
using ch04::var;
using Vars = std::map<std::string, int64_t>;

int size(const Expr& e) {
  if (e->kind == ExprKind::kConst || e->kind == ExprKind::kVar) return 1;
  return 1 + size(e->a) + size(e->b);
}

// Every assignment of the variables in `ranges` (name -> [0, max]).
void for_each_point(const std::map<std::string, int64_t>& ranges, const std::function<void(const Vars&)>& f) {
  Vars v;
  for (const auto& [name, hi] : ranges) v[name] = 0;
  while (true) {
    f(v);
    auto it = v.begin();
    for (; it != v.end(); ++it) {
      if (++it->second <= ranges.at(it->first)) break;
      it->second = 0;
    }
    if (it == v.end()) return;
  }
}

// What the generated C++ computes: / and % truncate toward zero. *negative is set when some
// division sees a negative dividend (where C and floor division may disagree).
int64_t evaluate_as_c(const Expr& e, const Vars& vars, bool* negative) {
  switch (e->kind) {
    case ExprKind::kConst: return e->value;
    case ExprKind::kVar: return vars.at(e->name);
    default: break;
  }
  const int64_t a = evaluate_as_c(e->a, vars, negative), b = evaluate_as_c(e->b, vars, negative);
  switch (e->kind) {
    case ExprKind::kAdd: return a + b;
    case ExprKind::kMul: return a * b;
    case ExprKind::kLt: return a < b;
    case ExprKind::kAnd: return a != 0 && b != 0;
    case ExprKind::kDiv:
      if (a < 0) *negative = true;
      return a / b;
    case ExprKind::kMod:
      if (a < 0) *negative = true;
      return a % b;
    default: return 0;
  }
}

// simplify(e) == e at every point, and its size is at most max_size.
::testing::AssertionResult simplifies(const Expr& e, const std::map<std::string, int64_t>& ranges, int max_size) {
  const Expr s = ch06::simplify(e);
  if (!s) return ::testing::AssertionFailure() << "simplify(" << ch04::render(e) << ") returned null";
  ::testing::AssertionResult result = ::testing::AssertionSuccess();
  for_each_point(ranges, [&](const Vars& v) {
    if (!result) return;
    const int64_t want = ch04::evaluate(e, v), got = ch04::evaluate(s, v);
    if (want != got) {
      std::string at;
      for (const auto& [name, x] : v) at += " " + name + "=" + std::to_string(x);
      result = ::testing::AssertionFailure() << "simplify(" << ch04::render(e) << ") = " << ch04::render(s)
                                             << " changes the value at" << at << ": " << want << " became " << got;
    }
  });
  if (result && size(s) > max_size) {
    return ::testing::AssertionFailure() << "simplify(" << ch04::render(e) << ") = " << ch04::render(s) << " has "
                                         << size(s) << " nodes; it should fold to at most " << max_size;
  }
  return result;
}

const Expr i = var("i", 0, 7), j = var("j", 0, 3), k = var("k", 0, 4);
const std::map<std::string, int64_t> kRanges = {{"i", 7}, {"j", 3}, {"k", 4}};

TEST(Task1Simplify, FoldsConstantsAndIdentities) {
  EXPECT_TRUE(simplifies(i * 1 + 0, kRanges, 1)) << "x*1+0 is x";
  EXPECT_TRUE(simplifies(num(2) * num(3) + num(4), kRanges, 1)) << "constants fold";
  EXPECT_TRUE(simplifies(i * 0 + j, kRanges, 1)) << "x*0 vanishes";
  EXPECT_TRUE(simplifies(num(0) + i * num(1), kRanges, 1));
  EXPECT_EQ(ch04::render(ch06::simplify(var("five", 5, 5) * 2)), "10") << "a variable with one value is a constant";
  EXPECT_EQ(ch04::render(ch06::simplify(i * 1 + 0)), "i");
}

TEST(Task1Simplify, CombinesNestedConstantsAndLikeTerms) {
  EXPECT_TRUE(simplifies((i + 2) + 3, kRanges, 3)) << "(x+2)+3 is x+5";
  EXPECT_TRUE(simplifies((i * 2) * 3, kRanges, 3)) << "(x*2)*3 is x*6";
  EXPECT_TRUE(simplifies(i * 2 + j + i * 3, kRanges, 5)) << "2x + y + 3x is 5x + y";
  EXPECT_TRUE(simplifies((i + 1) * 4 + -4, kRanges, 3)) << "(x+1)*4-4 is x*4";
  EXPECT_TRUE(simplifies(((i * 4 + j) * 1 + 0) * 1, kRanges, 5));
}

TEST(Task1Simplify, BoundsOfEachKind) {
  using Range = std::pair<int64_t, int64_t>;
  auto b = [](const Expr& e) { return Range{ch06::bounds(e).min, ch06::bounds(e).max}; };
  EXPECT_EQ(b(i), Range(0, 7));
  EXPECT_EQ(b(num(-3)), Range(-3, -3));
  EXPECT_EQ(b(i * 4 + j), Range(0, 31));
  EXPECT_EQ(b(i * -2 + 1), Range(-13, 1));
  EXPECT_EQ(b(ch04::div(i * 4 + j, num(4))), Range(0, 7));
  EXPECT_EQ(b(ch04::div(i + -3, num(2))), Range(-2, 2)) << "floor(-3/2) is -2";
  EXPECT_EQ(b(ch04::mod(j, num(8))), Range(0, 3));
  auto [mlo, mhi] = b(ch04::mod(i, num(4)));
  EXPECT_TRUE(mlo >= 0 && mhi <= 3 && mhi >= 3) << "i % 4 lies in [0, 3], got [" << mlo << ", " << mhi << "]";
  EXPECT_EQ(b(ch04::lt(j, num(4))), Range(1, 1)) << "j < 4 always holds";
  EXPECT_EQ(b(ch04::lt(j, num(0))), Range(0, 0));
  EXPECT_EQ(b(ch04::lt(j, num(3))), Range(0, 1));
  EXPECT_EQ(b(ch04::land(ch04::lt(j, num(3)), ch04::lt(i, num(9)))), Range(0, 1));
}

TEST(Task1Simplify, DivAndModDecidedByBounds) {
  EXPECT_TRUE(simplifies(ch04::div(j, num(4)), kRanges, 1)) << "j/4 is 0 for j in [0, 3]";
  EXPECT_TRUE(simplifies(ch04::mod(j, num(4)), kRanges, 1)) << "j%4 is j for j in [0, 3]";
  EXPECT_TRUE(simplifies(ch04::div(i, num(1)), kRanges, 1)) << "x/1 is x";
  EXPECT_TRUE(simplifies(ch04::mod(i, num(1)), kRanges, 1)) << "x%1 is 0";
  // At the boundary they stay: k reaches 4.
  const std::map<std::string, int64_t> r = kRanges;
  EXPECT_TRUE(simplifies(ch04::div(k, num(4)), r, 3));
  EXPECT_NE(ch04::render(ch06::simplify(ch04::div(k, num(4)))), "0") << "k/4 is 1 at k = 4";
  EXPECT_NE(ch04::render(ch06::simplify(ch04::mod(k, num(4)))), "k") << "k%4 is 0 at k = 4";
  EXPECT_TRUE(simplifies(ch04::mod(k, num(4)), r, 3));
}

TEST(Task1Simplify, DivAndModPullOutMultiples) {
  const Expr flat = i * 4 + j;  // a (8, 4) index flattened
  EXPECT_TRUE(simplifies(ch04::div(flat, num(4)), kRanges, 1)) << "(4i + j)/4 is i for j in [0, 3]";
  EXPECT_TRUE(simplifies(ch04::mod(flat, num(4)), kRanges, 1)) << "(4i + j)%4 is j";
  EXPECT_TRUE(simplifies(ch04::div(flat, num(2)), kRanges, 7)) << "(4i + j)/2 is 2i + j/2";
  EXPECT_TRUE(simplifies(ch04::div(ch04::div(flat, num(2)), num(2)), kRanges, 1)) << "(x/2)/2 is x/4";
  EXPECT_TRUE(simplifies(ch04::mod(ch04::mod(flat, num(8)), num(4)), kRanges, 1)) << "(x%8)%4 is x%4";
  // A reshape undone: (flat/4, flat%4) read with strides (s, t) is i*s + j*t again.
  EXPECT_TRUE(simplifies(ch04::div(flat, num(4)) * 12 + ch04::mod(flat, num(4)) * 3 + 5, kRanges, 9));
  EXPECT_TRUE(simplifies(ch04::div(flat + 8, num(4)), kRanges, 3)) << "(4i + j + 8)/4 is i + 2";
  // A pooling window's index: rows of 25 read modulo 24 (tinygrad's pool repeats, then reshapes).
  const Expr w = var("w", 0, 4), r = var("r", 0, 19);
  const std::map<std::string, int64_t> window = {{"w", 4}, {"r", 19}};
  EXPECT_TRUE(simplifies(ch04::mod(w * 25 + r, num(24)), window, 3)) << "(25w + r) % 24 is w + r for w + r < 24";
  EXPECT_TRUE(simplifies(ch04::div(w * 25 + r, num(24)), window, 1)) << "(25w + r) / 24 is w for w + r < 24";
}

TEST(Task1Simplify, NeverDropsADivisionThatIsNotExact) {
  // (x/4)*4 is x rounded down to a multiple of 4, not x.
  EXPECT_TRUE(simplifies(ch04::div(i, num(4)) * 4, kRanges, 5));
  EXPECT_TRUE(simplifies(ch04::div(i * 2 + j, num(4)) * 4, kRanges, 9));
  EXPECT_TRUE(simplifies(ch04::mod(i * 2 + j, num(4)), kRanges, 7));
}

// The C++ that runs truncates: a rewrite may not hand a division a negative dividend where the
// original had none. (4i + j - 1)/4 at i = 1, j = 0 is 0 both ways; i + (j-1)/4 would be 1 in C.
TEST(Task1Simplify, KeepsDividendsNonNegativeForC) {
  const std::vector<Expr> cases = {
      ch04::div(i * 4 + j + -1, num(4)), ch04::mod(i * 4 + j + -1, num(4)),
      ch04::div(i * 4 + j + -2, num(2)), ch04::div(i * 8 + k * 2 + -3, num(4)),
      ch04::mod(i * 6 + j + -5, num(3)), ch04::div(ch04::div(i * 4 + j + -1, num(2)), num(2)),
      // A flipped view reads index (n - 1 - j): negative coefficients, whose remainders
      // (-1 % 4 = -1 in C) must not be split off either.
      ch04::mod(i * 4 + j * -1, num(4)), ch04::div(i * 4 + j * -1, num(4)), ch04::mod(i * 8 + k * -3, num(4)),
  };
  for (const Expr& e : cases) {
    const Expr s = ch06::simplify(e);
    for_each_point(kRanges, [&](const Vars& v) {
      bool neg_e = false, neg_s = false;
      const int64_t want = evaluate_as_c(e, v, &neg_e);
      if (neg_e) return;  // masked in a real kernel: its value does not matter
      const int64_t got = evaluate_as_c(s, v, &neg_s);
      ASSERT_FALSE(neg_s) << ch04::render(e) << " -> " << ch04::render(s) << " divides a negative number at i="
                          << v.at("i") << " j=" << v.at("j") << " k=" << v.at("k") << ", where the original did not";
      ASSERT_EQ(got, want) << "as C: " << ch04::render(e) << " -> " << ch04::render(s) << " at i=" << v.at("i")
                           << " j=" << v.at("j") << " k=" << v.at("k");
    });
  }
}

TEST(Task1Simplify, ComparisonsDecidedByBounds) {
  EXPECT_TRUE(simplifies(ch04::lt(j, num(4)), kRanges, 1)) << "j < 4 always (j <= 3)";
  EXPECT_TRUE(simplifies(ch04::lt(j, num(0)), kRanges, 1)) << "j < 0 never";
  EXPECT_TRUE(simplifies(ch04::lt(num(-1), j), kRanges, 1)) << "-1 < j always";
  EXPECT_TRUE(simplifies(ch04::lt(j, num(3)), kRanges, 3)) << "j < 3 is a real test";
  EXPECT_NE(ch04::render(ch06::simplify(ch04::lt(j, num(3)))), "1") << "j < 3 fails at j = 3";
  EXPECT_NE(ch04::render(ch06::simplify(ch04::lt(num(0), j))), "1") << "0 < j fails at j = 0";
  // An upcast tail: lane 5 of 8 exists when 8*i + 5 < 13, that is i < 1.
  EXPECT_TRUE(simplifies(ch04::lt(i * 8 + 5, num(13)), kRanges, 3));
  EXPECT_TRUE(simplifies(ch04::lt(var("o", 0, 1) * 8 + 3, num(13)), {{"o", 1}}, 1)) << "lane 3 always exists";
}

TEST(Task1Simplify, AndWithConstants) {
  const Expr t = ch04::lt(j, num(3));
  EXPECT_TRUE(simplifies(ch04::land(num(1), t), kRanges, 3)) << "1 && x is x for a test x";
  EXPECT_TRUE(simplifies(ch04::land(t, num(0)), kRanges, 1)) << "x && 0 is 0";
  EXPECT_TRUE(simplifies(ch04::land(ch04::lt(j, num(9)), ch04::lt(num(-1), i)), kRanges, 1));
  EXPECT_TRUE(simplifies(ch04::land(num(1), i), kRanges, 3)) << "1 && i is (i != 0), not i";
}

// Random expressions of the kinds index arithmetic uses, each checked at every point.
Expr random_expr(std::mt19937_64& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  if (depth == 0 || pick(5) == 0) {
    switch (pick(4)) {
      case 0: return i;
      case 1: return j;
      case 2: return k;
      default: return num(pick(16) - 4);
    }
  }
  switch (pick(8)) {
    case 0:
    case 1: return random_expr(rng, depth - 1) + random_expr(rng, depth - 1);
    case 2: return random_expr(rng, depth - 1) * num(pick(8) - 2);
    case 3: return ch04::div(random_expr(rng, depth - 1), num(1 + pick(6)));
    case 4: return ch04::mod(random_expr(rng, depth - 1), num(1 + pick(6)));
    case 5: return ch04::lt(random_expr(rng, depth - 1), random_expr(rng, depth - 1));
    case 6: return ch04::land(random_expr(rng, depth - 1), random_expr(rng, depth - 1));
    default: return random_expr(rng, depth - 1) * random_expr(rng, depth - 1);
  }
}

TEST(Task1Simplify, RandomExpressionsKeepTheirValue) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int n = 0; n < 300; ++n) {
      const Expr e = random_expr(rng, 1 + n % 5);
      const Expr s = ch06::simplify(e);
      ASSERT_TRUE(s);
      const ch06::Bounds b = ch06::bounds(e);
      for_each_point(kRanges, [&](const Vars& v) {
        const int64_t want = ch04::evaluate(e, v);
        ASSERT_EQ(ch04::evaluate(s, v), want) << ch04::render(e) << " -> " << ch04::render(s) << " at i=" << v.at("i")
                                              << " j=" << v.at("j") << " k=" << v.at("k");
        ASSERT_TRUE(b.min <= want && want <= b.max) << "bounds(" << ch04::render(e) << ") = [" << b.min << ", " << b.max
                                                    << "] misses the value " << want;
        bool neg_e = false, neg_s = false;
        const int64_t as_c = evaluate_as_c(e, v, &neg_e);
        if (neg_e) return;
        ASSERT_EQ(evaluate_as_c(s, v, &neg_s), as_c)
            << "as C: " << ch04::render(e) << " -> " << ch04::render(s) << " at i=" << v.at("i") << " j=" << v.at("j")
            << " k=" << v.at("k");
      });
    }
  }
}

}  // namespace
