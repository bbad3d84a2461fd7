#include "tests/07_cuda_by_hand/oracle.h"

#include <cmath>
#include <sstream>

#include "tinyref/tensor.h"

namespace oracle {

namespace {

constexpr const char* kDevice = "INTERP";

tinyref::Tensor as_tinyref(const std::vector<float>& values, const tinyref::Shape& shape) {
  return tinyref::Tensor::from_vector<double>(std::vector<double>(values.begin(), values.end()), shape, kDevice);
}

}  // namespace

std::vector<float> uniform(std::mt19937_64& rng, int64_t n, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> out(n);
  for (float& v : out) v = u(rng);
  return out;
}

std::vector<float> small_integers(std::mt19937_64& rng, int64_t n, int limit) {
  std::uniform_int_distribution<int> magnitude(1, limit), sign(0, 1);
  std::vector<float> out(n);
  for (float& v : out) v = static_cast<float>(sign(rng) ? magnitude(rng) : -magnitude(rng));
  return out;
}

int between(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

std::vector<double> saxpy(float alpha, const std::vector<float>& x, const std::vector<float>& y) {
  const int64_t n = static_cast<int64_t>(x.size());
  if (n == 0) return {};
  return (as_tinyref(x, {n}) * alpha + as_tinyref(y, {n})).to_vector<double>();
}

double sum(const std::vector<float>& x) {
  if (x.empty()) return 0.0;
  return as_tinyref(x, {static_cast<int64_t>(x.size())}).sum().item();
}

std::vector<double> softmax(int rows, int cols, const std::vector<float>& in) {
  if (rows == 0 || cols == 0) return {};
  return as_tinyref(in, {rows, cols}).softmax(-1).to_vector<double>();
}

std::vector<double> matmul(int M, int N, int K, const std::vector<float>& A, const std::vector<float>& B,
                           bool absolute) {
  if (M == 0 || N == 0) return {};
  if (K == 0) return std::vector<double>(static_cast<size_t>(M) * N, 0.0);
  tinyref::Tensor a = as_tinyref(A, {M, K}), b = as_tinyref(B, {K, N});
  if (absolute) a = a.abs(), b = b.abs();
  return a.matmul(b).to_vector<double>();
}

::testing::AssertionResult within(const std::vector<double>& want, const std::vector<float>& got,
                                  const std::vector<double>& bound, const std::string& what) {
  if (want.size() != got.size() || want.size() != bound.size()) {
    return ::testing::AssertionFailure() << what << ": expected " << want.size() << " values, got "
                                         << got.size();
  }
  size_t bad = 0, first = 0, worst_at = 0;
  double worst = 0;  // the largest |error| / bound
  for (size_t i = 0; i < want.size(); ++i) {
    const double err = std::fabs(want[i] - got[i]);
    const bool ok = std::isnan(want[i]) ? std::isnan(got[i]) : err <= bound[i];
    if (ok) continue;
    if (bad++ == 0) first = i;
    const double ratio = std::isnan(err) || bound[i] == 0 ? INFINITY : err / bound[i];
    if (ratio > worst || bad == 1) worst = ratio, worst_at = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  std::ostringstream msg;
  msg.precision(9);
  msg << what << ": " << bad << " of " << want.size() << " values wrong; first at index " << first
      << ": expected " << want[first] << ", got " << got[first] << " (allowed error " << bound[first]
      << "); worst at index " << worst_at << ": expected " << want[worst_at] << ", got " << got[worst_at];
  return ::testing::AssertionFailure() << msg.str();
}

}  // namespace oracle
