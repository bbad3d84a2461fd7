// What device code calls: the built-in variables, barriers, warp intrinsics (the lanes of a
// warp meet at each one, so a shuffle reads the values of that step), atomics, __ldg and the
// CUDA-only math functions. Each takes the caller's source line for its reports.
//
//   int i = blockIdx.x * blockDim.x + threadIdx.x;
//   float v = x[i];
//   for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);
//   if (threadIdx.x % 32 == 0) atomicAdd(&out[0], v);   // out: a ptr<float>
//   __syncthreads();
#ifndef TOOLS_CUDAEMU_DEVICE_H_
#define TOOLS_CUDAEMU_DEVICE_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

#include "tools/cudaemu/checked.h"
#include "tools/cudaemu/region.h"
#include "tools/cudaemu/types.h"

namespace cudaemu {

namespace detail {
extern thread_local ThreadInfo* tls_thread;  // the CUDA thread this OS thread runs now

enum class Barrier { kPlain, kCount, kAnd, kOr };
// __syncthreads and its counting forms: waits for the block; returns the block's count of
// non-zero predicates.
int barrier(Barrier kind, int predicate, const std::source_location& loc);

enum class WarpOp { kSync, kShfl, kShflUp, kShflDown, kShflXor, kBallot, kAny, kAll, kReduceAdd, kReduceMin, kReduceMax };
// A warp collective: the lanes named in mask meet; each gets what op computes from the
// values they brought (value: up to 8 bytes; arg: the source lane, delta or xor mask).
uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width, const std::source_location& loc);
unsigned active_mask();

// __trap() and a failed assert(): ends the launch with a report.
[[noreturn]] void device_fault(const char* kind, const char* what, const std::source_location& loc);

template <class T>
uint64_t to_bits(const T& v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "warp shuffles move values of up to 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  return bits;
}
template <class T>
T from_bits(uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
template <class T>
using plain_t = std::remove_cvref_t<decltype(value(std::declval<const T&>()))>;
}  // namespace detail

inline namespace cuda_api {

// ---------------------------------------------------------------- barriers and warps

inline void __syncthreads(std::source_location loc = std::source_location::current()) {
  detail::barrier(detail::Barrier::kPlain, 0, loc);
}
inline int __syncthreads_count(int predicate, std::source_location loc = std::source_location::current()) {
  return detail::barrier(detail::Barrier::kCount, predicate, loc);
}
inline int __syncthreads_and(int predicate, std::source_location loc = std::source_location::current()) {
  return detail::barrier(detail::Barrier::kAnd, predicate, loc);
}
inline int __syncthreads_or(int predicate, std::source_location loc = std::source_location::current()) {
  return detail::barrier(detail::Barrier::kOr, predicate, loc);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location loc = std::source_location::current()) {
  detail::warp_op(detail::WarpOp::kSync, mask, 0, 0, 32, loc);
}
inline unsigned __activemask() { return detail::active_mask(); }

#define CUDAEMU_SHUFFLE(name, op)                                                                 \
  template <class T>                                                                             \
  detail::plain_t<T> name(unsigned mask, const T& var, int arg, int width = 32,                  \
                          std::source_location loc = std::source_location::current()) {          \
    using V = detail::plain_t<T>;                                                                \
    return detail::from_bits<V>(detail::warp_op(op, mask, detail::to_bits<V>(value(var)), arg, width, loc)); \
  }
CUDAEMU_SHUFFLE(__shfl_sync, detail::WarpOp::kShfl)
CUDAEMU_SHUFFLE(__shfl_up_sync, detail::WarpOp::kShflUp)
CUDAEMU_SHUFFLE(__shfl_down_sync, detail::WarpOp::kShflDown)
CUDAEMU_SHUFFLE(__shfl_xor_sync, detail::WarpOp::kShflXor)
#undef CUDAEMU_SHUFFLE

inline unsigned __ballot_sync(unsigned mask, int predicate, std::source_location loc = std::source_location::current()) {
  return static_cast<unsigned>(detail::warp_op(detail::WarpOp::kBallot, mask, predicate != 0, 0, 32, loc));
}
inline int __any_sync(unsigned mask, int predicate, std::source_location loc = std::source_location::current()) {
  return static_cast<int>(detail::warp_op(detail::WarpOp::kAny, mask, predicate != 0, 0, 32, loc));
}
inline int __all_sync(unsigned mask, int predicate, std::source_location loc = std::source_location::current()) {
  return static_cast<int>(detail::warp_op(detail::WarpOp::kAll, mask, predicate != 0, 0, 32, loc));
}
#define CUDAEMU_REDUCE(name, op, T)                                                               \
  inline T name(unsigned mask, T v, std::source_location loc = std::source_location::current()) { \
    return static_cast<T>(detail::warp_op(op, mask, static_cast<uint64_t>(static_cast<int64_t>(v)), \
                                          std::is_signed_v<T>, 32, loc));                          \
  }
CUDAEMU_REDUCE(__reduce_add_sync, detail::WarpOp::kReduceAdd, unsigned)
CUDAEMU_REDUCE(__reduce_add_sync, detail::WarpOp::kReduceAdd, int)
CUDAEMU_REDUCE(__reduce_min_sync, detail::WarpOp::kReduceMin, unsigned)
CUDAEMU_REDUCE(__reduce_min_sync, detail::WarpOp::kReduceMin, int)
CUDAEMU_REDUCE(__reduce_max_sync, detail::WarpOp::kReduceMax, unsigned)
CUDAEMU_REDUCE(__reduce_max_sync, detail::WarpOp::kReduceMax, int)
#undef CUDAEMU_REDUCE

inline void __threadfence() {}        // the emulator orders nothing beyond barriers
inline void __threadfence_block() {}
inline void __threadfence_system() {}
[[noreturn]] inline void __trap(std::source_location loc = std::source_location::current()) {
  detail::device_fault("trap", "__trap() was called", loc);
}

// ---------------------------------------------------------------- atomics

}  // namespace cuda_api
namespace detail {
// Checks the access (bounds, alignment, initialised, the block-order gate for global memory),
// then applies f atomically; returns the old value.
template <class T, class F>
T atomic_update(const ptr<T>& p, const std::source_location& loc, F f) {
  static_assert(std::is_arithmetic_v<T>, "atomics work on int, unsigned, long long, float and double");
  check_access<T>(p.address(), p.region(), Access::kAtomic, loc);
  T* address = p.get();
  T old, desired;
  __atomic_load(address, &old, __ATOMIC_RELAXED);
  do {
    desired = f(old);
  } while (!__atomic_compare_exchange(address, &old, &desired, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
  return old;
}
template <class T, class... Allowed>
inline constexpr bool one_of = (std::is_same_v<T, Allowed> || ...);
}  // namespace detail
inline namespace cuda_api {

#define CUDAEMU_ATOMIC(name, allowed, expr)                                                       \
  template <class T>                                                                             \
    requires detail::one_of<T, CUDAEMU_UNPAREN allowed>                                          \
  T name(ptr<T> p, std::type_identity_t<T> v, std::source_location loc = std::source_location::current()) { \
    return detail::atomic_update(p, loc, [&](T old) -> T { return expr; });                     \
  }                                                                                              \
  template <class T>                                                                             \
    requires detail::one_of<T, CUDAEMU_UNPAREN allowed>                                          \
  T name(T* p, std::type_identity_t<T> v, std::source_location loc = std::source_location::current()) { \
    return name(ptr<T>(p), v, loc);                                                              \
  }
#define CUDAEMU_UNPAREN(...) __VA_ARGS__
#define CUDAEMU_INTS (int, unsigned, unsigned long long)
#define CUDAEMU_ALL_INTS (int, unsigned, long long, unsigned long long)
CUDAEMU_ATOMIC(atomicAdd, (int, unsigned, unsigned long long, float, double), static_cast<T>(old + v))
CUDAEMU_ATOMIC(atomicSub, (int, unsigned), static_cast<T>(old - v))
CUDAEMU_ATOMIC(atomicExch, (int, unsigned, unsigned long long, float), v)
CUDAEMU_ATOMIC(atomicMin, CUDAEMU_ALL_INTS, old < v ? old : v)
CUDAEMU_ATOMIC(atomicMax, CUDAEMU_ALL_INTS, old > v ? old : v)
CUDAEMU_ATOMIC(atomicAnd, CUDAEMU_INTS, old & v)
CUDAEMU_ATOMIC(atomicOr, CUDAEMU_INTS, old | v)
CUDAEMU_ATOMIC(atomicXor, CUDAEMU_INTS, old ^ v)
CUDAEMU_ATOMIC(atomicInc, (unsigned), old >= v ? 0u : old + 1)
CUDAEMU_ATOMIC(atomicDec, (unsigned), (old == 0 || old > v) ? v : old - 1)
#undef CUDAEMU_ATOMIC
#undef CUDAEMU_INTS
#undef CUDAEMU_ALL_INTS

template <class T>
  requires detail::one_of<T, int, unsigned, unsigned long long, unsigned short>
T atomicCAS(ptr<T> p, std::type_identity_t<T> compare, std::type_identity_t<T> v,
            std::source_location loc = std::source_location::current()) {
  return detail::atomic_update(p, loc, [&](T old) -> T { return old == compare ? v : old; });
}
template <class T>
  requires detail::one_of<T, int, unsigned, unsigned long long, unsigned short>
T atomicCAS(T* p, std::type_identity_t<T> compare, std::type_identity_t<T> v,
            std::source_location loc = std::source_location::current()) {
  return atomicCAS(ptr<T>(p), compare, v, loc);
}

// ---------------------------------------------------------------- loads through the read-only cache

template <class T>
std::remove_cv_t<T> __ldg(const ptr<T>& p, std::source_location loc = std::source_location::current()) {
  return p.deref(loc).load();
}
template <class T>
T __ldg(const T* p) {
  return *p;
}

// ---------------------------------------------------------------- math: CUDA's names for libm's

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __log10f(float x) { return std::log10(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline void __sincosf(float x, float* s, float* c) { ::sincosf(x, s, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }

inline int __float_as_int(float x) { return detail::from_bits<int>(detail::to_bits(x)); }
inline unsigned __float_as_uint(float x) { return detail::from_bits<unsigned>(detail::to_bits(x)); }
inline float __int_as_float(int x) { return detail::from_bits<float>(detail::to_bits(x)); }
inline float __uint_as_float(unsigned x) { return detail::from_bits<float>(detail::to_bits(x)); }
inline long long __double_as_longlong(double x) { return detail::from_bits<long long>(detail::to_bits(x)); }
inline double __longlong_as_double(long long x) { return detail::from_bits<double>(detail::to_bits(x)); }
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(std::floor(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(std::ceil(x)); }
inline unsigned __float2uint_rn(float x) { return static_cast<unsigned>(std::nearbyint(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned x) { return static_cast<float>(x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline int __mul24(int a, int b) { return a * b; }
inline unsigned __umul24(unsigned a, unsigned b) { return a * b; }
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<long long>(a) * b) >> 32); }
inline unsigned __umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32); }

// CUDA's min and max: overloads per type, not templates (so mixed int/unsigned work as there).
#define CUDAEMU_MINMAX(T)                                  \
  inline T min(T a, T b) { return a < b ? a : b; }         \
  inline T max(T a, T b) { return a > b ? a : b; }
CUDAEMU_MINMAX(int)
CUDAEMU_MINMAX(unsigned)
CUDAEMU_MINMAX(long long)
CUDAEMU_MINMAX(unsigned long long)
CUDAEMU_MINMAX(long)
CUDAEMU_MINMAX(unsigned long)
#undef CUDAEMU_MINMAX
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
inline unsigned min(int a, unsigned b) { return min(static_cast<unsigned>(a), b); }
inline unsigned min(unsigned a, int b) { return min(a, static_cast<unsigned>(b)); }
inline unsigned max(int a, unsigned b) { return max(static_cast<unsigned>(a), b); }
inline unsigned max(unsigned a, int b) { return max(a, static_cast<unsigned>(b)); }

long long clock64();  // nanoseconds of the host's steady clock
inline void __nanosleep(unsigned) {}

}  // namespace cuda_api

// Not CUDA's: a number that no other run of a block in this process shares. State that device
// code keeps across calls in thread_local storage (an emulated instruction's queue, indexed by
// threadIdx) tells by it a block of its own from an earlier one, which may have faulted with
// work left queued.
uint64_t block_serial();

}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_DEVICE_H_
