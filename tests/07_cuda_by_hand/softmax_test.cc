// Tasks 9-11: the softmax ladder against tinyref (float64), on rows shorter than a warp,
// exactly a warp, longer than a warp and than a block, single rows and columns, rows whose
// values are large enough that exp overflows (or underflows to 0) without the max shift, and a
// row holding a NaN (it comes out all NaN, the other rows untouched), and a row of ties.
//
// Each output must be within bounds::softmax_rtol of tinyref's (relative): a missing max shift,
// a lost rescale, a lane left out of a shuffle is off by far more.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ch07/softmax.h"
#include "gtest/gtest.h"
#include "tests/07_cuda_by_hand/bounds.h"
#include "tests/07_cuda_by_hand/device.h"
#include "tests/07_cuda_by_hand/oracle.h"
#include "tests/testing/testing.h"

namespace {

using ch07::Launch;

struct Case {
  int rows, cols;
  float offset;  // added to every value: +-300 makes exp overflow or underflow without the shift
  Launch launch;
};

std::string describe(const char* rung, const Case& c) {
  return std::string(rung) + "(rows " + std::to_string(c.rows) + ", cols " + std::to_string(c.cols) +
         ", values in [" + std::to_string(c.offset - 10) + ", " + std::to_string(c.offset + 10) + "), block " +
         std::to_string(c.launch.block) + ")";
}

std::vector<Case> cases(std::mt19937_64& rng, const std::vector<int>& blocks) {
  std::vector<Case> out;
  const int shapes[][2] = {{1, 1}, {1, 33}, {3, 1}, {5, 31}, {7, 32}, {33, 33}, {9, 100}, {40, 7}, {4, 1500}};
  for (const auto& shape : shapes) {
    const int block = blocks[oracle::between(rng, 0, static_cast<int>(blocks.size()) - 1)];
    out.push_back({shape[0], shape[1], 0.0f, {block, 0}});
  }
  for (float offset : {300.0f, -300.0f}) out.push_back({6, oracle::between(rng, 20, 200), offset, {blocks[0], 0}});
  out.push_back({oracle::between(rng, 1, 70), oracle::between(rng, 1, 400), 0.0f, {blocks.back(), 0}});
  return out;
}

std::vector<double> softmax_bound(const Case& c, const std::vector<float>& in, const std::vector<double>& want) {
  std::vector<double> bound(want.size());
  for (int r = 0; r < c.rows; ++r) {
    const auto row = in.begin() + static_cast<int64_t>(r) * c.cols;
    const auto [lo, hi] = std::minmax_element(row, row + c.cols);
    const double range = double{*hi} - *lo;  // R: the largest |x - m| of the row
    const double rtol = bounds::softmax_rtol(c.cols, range);
    for (int j = 0; j < c.cols; ++j) {
      const size_t i = static_cast<size_t>(r) * c.cols + j;
      bound[i] = rtol * std::fabs(want[i]) + bounds::kSoftmaxAtol;
    }
  }
  return bound;
}

void check_rung(const char* rung_name, ch07::SoftmaxLauncher rung, const std::vector<int>& blocks) {
  for (uint64_t seed : testing_util::seeds()) {
    SCOPED_TRACE(testing_util::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (const Case& c : cases(rng, blocks)) {
      const std::vector<float> in = oracle::uniform(rng, int64_t{c.rows} * c.cols, c.offset - 10, c.offset + 10);
      device::Floats din(in), dout(in.size(), NAN);  // an output nobody writes stays NaN
      const std::string what = describe(rung_name, c);
      ASSERT_TRUE(device::run([&] { rung(c.rows, c.cols, din.get(), dout.get(), c.launch); }, what));
      const std::vector<double> want = oracle::softmax(c.rows, c.cols, in);
      ASSERT_TRUE(oracle::within(want, dout.read(), softmax_bound(c, in, want), what));
    }
  }
}

// Three rows of 45: row 0 random; a NaN in row 1 makes row 1 all NaN and no other; row 2 holds
// one value 45 times (every column ties for the maximum): each output is 1/45.
void check_special_rows(const char* rung_name, ch07::SoftmaxLauncher rung, Launch launch) {
  std::mt19937_64 rng(7);
  const Case c{3, 45, 0.0f, launch};
  std::vector<float> in = oracle::uniform(rng, 3 * 45, -10, 10);
  std::fill(in.begin() + 90, in.end(), 3.5f);
  std::vector<double> want = oracle::softmax(3, 45, in);
  std::fill(want.begin() + 45, want.begin() + 90, NAN);
  in[45 + 17] = NAN;
  device::Floats din(in), dout(in.size(), 0.0f);
  const std::string what = std::string(rung_name) + ": 3 rows of 45, a NaN in row 1, row 2 all 3.5";
  ASSERT_TRUE(device::run([&] { rung(3, 45, din.get(), dout.get(), launch); }, what));
  EXPECT_TRUE(oracle::within(want, dout.read(), softmax_bound(c, in, want), what));
}

// Empty matrices launch nothing; bad arguments throw.
void check_edges(const char* rung_name, ch07::SoftmaxLauncher rung, int bad_block) {
  device::Floats in(4, 1.0f), out(4, 5.0f);
  ASSERT_TRUE(device::run([&] { rung(0, 4, in.get(), out.get(), {}); }, std::string(rung_name) + "(rows 0)"));
  ASSERT_TRUE(device::run([&] { rung(4, 0, in.get(), out.get(), {}); }, std::string(rung_name) + "(cols 0)"));
  EXPECT_EQ(out.read(), std::vector<float>(4, 5.0f)) << rung_name << " of an empty matrix must write nothing";
  EXPECT_THROW(rung(-1, 4, in.get(), out.get(), {}), std::invalid_argument) << rung_name << "(rows -1)";
  EXPECT_THROW(rung(1, -4, in.get(), out.get(), {}), std::invalid_argument) << rung_name << "(cols -4)";
  EXPECT_THROW(rung(1, 4, in.get(), out.get(), {bad_block, 0}), std::invalid_argument)
      << rung_name << ": block " << bad_block;
}

const std::vector<int> kAnyBlock = {1, 7, 32, 96, 256};
const std::vector<int> kWarpBlocks = {32, 64, 96, 256};

using Task9SoftmaxThreadPerRow = device::DeviceTest;
using Task10SoftmaxWarpPerRow = device::DeviceTest;
using Task11SoftmaxOnline = device::DeviceTest;

TEST_F(Task9SoftmaxThreadPerRow, MatchesTinyref) {
  check_rung("softmax_thread_per_row", ch07::softmax_thread_per_row, kAnyBlock);
}
TEST_F(Task9SoftmaxThreadPerRow, NanRowAndTiedRow) {
  check_special_rows("softmax_thread_per_row", ch07::softmax_thread_per_row, {2, 0});
}
TEST_F(Task9SoftmaxThreadPerRow, EmptyAndBadArguments) {
  check_edges("softmax_thread_per_row", ch07::softmax_thread_per_row, 0);
}

TEST_F(Task10SoftmaxWarpPerRow, MatchesTinyref) {
  check_rung("softmax_warp_per_row", ch07::softmax_warp_per_row, kWarpBlocks);
}
TEST_F(Task10SoftmaxWarpPerRow, NanRowAndTiedRow) {
  check_special_rows("softmax_warp_per_row", ch07::softmax_warp_per_row, {64, 0});
}
TEST_F(Task10SoftmaxWarpPerRow, EmptyAndBadArguments) {
  check_edges("softmax_warp_per_row", ch07::softmax_warp_per_row, 48);
}

TEST_F(Task11SoftmaxOnline, MatchesTinyref) { check_rung("softmax_online", ch07::softmax_online, kWarpBlocks); }
TEST_F(Task11SoftmaxOnline, NanRowAndTiedRow) { check_special_rows("softmax_online", ch07::softmax_online, {64, 0}); }
TEST_F(Task11SoftmaxOnline, EmptyAndBadArguments) { check_edges("softmax_online", ch07::softmax_online, 100); }

}  // namespace
