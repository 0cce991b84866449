// GrowableArray (src/util/growable_array.h): contents kept across every
// growth and shrink — within std::allocator's arrays, from one to a mapping,
// from mapping to mapping (mremap, in place or moved), and back — and a
// mapping stays 2 MiB-aligned.
#include "util/growable_array.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

#include <sys/mman.h>

namespace caserepo::util {
namespace {

bool aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % kHugePage == 0; }

TEST(GrowableArrayTest, AppendsKeepEveryValueAcrossGrowths) {
  GrowableArray<std::uint64_t> a;
  EXPECT_TRUE(a.empty());
  const std::uint64_t n = 3 * kHugePage / sizeof(std::uint64_t) + 5;  // past three mappings' worth
  for (std::uint64_t i = 0; i < n; ++i) {
    a.push_back(i * 3);
    ASSERT_GE(a.capacity(), a.size());
    if (kMapLargeArrays && maps_huge(a.capacity() * sizeof(std::uint64_t))) {
      ASSERT_TRUE(aligned(a.data())) << i;
    }
  }
  ASSERT_EQ(a.size(), n);
  for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(a[i], i * 3) << i;
  EXPECT_EQ(a.back(), (n - 1) * 3);
}

TEST(GrowableArrayTest, AMappingGrowsWhereItCannotExtendInPlace) {
  GrowableArray<std::uint32_t> a(kHugePage / sizeof(std::uint32_t), 7);  // one mapping
  std::iota(a.begin(), a.end(), 0u);
  const std::size_t n = a.size();
  const std::uint32_t* before = a.data();
  // A page of our own right after the array, so that mremap cannot extend it in place.
  void* next = nullptr;
  if (kMapLargeArrays) {
    next = ::mmap(a.data() + n, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    ASSERT_NE(next, MAP_FAILED);
    static_cast<char*>(next)[0] = 'x';
  }
  a.resize(8 * n, 5);  // 16 MiB
  if (kMapLargeArrays) {
    EXPECT_NE(a.data(), before);  // moved
    EXPECT_TRUE(aligned(a.data()));
    EXPECT_EQ(static_cast<char*>(next)[0], 'x');  // the neighbour untouched
    ::munmap(next, 4096);
  }
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(a[i], i) << i;
  for (std::size_t i = n; i < 8 * n; ++i) ASSERT_EQ(a[i], 5u) << i;
}

TEST(GrowableArrayTest, ShrinkingKeepsTheValuesAndGivesRoomBack) {
  GrowableArray<std::int64_t> a;
  a.resize(1'000'000, -1);  // 8 MB: mapped
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::int64_t>(i) - 500;
  a.resize(300'000);
  a.shrink_to_fit();  // a smaller mapping
  EXPECT_LT(a.capacity(), 1'000'000u);
  EXPECT_GE(a.capacity(), 300'000u);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], static_cast<std::int64_t>(i) - 500) << i;
  a.resize(10);
  a.shrink_to_fit();  // back to std::allocator
  EXPECT_EQ(a.capacity(), 10u);
  for (std::size_t i = 0; i < 10; ++i) ASSERT_EQ(a[i], static_cast<std::int64_t>(i) - 500);
  a.resize(20, 4);  // grows again, filling only the new room
  EXPECT_EQ(a[9], 9 - 500);
  EXPECT_EQ(a[10], 4);
  EXPECT_EQ(a[19], 4);
}

TEST(GrowableArrayTest, AppendingAnElementOfItselfWhileGrowing) {
  GrowableArray<std::uint64_t> a{1, 2, 3};
  while (a.size() < a.capacity()) a.push_back(a.size() + 1);
  a.push_back(a[0]);  // the reference is into the storage that grows
  EXPECT_EQ(a.back(), 1u);
  a.resize(kHugePage);  // mapped from here on
  a.resize(a.capacity());
  a.push_back(a[1]);
  EXPECT_EQ(a.back(), 2u);
}

TEST(GrowableArrayTest, MovesAndSwapsHandOverTheStorage) {
  GrowableArray<std::uint32_t> a{4, 5, 6};
  GrowableArray<std::uint32_t> b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(a.capacity(), 0u);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2], 6u);
  GrowableArray<std::uint32_t> c(kHugePage, 1);
  c = std::move(b);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], 4u);
  c.swap(a);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(a.size(), 3u);
  a.clear();
  EXPECT_TRUE(a.empty());
}

}  // namespace
}  // namespace caserepo::util
