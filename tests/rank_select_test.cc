// rank and select against CRoaring's own, over bitmaps of every container
// kind (arrays, bitsets, runs, copy-on-write shares), at every block edge
// and at random points.
#include <gtest/gtest.h>

#include <random>

#include "engine/rank_select.h"

namespace caserepo::engine {
namespace {

Bitmap mixed_bitmap(std::mt19937_64& rng) {
  Bitmap b;
  for (std::uint32_t key = 0; key < 6; ++key) {
    const std::uint32_t base = key << 16;
    switch (rng() % 4) {
      case 0:  // an array
        for (int i = 1 + static_cast<int>(rng() % 2000); i > 0; --i) b.add(base + static_cast<std::uint32_t>(rng() % 65536));
        break;
      case 1:  // a bitset
        for (int i = 0; i < 20000; ++i) b.add(base + static_cast<std::uint32_t>(rng() % 65536));
        break;
      case 2: {  // runs
        for (std::uint32_t at = static_cast<std::uint32_t>(rng() % 100); at < 65536; at += 1000) {
          b.addRange(base + at, base + std::min<std::uint32_t>(at + 1 + static_cast<std::uint32_t>(rng() % 500), 65536));
        }
        break;
      }
      default:  // no block
        break;
    }
  }
  b.runOptimize();  // the run blocks become runs; bitsets of random members stay bitsets
  return b;
}

TEST(RankSelectTest, AgreeWithCRoaringOnEveryContainerKind) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 40; ++round) {
    Bitmap b = mixed_bitmap(rng);
    if (round % 4 == 0) {  // copy-on-write shares
      b.setCopyOnWrite(true);
      Bitmap copy = b;
      b = copy;
    }
    const std::uint64_t n = b.cardinality();
    for (int probe = 0; probe < 2000; ++probe) {
      const std::uint32_t x = probe < 14 ? (static_cast<std::uint32_t>(probe / 2) << 16) - (probe % 2)  // block edges
                                         : static_cast<std::uint32_t>(rng() % (7u << 16));
      ASSERT_EQ(rank(b, x), b.rank(x)) << "round " << round << ", x " << x;
      if (n == 0) continue;
      const std::uint64_t r = probe < 2 ? (probe == 0 ? 0 : n - 1) : rng() % n;
      std::uint32_t expected = 0;
      ASSERT_TRUE(b.select(static_cast<std::uint32_t>(r), &expected));
      ASSERT_EQ(select(b, r), expected) << "round " << round << ", rank " << r;
    }
    EXPECT_EQ(select(b, n), std::nullopt);
  }
}

TEST(RankSelectTest, EmptyBitmap) {
  const Bitmap b;
  EXPECT_EQ(rank(b, 0), 0u);
  EXPECT_EQ(rank(b, 0xFFFFFFFFu), 0u);
  EXPECT_EQ(select(b, 0), std::nullopt);
}

}  // namespace
}  // namespace caserepo::engine
