// Tasks 4-8: the reduction ladder, *sum = x[0] + ... + x[n-1], against tinyref (float64).
//
// The inputs are nonzero integers in [-8, 8]: every partial sum of up to 2^21 of them is an
// integer below 2^24, exact in float32, so every order of addition (and the GPU's atomics pick
// a different order on every run) gives exactly the right sum. The check is equality: a missed
// element, an element added twice or a block that forgot to add its share is off by at least 1.
// *sum starts as NaN, so a launcher that does not zero it first returns NaN.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ch07/reduction.h"
#include "gtest/gtest.h"
#include "tests/07_cuda_by_hand/device.h"
#include "tests/07_cuda_by_hand/launch_cases.h"
#include "tests/07_cuda_by_hand/oracle.h"
#include "tests/testing/testing.h"

namespace {

using ch07::Launch;
using launch_cases::Case;
using launch_cases::describe;

// For each block size: one element, a block minus one, plus one, and two blocks and a tail;
// then one random size up to 3000 with a random block size. Block sizes come from `blocks`
// (rungs 4 and 5 need multiples of 32). The emulator runs a few hundred thousand CUDA threads a
// second (fewer under the sanitizers, where a warp shuffle costs most): these keep a test in
// seconds.
std::vector<Case> cases(std::mt19937_64& rng, const std::vector<int>& blocks, bool capped_grid) {
  std::vector<Case> out;
  const auto launch = [&](int block) { return Launch{block, capped_grid ? oracle::between(rng, 0, 5) : 0}; };
  for (int block : blocks) {
    for (int n : {1, block - 1, block + 1, 2 * block + 3}) {
      if (n >= 1) out.push_back({n, launch(block)});
    }
  }
  const int block = blocks[oracle::between(rng, 0, static_cast<int>(blocks.size()) - 1)];
  out.push_back({oracle::between(rng, 1, 3000), launch(block)});
  return out;
}

const std::vector<int> kAnyBlock = {1, 7, 32, 96, 100, 255, 1024};
const std::vector<int> kWarpBlocks = {32, 96, 160, 480, 1024};

void check_rung(const char* rung_name, ch07::SumLauncher rung, const std::vector<int>& blocks, bool capped_grid) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const Case& c : cases(rng, blocks, capped_grid)) {
      const std::vector<float> x = oracle::small_integers(rng, c.n, 8);
      device::Floats dx(x), sum(1, NAN);
      const std::string what = describe(rung_name, c);
      ASSERT_TRUE(device::run([&] { rung(c.n, dx.get(), sum.get(), c.launch); }, what));
      const double want = oracle::sum(x);
      const float got = sum.read()[0];
      ASSERT_EQ(got, want) << what << ": the sum of " << c.n
                           << " small integers is exact in float in any order of addition";
    }
  }
}

// n = 0 sums to 0 (and launches nothing: a grid of 0 blocks is a CUDA error); bad arguments throw.
void check_edges(const char* rung_name, ch07::SumLauncher rung, int bad_block) {
  device::Floats x(4, 1.0f), sum(1, NAN);
  ASSERT_TRUE(device::run([&] { rung(0, x.get(), sum.get(), {}); }, std::string(rung_name) + "(n 0)"));
  EXPECT_EQ(sum.read()[0], 0.0f) << rung_name << "(n 0): the empty sum is 0";
  EXPECT_THROW(rung(-1, x.get(), sum.get(), {}), std::invalid_argument) << rung_name << "(n -1)";
  EXPECT_THROW(rung(4, x.get(), sum.get(), {bad_block, 0}), std::invalid_argument)
      << rung_name << ": block " << bad_block;
}

using Task4SumAtomic = device::DeviceTest;
using Task5SumBlockAtomic = device::DeviceTest;
using Task6SumTree = device::DeviceTest;
using Task7SumWarp = device::DeviceTest;
using Task8SumCoarsened = device::DeviceTest;

TEST_F(Task4SumAtomic, ExactOnSmallIntegers) { check_rung("sum_atomic", ch07::sum_atomic, kAnyBlock, false); }
TEST_F(Task4SumAtomic, EmptyAndBadArguments) { check_edges("sum_atomic", ch07::sum_atomic, 0); }

TEST_F(Task5SumBlockAtomic, ExactOnSmallIntegers) {
  check_rung("sum_block_atomic", ch07::sum_block_atomic, kAnyBlock, false);
}
TEST_F(Task5SumBlockAtomic, EmptyAndBadArguments) { check_edges("sum_block_atomic", ch07::sum_block_atomic, 1025); }

TEST_F(Task6SumTree, ExactOnAnyBlockSize) { check_rung("sum_tree", ch07::sum_tree, kAnyBlock, false); }
TEST_F(Task6SumTree, EmptyAndBadArguments) { check_edges("sum_tree", ch07::sum_tree, 2048); }

TEST_F(Task7SumWarp, ExactOnMultiplesOf32) { check_rung("sum_warp", ch07::sum_warp, kWarpBlocks, false); }
TEST_F(Task7SumWarp, EmptyAndBadArguments) { check_edges("sum_warp", ch07::sum_warp, 100); }

TEST_F(Task8SumCoarsened, ExactWithSmallGrids) {
  check_rung("sum_coarsened", ch07::sum_coarsened, kWarpBlocks, true);
}
TEST_F(Task8SumCoarsened, EmptyAndBadArguments) { check_edges("sum_coarsened", ch07::sum_coarsened, 48); }

}  // namespace
