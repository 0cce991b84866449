// HugePageAllocator (src/util/huge_page_allocator.h): arrays of 2 MiB or
// more are mapped on their own, 2 MiB-aligned; smaller ones, and every
// array under AddressSanitizer, come from std::allocator. A vector keeps
// its contents across the boundary both ways.
#include "util/huge_page_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

namespace caserepo::util {
namespace {

TEST(HugePageAllocatorTest, LargeArraysAreAlignedAndKeepTheirContents) {
  LargeVector<std::uint64_t> v(1000);  // 8 KB: from std::allocator
  std::iota(v.begin(), v.end(), 0);
  v.resize(3'000'000);  // 24 MB: mapped
  if (kMapLargeArrays) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % kHugePage, 0u);
  }
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(v[i], i);
  for (std::size_t i = 1000; i < v.size(); ++i) ASSERT_EQ(v[i], 0u);
  std::iota(v.begin(), v.end(), 7);
  v.push_back(1);  // a reallocation from one mapping to a larger one
  for (std::size_t i = 0; i < 3'000'000; i += 4099) ASSERT_EQ(v[i], i + 7);
  v.resize(10);
  v.shrink_to_fit();  // back to std::allocator
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(v[i], i + 7);
}

TEST(HugePageAllocatorTest, OnlyArraysOfTwoMegabytesOrMoreAreMapped) {
  EXPECT_FALSE(maps_huge(kHugePage - 1));
  EXPECT_EQ(maps_huge(kHugePage), kMapLargeArrays);
  // An odd size: the mapping is rounded up and the whole array is usable.
  HugePageAllocator<char> a;
  const std::size_t n = kHugePage + 12345;
  char* p = a.allocate(n);
  p[0] = 'a';
  p[n - 1] = 'z';
  EXPECT_EQ(p[0] + p[n - 1], 'a' + 'z');
  a.deallocate(p, n);
}

}  // namespace
}  // namespace caserepo::util
