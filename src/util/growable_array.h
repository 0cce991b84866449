// GrowableArray: a vector of trivially copyable values that grows without
// copying them, for the store's per-entry arrays (the records, the touch
// columns).
//
// A std::vector that doubles copies its contents into a fresh array, and
// every page of that array is faulted in (zeroed by the kernel) while the
// write that appended holds the store's lock: at 8.4M entries the records
// alone are 600 MB, and on this project's VM that one write took 1.7 s
// (bench/notes.md, stop 31). Here an array of 2 MiB or more is a mapping
// of its own (util/huge_page_allocator.h) and grows with mremap(2): the
// kernel moves its page tables to a larger range (2 MiB at a time when
// both ends are aligned), nothing is copied, and the new room is faulted
// in a page at a time by the appends that use it.
//
// Smaller arrays, and every array under AddressSanitizer, are allocated
// with std::allocator and copied, as a vector would be.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "util/huge_page_allocator.h"

namespace caserepo::util {

template <class T>
class GrowableArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "moved by the kernel or memcpy: no constructors run");

 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  GrowableArray() = default;
  explicit GrowableArray(std::size_t n, const T& value = T{}) { resize(n, value); }
  GrowableArray(std::initializer_list<T> values) {
    reserve(values.size());
    for (const T& v : values) push_back(v);
  }
  GrowableArray(GrowableArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  GrowableArray& operator=(GrowableArray&& other) noexcept {
    GrowableArray(std::move(other)).swap(*this);
    return *this;
  }
  GrowableArray(const GrowableArray&) = delete;
  GrowableArray& operator=(const GrowableArray&) = delete;
  ~GrowableArray() { release(data_, capacity_); }

  void swap(GrowableArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

  std::size_t size() const noexcept { return size_; }
  // At least what was asked for: a mapping's whole last 2 MiB is usable.
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T& back() noexcept { return data_[size_ - 1]; }
  const T& back() const noexcept { return data_[size_ - 1]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

  void push_back(const T& value) {
    if (size_ == capacity_) {
      const T copy = value;  // `value` may live in the array: grow may move it
      reallocate(grown_capacity(size_ + 1));
      data_[size_++] = copy;
      return;
    }
    data_[size_++] = value;
  }
  void resize(std::size_t n, const T& value = T{}) {
    if (n > capacity_) {
      const T copy = value;
      reallocate(grown_capacity(n));
      std::fill(data_ + size_, data_ + n, copy);
    } else if (n > size_) {
      std::fill(data_ + size_, data_ + n, value);
    }
    size_ = n;
  }
  void reserve(std::size_t n) {
    if (n > capacity_) reallocate(n);
  }
  // Down to the size (rounded up to 2 MiB when mapped): the rest of the
  // pages go back to the system.
  void shrink_to_fit() {
    if (capacity_of(size_) < capacity_) reallocate(size_);
  }
  void clear() noexcept { size_ = 0; }

 private:
  static constexpr std::size_t kMaxSize = SIZE_MAX / sizeof(T) / 2;

  // Elements that fit in the storage for n: a mapping is whole 2 MiB pages.
  static std::size_t capacity_of(std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (!maps_huge(bytes)) return n;
    return ((bytes + kHugePage - 1) & ~(kHugePage - 1)) / sizeof(T);
  }
  static std::size_t mapped_bytes(std::size_t capacity) noexcept {
    return (capacity * sizeof(T) + kHugePage - 1) & ~(kHugePage - 1);
  }
  std::size_t grown_capacity(std::size_t n) const {
    if (n > kMaxSize) throw std::bad_array_new_length();
    return std::max(n, std::min(kMaxSize, std::max<std::size_t>(2 * capacity_, 8)));
  }

  // A mapping on huge pages from 2 MiB, else std::allocator's.
  static T* allocate(std::size_t capacity) { return capacity == 0 ? nullptr : HugePageAllocator<T>{}.allocate(capacity); }
  static void release(T* p, std::size_t capacity) noexcept {
    if (p != nullptr) HugePageAllocator<T>{}.deallocate(p, capacity);
  }

  // To room for `wanted` (>= size_) elements. Strong guarantee: on
  // bad_alloc nothing changed.
  void reallocate(std::size_t wanted) {
    const std::size_t capacity = capacity_of(wanted);
    if (data_ != nullptr && maps_huge(capacity_ * sizeof(T)) && maps_huge(capacity * sizeof(T))) {
      data_ = remap(data_, mapped_bytes(capacity_), mapped_bytes(capacity));
      capacity_ = capacity;
      return;
    }
    T* fresh = allocate(capacity);
    if (size_ > 0) std::memcpy(fresh, data_, size_ * sizeof(T));
    release(data_, capacity_);
    data_ = fresh;
    capacity_ = capacity;
  }

  // A mapping from `from` bytes to `to` bytes (both multiples of 2 MiB),
  // its contents kept, its start still 2 MiB-aligned so that the kernel
  // can keep backing it with huge pages.
  static T* remap(T* p, std::size_t from, std::size_t to) {
    if (to == from) return p;
    // In place first: a shrink always is; a growth when the range after it is free.
    if (void* q = ::mremap(p, from, to, 0); q != MAP_FAILED) return static_cast<T*>(q);
    // Else to a fresh aligned range, reserved here and replaced by the move
    // (MREMAP_FIXED unmaps what is there first).
    void* target = map_huge(to);
    void* q = ::mremap(p, from, to, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    if (q == MAP_FAILED) {
      unmap_huge(target, to);
      throw std::bad_alloc();
    }
    (void)::madvise(q, to, MADV_HUGEPAGE);  // the moved range keeps it; the grown tail too
    return static_cast<T*>(q);
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace caserepo::util
