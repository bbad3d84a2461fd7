// The eager ops: elementwise (with broadcasting), reductions over any set of axes, matmul.
// Every op reads its inputs through their views, whatever the strides, and returns a fresh
// contiguous tensor.
//
//   using ch02::FloatTensor;
//   FloatTensor x = FloatTensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
//   FloatTensor b = FloatTensor::from_vector({3}, {10, 20, 30});
//   add(x, b).to_vector()                 // {11, 22, 33, 14, 25, 36}: b broadcasts over rows
//   (x * 2.0f).to_vector()                // {2, 4, 6, 8, 10, 12}
//   add(x.transpose(0, 1), x.transpose(0, 1))   // works on any strides: shape (3, 2)
//   sum(x, {1}).to_vector()               // {6, 15}, shape (2)
//   sum(x, {1}, /*keepdim=*/true).shape() // (2, 1): ready to broadcast against x again
//   sum(x).item()                         // 21: every axis
//   max(x, {0}).to_vector()               // {4, 5, 6}
//   matmul(x, x.transpose(0, 1))          // (2, 3) @ (3, 2) -> (2, 2): {14, 32, 32, 77}
//
// Bad input (shapes that do not broadcast, an axis out of range, matmul of (2, 3) @ (2, 3))
// throws std::invalid_argument with the op's name and the shapes.
#ifndef CH02_OPS_H_
#define CH02_OPS_H_

#include <type_traits>
#include <vector>

#include "ch02/tensor.h"

namespace ch02 {

// ch02.5: elementwise, one output element per input element.
template <typename T> Tensor<T> neg(const Tensor<T>& x);
template <typename T> Tensor<T> exp(const Tensor<T>& x);
template <typename T> Tensor<T> log(const Tensor<T>& x);
template <typename T> Tensor<T> sqrt(const Tensor<T>& x);
template <typename T> Tensor<T> relu(const Tensor<T>& x);

// ch02.5: binary, with broadcasting: the output has broadcast_shapes(a.shape(), b.shape()).
template <typename T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <typename T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
// 1 where a > b, else 0 (in T: chapter 3 multiplies gradients by it).
template <typename T> Tensor<T> greater(const Tensor<T>& a, const Tensor<T>& b);

// ch02.6: reductions over `axes` (each in [-ndim, ndim), no repeats). The reduced axes are
// dropped from the shape, or kept with size 1 when keepdim. An empty `axes` reduces nothing
// (the result equals x); the overloads without axes reduce every axis to a scalar.
template <typename T> Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> sum(const Tensor<T>& x);
template <typename T> Tensor<T> max(const Tensor<T>& x);

// ch02.7: (M, K) @ (K, N) -> (M, N) with three loops; the reference for ch02.8.
template <typename T> Tensor<T> matmul_naive(const Tensor<T>& a, const Tensor<T>& b);
// ch02.8: the same product, cache-blocked and parallel with OpenMP.
template <typename T> Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b);

// Operators, so that formulas read as formulas. The scalar's type is not deduced
// (type_identity), so x * 2.0 works for a FloatTensor too.
template <typename T> Tensor<T> operator-(const Tensor<T>& x) { return neg(x); }
template <typename T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <typename T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <typename T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <typename T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <typename T> Tensor<T> operator+(const Tensor<T>& a, std::type_identity_t<T> s) { return add(a, Tensor<T>::scalar(s)); }
template <typename T> Tensor<T> operator-(const Tensor<T>& a, std::type_identity_t<T> s) { return sub(a, Tensor<T>::scalar(s)); }
template <typename T> Tensor<T> operator*(const Tensor<T>& a, std::type_identity_t<T> s) { return mul(a, Tensor<T>::scalar(s)); }
template <typename T> Tensor<T> operator/(const Tensor<T>& a, std::type_identity_t<T> s) { return div(a, Tensor<T>::scalar(s)); }
template <typename T> Tensor<T> operator*(std::type_identity_t<T> s, const Tensor<T>& a) { return mul(Tensor<T>::scalar(s), a); }

}  // namespace ch02

#endif  // CH02_OPS_H_
