// HugePageAllocator: an allocator for the engine's large arrays (the entry
// records, the temporaries of a compaction) that asks the kernel for
// transparent huge pages.
//
// Where THP is "madvise" (Debian's default), malloc's memory gets 4 KiB
// pages unless the process set glibc.malloc.hugetlb=1 when it started. The
// caserepo tools do (tools/huge_pages.h); a process that embeds the library
// usually does not, and then every 4 KiB of a fresh array is a page fault:
// on this project's VM such a process loaded a 1M-entry snapshot at
// 0.79-0.84M entries/s, and at 1.34-1.39M/s with this (bench/notes.md,
// stop 29). An array of 2 MiB or more is mapped here
// on its own, aligned to 2 MiB, with MADV_HUGEPAGE; a smaller one comes
// from std::allocator as usual.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace caserepo::util {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

// Under AddressSanitizer every array comes from the allocator it checks.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kMapLargeArrays = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kMapLargeArrays = false;
#else
inline constexpr bool kMapLargeArrays = true;
#endif
#else
inline constexpr bool kMapLargeArrays = true;
#endif

// Whether an array of `bytes` is mapped on huge pages (else: operator new).
constexpr bool maps_huge(std::size_t bytes) noexcept { return kMapLargeArrays && bytes >= kHugePage; }

// REQUIRES: maps_huge(bytes). Never returns nullptr (throws bad_alloc).
inline void* map_huge(std::size_t bytes) {
  const std::size_t size = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  // Map one huge page more and trim it off, so that the array starts on a
  // 2 MiB boundary (the kernel backs only aligned 2 MiB ranges with one).
  void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePage - 1) & ~std::uintptr_t{kHugePage - 1};
  if (aligned > start) ::munmap(raw, aligned - start);
  if (const std::uintptr_t tail = start + size + kHugePage - (aligned + size); tail > 0) {
    ::munmap(reinterpret_cast<void*>(aligned + size), tail);
  }
  (void)::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);  // advice: 4 KiB pages if refused
  return reinterpret_cast<void*>(aligned);
}

inline void unmap_huge(void* p, std::size_t bytes) noexcept {
  ::munmap(p, (bytes + kHugePage - 1) & ~(kHugePage - 1));
}

template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    if (!maps_huge(n * sizeof(T))) return std::allocator<T>{}.allocate(n);
    return static_cast<T*>(map_huge(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (!maps_huge(n * sizeof(T))) {
      std::allocator<T>{}.deallocate(p, n);
    } else {
      unmap_huge(p, n * sizeof(T));
    }
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

// A vector whose storage, once 2 MiB or more, is on huge pages.
template <class T>
using LargeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace caserepo::util
