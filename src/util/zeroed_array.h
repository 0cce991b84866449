// ZeroedArray: a fixed-size array that starts as all zero bytes without
// anyone writing them.
//
// A large one is a fresh mapping (util/huge_page_allocator.h): the kernel
// hands its pages out zeroed on first touch, so making one costs nothing
// up front and its pages are paid for by whatever writes them first. A
// hash table that grows a step at a time (engine/dictionary.h) fills its
// new table over many writes instead of one write clearing 200 MB (280 ms
// at 10M caseIds on this project's VM, bench/notes.md, stop 31).
//
// A small one, and every one under AddressSanitizer, comes from
// std::allocator and is cleared with memset.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "util/huge_page_allocator.h"

namespace caserepo::util {

template <class T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "starts as zero bytes: no constructors run");

 public:
  ZeroedArray() = default;
  explicit ZeroedArray(std::size_t n) : size_(n) {
    if (n == 0) return;
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    data_ = HugePageAllocator<T>{}.allocate(n);  // a mapping: zero pages, faulted in on first touch
    if (!maps_huge(n * sizeof(T))) std::memset(static_cast<void*>(data_), 0, n * sizeof(T));
  }
  ZeroedArray(ZeroedArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  ZeroedArray& operator=(ZeroedArray&& other) noexcept {
    ZeroedArray(std::move(other)).swap(*this);
    return *this;
  }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;
  ~ZeroedArray() {
    if (data_ != nullptr) HugePageAllocator<T>{}.deallocate(data_, size_);
  }
  void swap(ZeroedArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<const std::byte> bytes() const noexcept { return std::as_bytes(std::span<const T>(data_, size_)); }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace caserepo::util
