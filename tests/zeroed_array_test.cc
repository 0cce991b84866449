// ZeroedArray (src/util/zeroed_array.h): every element reads as zero bytes
// from the start, small (std::allocator, cleared) or large (a fresh
// mapping, never written), stays writable, and hands its storage over on
// a move.
#include "util/zeroed_array.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace caserepo::util {
namespace {

TEST(ZeroedArrayTest, StartsAsZeroesSmallOrLarge) {
  for (const std::size_t n : {std::size_t{1}, std::size_t{1000}, 3 * kHugePage / sizeof(std::uint64_t) + 7}) {
    ZeroedArray<std::uint64_t> a(n);
    ASSERT_EQ(a.size(), n);
    EXPECT_EQ(maps_huge(n * sizeof(std::uint64_t)), kMapLargeArrays && n * sizeof(std::uint64_t) >= kHugePage);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(a[i], 0u) << n << " " << i;
    for (std::size_t i = 0; i < n; i += 511) a[i] = i + 1;
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(a[i], i % 511 == 0 ? i + 1 : 0u) << n << " " << i;
  }
}

TEST(ZeroedArrayTest, MovesHandOverTheStorage) {
  ZeroedArray<std::uint32_t> a(kHugePage);  // 8 MiB: mapped
  a[5] = 9;
  ZeroedArray<std::uint32_t> b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  ASSERT_EQ(b.size(), kHugePage);
  EXPECT_EQ(b[5], 9u);
  ZeroedArray<std::uint32_t> c(10);
  c = std::move(b);
  EXPECT_EQ(c.size(), kHugePage);
  EXPECT_EQ(c[5], 9u);
  c = ZeroedArray<std::uint32_t>();
  EXPECT_TRUE(c.empty());
}

}  // namespace
}  // namespace caserepo::util
