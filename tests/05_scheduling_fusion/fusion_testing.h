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

#include <sstream>
#include <string>
#include <vector>

#include "ch05/kernel.h"
#include "gtest/gtest.h"
#include "tests/05_scheduling_fusion/dual.h"
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
inline ::testing::AssertionResult same_values(const std::vector<Dual>& outs, const std::string& what) {
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::vector<double> expected = outs[i].values_ref(), got = outs[i].ours.to_vector();
    auto r = testing_util::all_close(expected, got, 1e-4, 1e-5, what + ", output " + std::to_string(i));
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace fusion_testing

#endif  // TESTS_05_SCHEDULING_FUSION_FUSION_TESTING_H_
