// Small helpers shared by chapter 5's tests: the lazy nodes of dual tensors, tinyref's count,
// kernel lists for failure messages, value comparisons.
//
//   std::vector<Dual> outs = g.build(rng);
//   ch05::count_kernels(ours(outs)) == tinyref::count_kernels(refs(outs))
//   EXPECT_TRUE(same_values(outs[0], "softmax"));   // realized by the current ch04 engine
//
// Header-only: compiled into each test with the ch04 and ch05 that test links.
#ifndef TESTS_05_SCHEDULING_FUSION_FUSION_TESTING_H_
#define TESTS_05_SCHEDULING_FUSION_FUSION_TESTING_H_

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ch05/kernel.h"
#include "gtest/gtest.h"
#include "tests/05_scheduling_fusion/dual.h"
#include "tests/05_scheduling_fusion/graphs.h"
#include "tests/testing/testing.h"

namespace fusion_testing {

using dual::Dual;

inline std::vector<ch04::LazyRef> ours(const std::vector<Dual>& outs) {
  std::vector<ch04::LazyRef> v;
  for (const Dual& d : outs) v.push_back(d.ours.lazy());
  return v;
}

inline std::vector<tinyref::Tensor> refs(const std::vector<Dual>& outs) {
  std::vector<tinyref::Tensor> v;
  for (const Dual& d : outs) v.push_back(d.ref);
  return v;
}

inline int tinyref_count(const std::vector<Dual>& outs) { return tinyref::count_kernels(refs(outs)); }

// The base node behind a tensor: what realize_points and lower talk about.
inline const ch04::LazyBuffer* base_of(const ch04::Tensor& t) { return t.lazy()->base().get(); }
inline const ch04::LazyBuffer* base_of(const Dual& d) { return base_of(d.ours); }

// "r_16_32_784, E_16_32 (2 kernels)": for failure messages.
inline std::string names(const std::vector<ch05::Kernel>& kernels) {
  std::ostringstream os;
  for (size_t i = 0; i < kernels.size(); ++i) os << (i ? ", " : "") << kernels[i].name();
  os << " (" << kernels.size() << " kernel" << (kernels.size() == 1 ? "" : "s") << ")";
  return os.str();
}

// Our value of each output (realized by whatever ch04 engine is installed) against tinyref's.
// Float32 on both sides; what differs is only the order in which a fused reduce adds (up to
// ~800 terms here): 1e-4 relative, 1e-5 absolute covers that and catches any wrong element.
// Every output must be realized already: reading an unrealized one would run the engine again.
inline ::testing::AssertionResult same_values(const std::vector<Dual>& outs, const std::string& what) {
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].ours.lazy()->realized()) {
      return ::testing::AssertionFailure() << what << ": output " << i << " is not realized after realize "
                                           << "(every kernel's node must get set_realized)";
    }
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::vector<double> expected = outs[i].values_ref(), got = outs[i].ours.to_vector();
    auto r = testing_util::all_close(expected, got, 1e-4, 1e-5, what + ", output " + std::to_string(i));
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

// f(row, outputs) for every row of the graph table, built afresh from each test seed (or from
// the first one only), with the seed and the row's name in every failure message.
template <typename F>
void for_each_graph(F f, bool every_seed = true) {
  std::vector<uint64_t> seeds = testing_util::seeds();
  if (!every_seed) seeds.resize(1);
  for (uint64_t seed : seeds) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    for (const graphs::GraphCase& g : graphs::graph_table()) {
      SCOPED_TRACE("graph: " + g.name);
      std::mt19937_64 rng(seed);
      f(g, g.build(rng));
    }
  }
}

}  // namespace fusion_testing

#endif  // TESTS_05_SCHEDULING_FUSION_FUSION_TESTING_H_
