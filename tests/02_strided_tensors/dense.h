// The plain-loop oracle of chapters 2 and 3: a dense row-major array of doubles and the ops of
// chapter 2 written the most obvious way (enumerate every index, compute every offset from
// scratch). It shares no code with any chapter, so a bug in the student's code or in the
// solution cannot hide in it.
//
//   dense::Dense x{{2, 3}, {1, 2, 3, 4, 5, 6}};
//   dense::zip(x, dense::Dense{{3}, {10, 20, 30}}, std::plus<>())   // broadcasts: (2, 3)
//   dense::reduce(x, {1}, /*keepdim=*/false, dense::Reduce::kSum)   // (2,): {6, 15}
//   dense::matmul(x, dense::permute(x, {1, 0}))                      // (2, 2)
//
// TODO(tinyref): where tinyref::Tensor is available, these can be cross-checked against it.
#ifndef TESTS_02_STRIDED_TENSORS_DENSE_H_
#define TESTS_02_STRIDED_TENSORS_DENSE_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace dense {

using Shape = std::vector<int64_t>;

struct Dense {
  Shape shape;
  std::vector<double> values;  // row-major

  double at(const Shape& index) const;
};

std::string shape_str(const Shape& shape);
int64_t count(const Shape& shape);
// Calls visit(index) for every index of `shape` in row-major order (once for a scalar).
void for_each_index(const Shape& shape, const std::function<void(const Shape&)>& visit);
// The row-major position of `index` in `shape`.
int64_t flat(const Shape& shape, const Shape& index);

Dense map(const Dense& x, const std::function<double(double)>& f);
// numpy broadcasting; throws std::invalid_argument when the shapes do not broadcast.
Shape broadcast(const Shape& a, const Shape& b);
Dense zip(const Dense& a, const Dense& b, const std::function<double(double, double)>& f);
Dense permute(const Dense& x, const std::vector<int>& order);
Dense expand_to(const Dense& x, const Shape& shape);  // broadcast x to shape
Dense reshape(const Dense& x, const Shape& shape);

enum class Reduce { kSum, kMax };
Dense reduce(const Dense& x, const std::vector<int>& axes, bool keepdim, Reduce op);
// Sums x over the axes where it was broadcast up from `shape` (the gradient rule of chapter 3).
Dense sum_to(const Dense& x, const Shape& shape);
Dense matmul(const Dense& a, const Dense& b);

// Uniform values in [lo, hi).
Dense random(std::mt19937_64& rng, const Shape& shape, double lo = -1, double hi = 1);

}  // namespace dense

#endif  // TESTS_02_STRIDED_TENSORS_DENSE_H_
