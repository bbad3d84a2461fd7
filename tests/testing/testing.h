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

namespace testing_util {

// The seeds every randomized test loops over.
std::vector<uint64_t> seeds();

// "seed 3 (rerun just this input with TT_SEEDS=3)".
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

}  // namespace testing_util

#endif  // TESTS_TESTING_TESTING_H_
