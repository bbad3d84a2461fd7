#include "tests/testing/testing.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <iterator>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace testing_util {
namespace {

// The seed of the iteration running now, -1 outside any. Read by a signal handler, hence an
// atomic that is lock-free on every platform the course runs on.
std::atomic<int64_t> g_current_seed{-1};

// gtest reports an exception thrown in the test body without the traces that name the seed:
// the seed goes into the XML report as a property of the case instead.
class SeedRecorder : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { g_current_seed = -1; }
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed() && g_current_seed >= 0) {
      ::testing::Test::RecordProperty("seed", std::to_string(g_current_seed.load()));
    }
  }
};

// "[ CASES    ] Task1A.B Task1A.C ...": the cases this run will execute, first thing in the
// log. A binary that dies halfway leaves no XML report; its log still says what was to come.
// Under bazel test, "[ LIMIT    ] 300 s" before it: the time limit bazel gives this binary
// (TEST_TIMEOUT, from its size or timeout), so a report of a timeout can say which limit it was.
class ListCases : public ::testing::Environment {
  void SetUp() override {
    if (const char* limit = std::getenv("TEST_TIMEOUT"); limit != nullptr && *limit != '\0') {
      std::printf("[ LIMIT    ] %s s\n", limit);
    }
    const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
    std::string line = "[ CASES    ]";
    for (int i = 0; i < unit.total_test_suite_count(); ++i) {
      const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
      for (int j = 0; j < suite.total_test_count(); ++j) {
        const ::testing::TestInfo& info = *suite.GetTestInfo(j);
        if (info.should_run()) line += std::string(" ") + suite.name() + "." + info.name();
      }
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
};

// On a fatal signal (and on the SIGTERM that ends a timed-out test): "[ SIGNAL   ] 11 during
// seed 3" on stderr, then whatever handled the signal before (the sanitizers' report, or the
// default action). Only async-signal-safe calls in here.
constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM};
struct sigaction g_previous[std::size(kFatalSignals)];

void append_number(char*& out, int64_t n) {
  char digits[24];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (count > 0) *out++ = digits[--count];
}

void on_fatal_signal(int signal, siginfo_t* info, void* context) {
  char line[96], *out = line;
  for (const char* c = "[ SIGNAL   ] "; *c; ++c) *out++ = *c;
  append_number(out, signal);
  if (const int64_t seed = g_current_seed; seed >= 0) {
    for (const char* c = " during seed "; *c; ++c) *out++ = *c;
    append_number(out, seed);
  }
  *out++ = '\n';
  [[maybe_unused]] const ssize_t written = write(STDERR_FILENO, line, out - line);
  for (size_t i = 0; i < std::size(kFatalSignals); ++i) {
    if (kFatalSignals[i] != signal) continue;
    const struct sigaction& before = g_previous[i];
    if (before.sa_flags & SA_SIGINFO) {
      before.sa_sigaction(signal, info, context);
      return;
    }
    if (before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN) {
      before.sa_handler(signal);
      return;
    }
    sigaction(signal, &before, nullptr);
    raise(signal);
  }
}

bool install() {
  ::testing::UnitTest::GetInstance()->listeners().Append(new SeedRecorder);
  ::testing::AddGlobalTestEnvironment(new ListCases);
  struct sigaction action = {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < std::size(kFatalSignals); ++i) sigaction(kFatalSignals[i], &action, &g_previous[i]);
  return true;
}

// Runs before main: this library is linked whole (alwayslink) into every chapter test.
[[maybe_unused]] const bool g_installed = install();

}  // namespace

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
  g_current_seed = static_cast<int64_t>(seed);
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
