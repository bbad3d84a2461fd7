// Checked pointers and element proxies: what the rewriter (rewrite.h) puts in place of the
// pointers, __shared__ arrays and dereferences of device code, so that every load and store
// of an emulated kernel is checked (region.h) with its source line.
//
//   __global__ void scale(float* out, const float* in, int n)   // as written in the .cu
//   void scale(cudaemu::ptr<float> out, cudaemu::ptr<const float> in, int n)   // as compiled
//   out[i] = 2 * in[i];    // in[i] is a ref<const float>: its read is checked (bounds,
//                          // alignment, initialised); out[i] = ... a checked write
//   __shared__ float tile[32][33];   ->   cudaemu::shared_array<float[32][33]> tile{site};
//   tile[ty][tx] = v;      // both indices checked against 32 and 33, the write recorded for
//                          // the race and init checks of shared memory
//
// A proxy converts to its value implicitly, so ordinary arithmetic, comparisons and calls of
// functions taking values work unchanged. `&p[i]` is a ptr again (for atomicAdd). The source
// line comes from std::source_location, taken where the index is converted to an Index: the
// line of the subscript itself.
#ifndef TOOLS_CUDAEMU_CHECKED_H_
#define TOOLS_CUDAEMU_CHECKED_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>
#include <utility>

#include "tools/cudaemu/region.h"

namespace cudaemu {

template <class T> class ptr;
template <class T> class ref;

// A proxy for one element (ref, or a shared scalar's ref): value() reads it.
template <class T>
concept proxy = requires { typename std::remove_cvref_t<T>::cudaemu_proxy_of; };

namespace detail {
extern const Region kNullRegion;  // a null pointer's: every access through it faults
// Within a kernel: the allocation holding addr (a region of kind kUnknown where none does);
// outside: nullptr (unchecked).
const Region* region_of(uintptr_t addr, bool launch_argument);
[[noreturn]] void index_fault(int64_t index, size_t extent, const Region* region, const std::source_location& loc);
[[noreturn]] void invalid_use(const char* what, const std::source_location& loc);
}  // namespace detail

// An index with the source line where it was written.
struct Index {
  int64_t value;
  std::source_location loc;
  template <class I>
    requires(std::is_integral_v<I> || std::is_enum_v<I>)
  Index(I i, std::source_location l = std::source_location::current()) : value(static_cast<int64_t>(i)), loc(l) {}
  template <class I>
    requires std::is_integral_v<std::remove_cv_t<I>>
  Index(const ref<I>& r, std::source_location l = std::source_location::current());
};

// The x, y, z, w members of a proxy for a CUDA vector type (p[i].x): proxies of the components.
template <class T, int N = (requires { &T::w; }   ? 4
                            : requires { &T::z; } ? 3
                            : requires { &T::y; } ? 2
                            : requires { &T::x; } ? 1
                                                  : 0)>
struct components {
  components(uintptr_t, const Region*, const std::source_location&) {}
};
template <class T>
using component_t = std::conditional_t<std::is_const_v<T>, const decltype(std::remove_cv_t<T>::x),
                                       decltype(std::remove_cv_t<T>::x)>;
#define CUDAEMU_COMPONENT(c) c(a + offsetof(std::remove_cv_t<T>, c), r, l)
template <class T>
struct components<T, 1> {
  ref<component_t<T>> x;
  components(uintptr_t a, const Region* r, const std::source_location& l) : CUDAEMU_COMPONENT(x) {}
};
template <class T>
struct components<T, 2> {
  ref<component_t<T>> x, y;
  components(uintptr_t a, const Region* r, const std::source_location& l)
      : CUDAEMU_COMPONENT(x), CUDAEMU_COMPONENT(y) {}
};
template <class T>
struct components<T, 3> {
  ref<component_t<T>> x, y, z;
  components(uintptr_t a, const Region* r, const std::source_location& l)
      : CUDAEMU_COMPONENT(x), CUDAEMU_COMPONENT(y), CUDAEMU_COMPONENT(z) {}
};
template <class T>
struct components<T, 4> {
  ref<component_t<T>> x, y, z, w;
  components(uintptr_t a, const Region* r, const std::source_location& l)
      : CUDAEMU_COMPONENT(x), CUDAEMU_COMPONENT(y), CUDAEMU_COMPONENT(z), CUDAEMU_COMPONENT(w) {}
};
#undef CUDAEMU_COMPONENT

// One element of device memory: reading it (conversion to T) and writing it (assignment) are
// checked accesses.
template <class T>
class ref : public components<T> {
 public:
  using value_type = std::remove_cv_t<T>;
  using cudaemu_proxy_of = value_type;

  ref(uintptr_t addr, const Region* region, const std::source_location& loc)
      : components<T>(addr, region, loc), addr_(addr), region_(region), loc_(loc) {}
  ref(const ref&) = default;

  value_type load() const {
    check_access<value_type>(addr_, region_, Access::kRead, loc_);
    value_type v;
    std::memcpy(&v, reinterpret_cast<const void*>(addr_), sizeof v);
    return v;
  }
  operator value_type() const { return load(); }

  const ref& operator=(const value_type& v) const
    requires(!std::is_const_v<T>)
  {
    check_access<value_type>(addr_, region_, Access::kWrite, loc_);
    std::memcpy(reinterpret_cast<void*>(addr_), &v, sizeof v);
    return *this;
  }
  const ref& operator=(const ref& other) const
    requires(!std::is_const_v<T>)
  {
    return *this = other.load();
  }

  ptr<T> operator&() const { return ptr<T>::at(addr_, region_); }

#define CUDAEMU_COMPOUND(op)                                    \
  template <class V>                                            \
  const ref& operator op##=(const V& v) const                   \
    requires(!std::is_const_v<T>)                               \
  {                                                             \
    value_type x = load();                                      \
    x op## = v;                                                 \
    return *this = x;                                           \
  }
  CUDAEMU_COMPOUND(+)
  CUDAEMU_COMPOUND(-)
  CUDAEMU_COMPOUND(*)
  CUDAEMU_COMPOUND(/)
  CUDAEMU_COMPOUND(%)
  CUDAEMU_COMPOUND(&)
  CUDAEMU_COMPOUND(|)
  CUDAEMU_COMPOUND(^)
  CUDAEMU_COMPOUND(<<)
  CUDAEMU_COMPOUND(>>)
#undef CUDAEMU_COMPOUND
  const ref& operator++() const { return *this += 1; }
  const ref& operator--() const { return *this -= 1; }
  value_type operator++(int) const {
    value_type old = load();
    *this = static_cast<value_type>(old + 1);
    return old;
  }
  value_type operator--(int) const {
    value_type old = load();
    *this = static_cast<value_type>(old - 1);
    return old;
  }

 private:
  uintptr_t addr_;
  const Region* region_;
  std::source_location loc_;
};

// A row of a multi-dimensional shared array (tile[ty] of float tile[32][33]): indexing it is
// checked against the row's extent, and it decays to a pointer like an array does.
template <class U, size_t N>
class ref<U[N]> {
 public:
  ref(uintptr_t addr, const Region* region, const std::source_location&) : addr_(addr), region_(region) {}
  ref<U> operator[](Index i) const {
    if (i.value < 0 || static_cast<uint64_t>(i.value) >= N) detail::index_fault(i.value, N, region_, i.loc);
    return ref<U>(addr_ + static_cast<uintptr_t>(i.value) * sizeof(U), region_, i.loc);
  }
  template <class V>
    requires std::is_convertible_v<U*, V*>
  operator ptr<V>() const {
    return ptr<V>::at(addr_, region_);
  }
  ptr<U> operator+(Index i) const { return ptr<U>::at(addr_, region_) + i; }

 private:
  uintptr_t addr_;
  const Region* region_;
};

// A device pointer with the region it points into. Arithmetic is free; each access is checked.
template <class T>
class ptr {
 public:
  using element_type = T;

  ptr() = default;
  ptr(std::nullptr_t) {}
  // Inside a kernel a raw pointer is looked up among the allocations (a pointer to a local
  // array, or to host memory, stays unchecked); outside a kernel nothing is checked.
  ptr(T* raw) : addr_(reinterpret_cast<uintptr_t>(raw)), region_(detail::region_of(addr_, false)) {}
  template <class U>
    requires(std::is_convertible_v<U*, T*> && !std::is_same_v<U, T>)
  ptr(const ptr<U>& other) : addr_(other.address()), region_(other.region()) {}

  static ptr at(uintptr_t addr, const Region* region) {
    ptr p;
    p.addr_ = addr;
    p.region_ = region;
    return p;
  }
  // A kernel argument: a pointer that is not device memory (null, host, freed) faults on use.
  static ptr launch_argument(T* raw) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(raw);
    return at(a, detail::region_of(a, true));
  }

  uintptr_t address() const { return addr_; }
  const Region* region() const { return region_; }
  T* get() const { return reinterpret_cast<T*>(addr_); }

  ref<T> operator[](Index i) const
    requires(!std::is_void_v<T>)
  {
    return ref<T>(addr_ + static_cast<uintptr_t>(i.value) * sizeof(T), region_, i.loc);
  }
  ref<T> operator*() const
    requires(!std::is_void_v<T>)
  {
    return ref<T>(addr_, region_, std::source_location());
  }
  ref<T> deref(const std::source_location& loc) const
    requires(!std::is_void_v<T>)
  {
    return ref<T>(addr_, region_, loc);
  }
  // p->field: the whole object is checked as read, then the field is accessed unchecked.
  T* operator->() const {
    check_access<std::remove_cv_t<T>>(addr_, region_, Access::kRead, std::source_location());
    return get();
  }

  ptr operator+(Index i) const { return at(addr_ + static_cast<uintptr_t>(i.value) * sizeof(T), region_); }
  ptr operator-(Index i) const { return at(addr_ - static_cast<uintptr_t>(i.value) * sizeof(T), region_); }
  friend ptr operator+(Index i, const ptr& p) { return p + i; }
  ptrdiff_t operator-(const ptr& o) const { return (static_cast<ptrdiff_t>(addr_ - o.addr_)) / static_cast<ptrdiff_t>(sizeof(T)); }
  ptr& operator+=(Index i) { return *this = *this + i; }
  ptr& operator-=(Index i) { return *this = *this - i; }
  ptr& operator++() { return *this += 1; }
  ptr& operator--() { return *this -= 1; }
  ptr operator++(int) {
    ptr old = *this;
    *this += 1;
    return old;
  }
  ptr operator--(int) {
    ptr old = *this;
    *this -= 1;
    return old;
  }

  explicit operator bool() const { return addr_ != 0; }
  bool operator!() const { return addr_ == 0; }
  template <class U>
  bool operator==(const ptr<U>& o) const { return addr_ == o.address(); }
  template <class U>
  auto operator<=>(const ptr<U>& o) const { return addr_ <=> o.address(); }
  bool operator==(std::nullptr_t) const { return addr_ == 0; }

 private:
  uintptr_t addr_ = 0;
  const Region* region_ = &detail::kNullRegion;
};

template <class I>
  requires std::is_integral_v<std::remove_cv_t<I>>
Index::Index(const ref<I>& r, std::source_location l) : value(static_cast<int64_t>(r.load())), loc(l) {}

// Where a __shared__ declaration is: one static Site per declaration (and per template
// instantiation), its address the key of the block's storage.
struct Site {
  const char* name;
  int line;
};
namespace detail {
const Region* shared_region(const Site& site, size_t bytes, size_t align, const std::source_location& loc);
const Region* dynamic_shared_region();
// The region (the dynamic part or a __shared__ array) holding byte `offset` of the block's shared
// memory; faults where none does.
const Region* shared_region_at(uint32_t offset, const std::source_location& loc);
}  // namespace detail

template <class A>
class shared_array;
// __shared__ U name[N] (U itself may be an array: float tile[32][33]).
template <class U, size_t N>
class shared_array<U[N]> {
 public:
  explicit shared_array(const Site& site, size_t align = alignof(U),
                        std::source_location loc = std::source_location::current())
      : region_(detail::shared_region(site, sizeof(U) * N, align < 16 ? 16 : align, loc)) {}
  ref<U> operator[](Index i) const {
    if (i.value < 0 || static_cast<uint64_t>(i.value) >= N) detail::index_fault(i.value, N, region_, i.loc);
    return ref<U>(region_->base + static_cast<uintptr_t>(i.value) * sizeof(U), region_, i.loc);
  }
  template <class V>
    requires std::is_convertible_v<U*, V*>
  operator ptr<V>() const {
    return ptr<V>::at(region_->base, region_);
  }
  ptr<U> operator+(Index i) const { return ptr<U>::at(region_->base, region_) + i; }
  const Region* region() const { return region_; }
  uintptr_t address() const { return region_->base; }

 private:
  const Region* region_;
};

// __shared__ T name; every use is rewritten to name.at(), a proxy with the line of the use.
template <class T>
class shared_var {
 public:
  explicit shared_var(const Site& site, size_t align = alignof(T),
                      std::source_location loc = std::source_location::current())
      : region_(detail::shared_region(site, sizeof(T), align < 16 ? 16 : align, loc)) {}
  ref<T> at(std::source_location loc = std::source_location::current()) const { return ref<T>(region_->base, region_, loc); }

 private:
  const Region* region_;
};

// extern __shared__ T name[]: the launch's dynamic shared memory (its third <<< >>> argument).
template <class T>
class dynamic_shared : public ptr<T> {
 public:
  explicit dynamic_shared(const Site&)
      : ptr<T>(ptr<T>::at(detail::dynamic_shared_region()->base, detail::dynamic_shared_region())) {}
};

// Shared memory by address, as the hardware addresses it: a pointer's byte offset within the
// block's shared memory (on a GPU, its shared-window address: cvta.to.shared), and the checked
// pointer at an offset. For instructions whose operands are such addresses (a wgmma matrix
// descriptor, codegen/cuda_renderer.cc): their emulation reads and writes through the pointer,
// checked as any access (bounds of the array found there, races, uninitialised reads). Inside a
// kernel only.
//
//   uint32_t at = cudaemu::shared_offset(tile + 64, 16);   // faults unless a 16-byte-aligned
//                                                           // address in shared memory
//   cudaemu::ptr<const float> p = cudaemu::shared_pointer<const float>(at);   // tile + 64 again
//
// shared_offset faults where p points outside the block's shared memory or its offset is not a
// multiple of `align`; shared_pointer where no region holds the offset.
uint32_t shared_offset(const ptr<const void>& p, size_t align = 1,
                       std::source_location loc = std::source_location::current());
template <class T>
ptr<T> shared_pointer(uint32_t offset, std::source_location loc = std::source_location::current()) {
  const Region* r = detail::shared_region_at(offset, loc);
  return ptr<T>::at(r->base + (offset - r->shadow_offset), r);
}

// (U*)x, reinterpret_cast<U*>(x), static_cast<U*>(x): the same region, another element type.
template <class U, class X>
ptr<U> ptr_cast(const X& x) {
  if constexpr (requires { x.address(); x.region(); }) {
    return ptr<U>::at(x.address(), x.region());
  } else if constexpr (std::is_pointer_v<X>) {
    return ptr<U>(reinterpret_cast<U*>(const_cast<std::remove_cv_t<std::remove_pointer_t<X>>*>(x)));
  } else if constexpr (std::is_integral_v<X>) {
    return ptr<U>(reinterpret_cast<U*>(static_cast<uintptr_t>(x)));
  } else if constexpr (std::is_same_v<X, std::nullptr_t>) {
    return ptr<U>();
  } else {
    return ptr_cast<U>(static_cast<ptr<const void>>(x));  // a row of a shared array
  }
}

// *p with the line it is written on (the rewriter turns every unary * of device code into it).
template <class T>
ref<T> deref(const ptr<T>& p, std::source_location loc = std::source_location::current()) {
  return p.deref(loc);
}
template <class X>
decltype(auto) deref(X&& x, std::source_location = std::source_location::current()) {
  return *std::forward<X>(x);
}

// The value behind a proxy; anything else unchanged. The rewriter wraps the initialiser of
// every `auto` declaration of device code with it, so `auto v = p[i];` is a float, not a proxy.
template <class X>
decltype(auto) value(X&& x) {
  if constexpr (proxy<X>) {
    return x.load();
  } else if constexpr (std::is_lvalue_reference_v<X>) {
    return (x);
  } else {
    return std::remove_cvref_t<X>(std::move(x));
  }
}

}  // namespace cudaemu

#endif  // TOOLS_CUDAEMU_CHECKED_H_
