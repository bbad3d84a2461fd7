// Helpers shared by every graded test: the seed set and comparisons whose failure messages
// speak to a student.
//
//   for (uint64_t seed : testing_util::seeds()) {
//     SCOPED_TRACE(testing_util::seed_note(seed));   // every failure names its seed
//     std::mt19937_64 rng(seed);
//     ...
//     EXPECT_TRUE(testing_util::all_close(expected, got, 1e-5, 1e-6, "relu(x)"));
//   }
//
// The seed set is 1..5 unless TT_SEEDS says otherwise (TT_SEEDS=7,8,9): a grader can change
// it, so no solution can be fitted to fixed inputs.
//
// Linking this library also makes every failure traceable (testing.cc): seed_note remembers
// the seed, a failure gtest reports without it (an exception thrown in the test body) gets a
// "seed" property in the XML report, a binary that dies on a signal (a crash, a timeout) says
// during which seed, and the log lists every case the binary was going to run, so a report
// can account for the cases a crash cut off.
//
// A test that runs on an emulator instead of the device it tests (CUDA without a GPU) says so:
//   if (dev == "CUDA_EMU") testing_util::running_emulated("CUDA_EMU", "no GPU here: ...");
// and `./course test` counts it as emulated.
#ifndef TESTS_TESTING_TESTING_H_
#define TESTS_TESTING_TESTING_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tinyref/env.h"

namespace testing_util {

// The seeds every randomized test loops over.
std::vector<uint64_t> seeds();

// "seed 3 (rerun just this input with TT_SEEDS=3)"; also records 3 as the current seed.
std::string seed_note(uint64_t seed);

// |expected - got| <= atol + rtol * |expected| elementwise, NaN only where NaN is expected.
// On failure: the first bad index, both values, how many differ and the largest error.
::testing::AssertionResult all_close(std::span<const double> expected, std::span<const double> got,
                                     double rtol, double atol, const std::string& what);
::testing::AssertionResult all_close(std::span<const float> expected, std::span<const float> got,
                                     double rtol, double atol, const std::string& what);
::testing::AssertionResult close(double expected, double got, double rtol, double atol,
                                 const std::string& what);

// Prints "[ EMULATED ] <why>" and records the property emulated=<emulator> on the running test
// case, which tools/report counts ("N emulated"). Call it inside a test (or its SetUp).
void running_emulated(const std::string& emulator, const std::string& why);

// An environment variable changed for one scope and put back as it was at its end, so that a
// test neither changes the next one's nor a value the whole run was started with (TT_TF32=1).
//   testing_util::ScopedEnv tf32("TT_TF32", "0");   // TT_TF32=0 until the end of the scope
//   tf32.set("1");                                   // then 1
//   tf32.set(nullptr);                               // then unset
using ScopedEnv = tinyref::ScopedEnv;  // tinyref/env.h

}  // namespace testing_util

#endif  // TESTS_TESTING_TESTING_H_
