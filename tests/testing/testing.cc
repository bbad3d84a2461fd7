#include "tests/testing/testing.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace testing_util {

std::vector<uint64_t> seeds() {
  std::vector<uint64_t> out;
  if (const char* env = std::getenv("TT_SEEDS"); env != nullptr && *env != '\0') {
    std::stringstream list(env);
    std::string item;
    while (std::getline(list, item, ',')) {
      if (!item.empty()) out.push_back(std::stoull(item));
    }
  }
  if (out.empty()) out = {1, 2, 3, 4, 5};
  return out;
}

void running_emulated(const std::string& emulator, const std::string& why) {
  std::printf("[ EMULATED ] %s\n", why.c_str());
  ::testing::Test::RecordProperty("emulated", emulator);
}

std::string seed_note(uint64_t seed) {
  return "seed " + std::to_string(seed) + " (rerun just this input with TT_SEEDS=" +
         std::to_string(seed) + ")";
}

namespace {

template <typename T>
::testing::AssertionResult all_close_impl(std::span<const T> expected, std::span<const T> got,
                                          double rtol, double atol, const std::string& what) {
  if (expected.size() != got.size()) {
    return ::testing::AssertionFailure() << what << ": expected " << expected.size()
                                         << " elements, got " << got.size();
  }
  size_t bad = 0, first_bad = 0;
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double e = expected[i], g = got[i];
    const bool ok = std::isnan(e) ? std::isnan(g)
                    : std::isinf(e) ? e == g
                                    : std::fabs(e - g) <= atol + rtol * std::fabs(e);
    if (!ok) {
      if (bad++ == 0) first_bad = i;
      if (std::isfinite(e) && std::isfinite(g)) worst = std::max(worst, std::fabs(e - g));
      else worst = INFINITY;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  std::ostringstream msg;
  msg.precision(9);
  msg << what << ": " << bad << " of " << expected.size() << " elements differ (rtol " << rtol
      << ", atol " << atol << "); first at index " << first_bad << ": expected "
      << static_cast<double>(expected[first_bad]) << ", got " << static_cast<double>(got[first_bad])
      << "; largest error " << worst;
  return ::testing::AssertionFailure() << msg.str();
}

}  // namespace

::testing::AssertionResult all_close(std::span<const double> expected, std::span<const double> got,
                                     double rtol, double atol, const std::string& what) {
  return all_close_impl(expected, got, rtol, atol, what);
}

::testing::AssertionResult all_close(std::span<const float> expected, std::span<const float> got,
                                     double rtol, double atol, const std::string& what) {
  return all_close_impl(expected, got, rtol, atol, what);
}

::testing::AssertionResult close(double expected, double got, double rtol, double atol,
                                 const std::string& what) {
  const double one_e[1] = {expected}, one_g[1] = {got};
  return all_close(std::span<const double>(one_e), std::span<const double>(one_g), rtol, atol, what);
}

}  // namespace testing_util
