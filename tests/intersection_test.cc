// The multi-way intersection count, and the intersection built, against
// CRoaring's own AND, over bitmaps of every container kind (arrays, bitsets,
// runs, copy-on-write shares).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "engine/intersection.h"

namespace caserepo::engine {
namespace {

Bitmap random_bitmap(std::mt19937_64& rng) {
  Bitmap b;
  const int chunks = 1 + static_cast<int>(rng() % 12);
  for (int c = 0; c < chunks; ++c) {
    const std::uint32_t base = static_cast<std::uint32_t>(rng() % 20) << 16;  // shared keys across bitmaps
    switch (rng() % 4) {
      case 0:  // sparse: an array container
        for (int i = static_cast<int>(rng() % 300); i > 0; --i) b.add(base + static_cast<std::uint32_t>(rng() % 65536));
        break;
      case 1:  // dense: a bitset container
        for (int i = 0; i < 20000; ++i) b.add(base + static_cast<std::uint32_t>(rng() % 65536));
        break;
      case 2: {  // runs
        const std::uint32_t from = static_cast<std::uint32_t>(rng() % 60000);
        b.addRange(base + from, base + from + 1 + static_cast<std::uint32_t>(rng() % 5000));
        break;
      }
      default:  // every other value: dense, not runs
        for (std::uint32_t v = static_cast<std::uint32_t>(rng() % 2); v < 65536; v += 2 + static_cast<std::uint32_t>(rng() % 3)) b.add(base + v);
    }
  }
  if (rng() % 2) b.runOptimize();
  return b;
}

TEST(IntersectionTest, CountsEqualTheMaterialisedIntersection) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 400; ++round) {
    const int n = 1 + static_cast<int>(rng() % 5);
    std::vector<Bitmap> owned;
    for (int i = 0; i < n; ++i) owned.push_back(random_bitmap(rng));
    if (rng() % 3 == 0) {  // copy-on-write shares of containers
      owned[0].setCopyOnWrite(true);
      Bitmap copy = owned[0];
      copy.setCopyOnWrite(true);
      owned.push_back(copy);
    }
    std::vector<const Bitmap*> bitmaps;
    for (const Bitmap& b : owned) bitmaps.push_back(&b);
    Bitmap expected = *bitmaps[0];
    for (std::size_t i = 1; i < bitmaps.size(); ++i) expected &= *bitmaps[i];
    ASSERT_EQ(and_cardinality(bitmaps), expected.cardinality()) << "round " << round << ", " << bitmaps.size() << " bitmaps";
    const Bitmap built = intersection(bitmaps);
    ASSERT_TRUE(built == expected) << "round " << round << ", " << bitmaps.size() << " bitmaps";
    ASSERT_EQ(built.cardinality(), expected.cardinality());
  }
}

// Three or four large array containers per key (the "rare values" shape:
// thousands of members each, few in common), plus runs: the probes of the
// smallest operand's members gallop through the others, and every skip
// length, end of container and exact hit has to come out right.
TEST(IntersectionTest, LargeArraysAndRunsProbedInOrderCountExactly) {
  std::mt19937_64 rng(23);
  for (int round = 0; round < 200; ++round) {
    std::vector<Bitmap> owned(3 + rng() % 2);
    for (Bitmap& b : owned) {
      for (std::uint32_t key = 0; key < 3; ++key) {
        const std::uint32_t members = 1 + static_cast<std::uint32_t>(rng() % 4000);  // < 4096: stays an array
        const std::uint32_t spread = 1 + static_cast<std::uint32_t>(rng() % 65535);
        for (std::uint32_t i = 0; i < members; ++i) b.add((key << 16) + static_cast<std::uint32_t>(rng() % spread));
        if (rng() % 4 == 0) {
          const std::uint32_t from = static_cast<std::uint32_t>(rng() % 65000);
          b.addRange((key << 16) + from, (key << 16) + from + 1 + static_cast<std::uint32_t>(rng() % 500));
        }
      }
      if (rng() % 3 == 0) b.runOptimize();
    }
    std::vector<const Bitmap*> bitmaps;
    for (const Bitmap& b : owned) bitmaps.push_back(&b);
    Bitmap expected = owned[0];
    for (std::size_t i = 1; i < owned.size(); ++i) expected &= owned[i];
    ASSERT_EQ(and_cardinality(bitmaps), expected.cardinality()) << "round " << round;
  }
}

// Two bitmaps have their own count for each pair of container kinds (an
// array's members tested against a bitset, a run's range of words
// popcounted, two runs' overlaps merged): every pair, both ways round,
// with runs that start and end inside a word, on a word's edge, and
// within one word.
TEST(IntersectionTest, TwoBitmapsCountExactlyForEveryPairOfContainerKinds) {
  enum Kind { kArray, kBitset, kRun };
  std::mt19937_64 rng(31);
  auto make = [&](Kind kind) {
    Bitmap b;
    for (std::uint32_t key = 0; key < 2; ++key) {
      const std::uint32_t base = key << 16;
      if (kind == kArray) {
        for (int i = 1 + static_cast<int>(rng() % 3000); i > 0; --i) b.add(base + static_cast<std::uint32_t>(rng() % 65536));
      } else if (kind == kBitset) {
        for (int i = 0; i < 30000; ++i) b.add(base + static_cast<std::uint32_t>(rng() % 65536));
      } else {
        for (std::uint32_t at = static_cast<std::uint32_t>(rng() % 130); at < 65536;) {
          const std::uint32_t length = 1 + static_cast<std::uint32_t>(rng() % 200);  // within one word, or across many
          b.addRange(base + at, base + std::min<std::uint32_t>(at + length, 65536));
          at += length + 1 + static_cast<std::uint32_t>(rng() % 300);
        }
        b.add(base + 63);  // runs ending and starting on a word's edge
        b.add(base + 64);
        b.add(base + 65535);
        b.runOptimize();
      }
    }
    return b;
  };
  for (Kind x : {kArray, kBitset, kRun}) {
    for (Kind y : {kArray, kBitset, kRun}) {
      for (int round = 0; round < 20; ++round) {
        const Bitmap a = make(x), b = make(y);
        const Bitmap* bitmaps[] = {&a, &b};
        ASSERT_EQ(and_cardinality(bitmaps), (a & b).cardinality()) << "kinds " << x << " and " << y << ", round " << round;
        ASSERT_TRUE(intersection(bitmaps) == (a & b)) << "kinds " << x << " and " << y << ", round " << round;
      }
    }
  }
}

// The planner's date-range operand (addRange over several keys: full run
// containers but for its two ends) with two or three dense terms, and a
// term of its own that fills a key: full containers drop out of the AND,
// and bitsets with one partial run are counted within the run's words.
TEST(IntersectionTest, DateRangeWithDenseTermsCountsAndBuildsExactly) {
  std::mt19937_64 rng(47);
  for (int round = 0; round < 60; ++round) {
    std::vector<Bitmap> owned(2 + rng() % 2);
    for (Bitmap& b : owned) {
      for (std::uint32_t key = 0; key < 6; ++key) {
        const int members = rng() % 5 == 0 ? 2000 : 30000;  // mostly bitsets, now and then an array
        for (int i = 0; i < members; ++i) b.add((key << 16) + static_cast<std::uint32_t>(rng() % 65536));
      }
      if (rng() % 3 == 0) b.addRange(std::uint32_t{2} << 16, std::uint32_t{3} << 16);  // one key full
      if (rng() % 2) b.runOptimize();
    }
    Bitmap range;
    const std::uint32_t lo = static_cast<std::uint32_t>(rng() % (3u << 16));
    const std::uint32_t hi = lo + 1 + static_cast<std::uint32_t>(rng() % (3u << 16));
    range.addRange(lo, hi);
    owned.push_back(range);
    std::vector<const Bitmap*> bitmaps;
    for (const Bitmap& b : owned) bitmaps.push_back(&b);
    if (rng() % 2) std::swap(bitmaps.front(), bitmaps.back());
    Bitmap expected = owned[0];
    for (std::size_t i = 1; i < owned.size(); ++i) expected &= owned[i];
    ASSERT_EQ(and_cardinality(bitmaps), expected.cardinality()) << "round " << round << ", range [" << lo << ", " << hi << ")";
    ASSERT_TRUE(intersection(bitmaps) == expected) << "round " << round << ", range [" << lo << ", " << hi << ")";
  }
  // Every operand full in a key: that key's container comes out whole.
  Bitmap a, b;
  a.addRange(0, 1u << 17);
  b.addRange(1u << 16, 3u << 16);
  const Bitmap* both[] = {&a, &b};
  EXPECT_EQ(and_cardinality(both), 65536u);
  EXPECT_TRUE(intersection(both) == (a & b));
}

TEST(IntersectionTest, DisjointKeysGiveZero) {
  Bitmap a, b, c;
  a.add(1);
  b.add(1u << 16);
  c.add(1);
  const Bitmap* bitmaps[] = {&a, &b, &c};
  EXPECT_EQ(and_cardinality(bitmaps), 0u);
}

// A MonotoneProbe answers as Bitmap::contains for any run of values in its
// direction: members and non-members, repeated values, keys the bitmap does
// not have, values past either end, every container kind and shares.
TEST(IntersectionTest, MonotoneProbeAnswersAsContainsInEitherDirection) {
  std::mt19937_64 rng(31);
  for (int round = 0; round < 300; ++round) {
    Bitmap b = random_bitmap(rng);
    Bitmap shared;
    if (round % 4 == 0) {
      b.setCopyOnWrite(true);
      shared = b;
    }
    std::vector<std::uint32_t> asked;
    for (const std::uint32_t m : b) {
      if (rng() % 3 == 0) asked.push_back(m);  // members, and their neighbours
      if (rng() % 5 == 0) asked.push_back(m + 1);
    }
    for (int i = 0; i < 400; ++i) asked.push_back(static_cast<std::uint32_t>(rng() % (22u << 16)));
    asked.push_back(0);
    asked.push_back(~std::uint32_t{0});
    std::sort(asked.begin(), asked.end());
    for (const bool descending : {false, true}) {
      if (descending) std::reverse(asked.begin(), asked.end());
      MonotoneProbe probe(b, descending);
      for (const std::uint32_t v : asked) {
        ASSERT_EQ(probe.contains(v), b.contains(v)) << "round " << round << (descending ? " descending " : " ascending ") << v;
      }
    }
  }
  const Bitmap none;
  MonotoneProbe empty(none, true);
  EXPECT_FALSE(empty.contains(5));
}

// gather() copies runs whole and looks up other members one by one: both
// must give column[m] for every member m, in order, shares included.
TEST(IntersectionTest, GatherReadsTheColumnAtEveryMemberInOrder) {
  std::mt19937_64 rng(23);
  std::vector<std::uint32_t> column(20u << 16);
  for (std::uint32_t& v : column) v = static_cast<std::uint32_t>(rng());
  for (int round = 0; round < 200; ++round) {
    Bitmap members = random_bitmap(rng);
    Bitmap shared;
    if (round % 3 == 0) {
      members.setCopyOnWrite(true);
      shared = members;  // both now point at shared containers
    }
    std::vector<std::uint32_t> expected;
    for (const std::uint32_t m : members) expected.push_back(column[m]);
    ASSERT_EQ(gather(members, column), expected) << "round " << round;
  }
  EXPECT_TRUE(gather(Bitmap(), column).empty());
}

}  // namespace
}  // namespace caserepo::engine
