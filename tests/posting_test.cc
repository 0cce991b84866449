// A posting's bitmaps keep a block (65,536 positions) as a bitset from
// Posting::kDenseAt members down to Posting::kSparseAt, where CRoaring
// alone would use an array up to 4,096: the members must stay exactly the
// ones added and not removed, through every conversion, and the block
// must take the form the thresholds say.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include <roaring/containers/containers.h>

#include "engine/posting.h"

namespace caserepo::engine {
namespace {

// The container kind of the block holding `position`.
std::uint8_t kind_of_block(const Bitmap& b, std::uint32_t position) {
  const roaring_array_t& ra = b.roaring.high_low_container;
  const std::int32_t i = ra_get_index(&ra, static_cast<std::uint16_t>(position >> 16));
  return i < 0 ? 0 : ra.typecodes[i];
}

void expect_members(const Posting& p, const std::set<std::uint32_t>& slots, const std::set<std::uint32_t>& touches) {
  ASSERT_EQ(p.size(), slots.size());
  ASSERT_TRUE(p.is_big());
  std::vector<std::uint32_t> got;
  p.for_each_slot([&](std::uint32_t s) { got.push_back(s); });
  ASSERT_EQ(got, std::vector<std::uint32_t>(slots.begin(), slots.end()));
  Bitmap expected_touches;
  for (std::uint32_t t : touches) expected_touches.add(t);
  ASSERT_EQ(p.bitmap(Space::kUpdate).cardinality(), touches.size());
  ASSERT_TRUE(p.bitmap(Space::kUpdate) == expected_touches);
}

TEST(PostingTest, ABlockIsABitsetFromTheDenseThresholdAndAnArrayAgainBelowTheSparseOne) {
  const std::uint32_t block = 3u << 16;  // not the first block: the index lookup matters
  std::vector<std::uint32_t> touch_of(block + 65536);  // each slot's touch: itself
  for (std::uint32_t s = 0; s < touch_of.size(); ++s) touch_of[s] = s;
  Posting p;
  std::set<std::uint32_t> slots, touches;
  std::mt19937_64 rng(7);
  std::vector<std::uint32_t> order(65536);
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  // Up: one by one, in random positions of the block (slots and touches alike).
  for (std::int32_t n = 1; n <= Posting::kDenseAt + 10; ++n) {
    const std::uint32_t v = block + order[static_cast<std::size_t>(n)];
    p.add(v, v, touch_of);
    slots.insert(v);
    touches.insert(v);
    if (p.is_big()) {
      const std::uint8_t want = n >= Posting::kDenseAt ? BITSET_CONTAINER_TYPE_CODE : ARRAY_CONTAINER_TYPE_CODE;
      ASSERT_EQ(kind_of_block(p.bitmap(Space::kCreation), v), want) << n << " members";
      ASSERT_EQ(kind_of_block(p.bitmap(Space::kUpdate), v), want) << n << " members";
    }
  }
  expect_members(p, slots, touches);
  // Down: a bitset until kSparseAt members, then an array again.
  while (slots.size() > 100) {
    const std::uint32_t v = *std::next(slots.begin(), static_cast<std::ptrdiff_t>(rng() % slots.size()));
    p.remove(v, v);
    slots.erase(v);
    touches.erase(v);
    const auto n = static_cast<std::int32_t>(slots.size());
    const std::uint8_t want = n >= Posting::kSparseAt ? BITSET_CONTAINER_TYPE_CODE : ARRAY_CONTAINER_TYPE_CODE;
    ASSERT_EQ(kind_of_block(p.bitmap(Space::kCreation), block), want) << n << " members";
  }
  expect_members(p, slots, touches);
}

TEST(PostingTest, RandomAddsAndRemovesAcrossBlocksKeepExactlyTheMembers) {
  std::mt19937_64 rng(19);
  Posting p;
  std::set<std::uint32_t> slots, touches;
  std::uint32_t next_touch = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> members;  // (slot, touch)
  std::vector<std::uint32_t> touch_of(4u << 16);
  for (int step = 0; step < 60000; ++step) {
    // Blocks of different densities; removes a third of the time.
    if (members.empty() || rng() % 3 != 0) {
      const std::uint32_t block = static_cast<std::uint32_t>(rng() % 4);
      const std::uint32_t span = block == 0 ? 65536 : block == 1 ? 4000 : 1500;
      const std::uint32_t slot = (block << 16) + static_cast<std::uint32_t>(rng() % span);
      if (slots.count(slot)) continue;
      const std::uint32_t touch = next_touch++;
      touch_of[slot] = touch;
      p.add(slot, touch, touch_of);
      slots.insert(slot);
      touches.insert(touch);
      members.emplace_back(slot, touch);
    } else {
      const std::size_t i = rng() % members.size();
      const auto [slot, touch] = members[i];
      members[i] = members.back();
      members.pop_back();
      p.remove(slot, touch);
      slots.erase(slot);
      touches.erase(touch);
    }
    if (step % 5000 == 0 && p.is_big()) expect_members(p, slots, touches);
  }
  expect_members(p, slots, touches);
}

// A small posting keeps its slots in itself (kInline), then in an array
// that grows to kPromoteAt, then as bitmaps, whose update order it takes
// from the touch column. Through random adds and removes, moves of the
// whole posting and bulk assignment, on both sides of every capacity, it
// holds exactly the model's members, in slot order, and once promoted
// exactly their touches.
TEST(PostingTest, SmallMembersStayExactThroughEveryCapacityAndMove) {
  std::mt19937 rng(23);
  for (int trial = 0; trial < 300; ++trial) {
    Posting p;
    std::map<std::uint32_t, std::uint32_t> model;  // slot -> touch
    std::vector<std::uint32_t> touch_of(5001);     // the column add() reads
    bool promoted = false;
    const std::size_t most = rng() % (Posting::kPromoteAt + 8);
    for (int step = 0; step < 200; ++step) {
      const std::uint32_t op = rng() % 10;
      if (op < 5 && model.size() < most) {
        std::uint32_t slot = rng() % 1000;
        while (model.contains(slot)) slot = rng() % 1000;
        const std::uint32_t touch = rng();
        touch_of[slot] = touch;
        p.add(slot, touch, touch_of);
        model[slot] = touch;
        promoted = promoted || model.size() > Posting::kPromoteAt;
      } else if (op < 8 && !model.empty()) {
        auto it = std::next(model.begin(), static_cast<std::ptrdiff_t>(rng() % model.size()));
        p.remove(it->first, it->second);
        model.erase(it);
      } else if (op == 8) {  // moved out and back: through a fresh object each way
        auto moved = std::make_unique<Posting>(std::move(p));
        p.~Posting();
        new (&p) Posting();
        if (rng() % 2) p.add(5000, 1, touch_of);  // storage of its own, then replaced
        p = std::move(*moved);
      } else if (!promoted && model.size() <= Posting::kPromoteAt) {
        std::vector<std::uint32_t> sorted;
        for (const auto& [slot, touch] : model) sorted.push_back(slot);
        p.assign_small(sorted);
      }
      ASSERT_EQ(p.size(), model.size()) << trial << "/" << step;
      ASSERT_EQ(p.is_big(), promoted) << trial << "/" << step;  // a big posting stays big
      std::vector<std::uint32_t> slots;
      p.for_each_slot([&](std::uint32_t s) { slots.push_back(s); });
      std::vector<std::uint32_t> want;
      for (const auto& [slot, touch] : model) want.push_back(slot);
      ASSERT_EQ(slots, want) << trial << "/" << step;
      if (!model.empty()) {
        ASSERT_EQ(p.last_slot(), model.rbegin()->first);
      }
      if (!promoted) {
        ASSERT_TRUE(std::equal(want.begin(), want.end(), p.small_slots().begin(), p.small_slots().end()));
      } else {
        Bitmap touches;
        for (const auto& [slot, touch] : model) touches.add(touch);
        ASSERT_TRUE(p.bitmap(Space::kUpdate) == touches) << trial << "/" << step;
      }
    }
  }
}

TEST(PostingTest, BulkAssignmentMakesDenseBlocksBitsets) {
  std::vector<std::uint32_t> slots, touches;
  for (std::uint32_t v = 0; v < 65536; v += 50) slots.push_back(v);        // 1,311 in block 0: dense
  for (std::uint32_t v = 65536; v < 131072; v += 200) slots.push_back(v);  // 328 in block 1: sparse
  for (std::uint32_t i = 0; i < slots.size(); ++i) touches.push_back(i * 3);
  Posting p;
  p.assign_big(slots, touches);
  EXPECT_EQ(kind_of_block(p.bitmap(Space::kCreation), 0), BITSET_CONTAINER_TYPE_CODE);
  EXPECT_EQ(kind_of_block(p.bitmap(Space::kCreation), 65536), ARRAY_CONTAINER_TYPE_CODE);
  EXPECT_EQ(kind_of_block(p.bitmap(Space::kUpdate), 0), BITSET_CONTAINER_TYPE_CODE);  // all 1,639 touches in block 0
  std::vector<std::uint32_t> got;
  p.for_each_slot([&](std::uint32_t s) { got.push_back(s); });
  EXPECT_EQ(got, slots);
}

}  // namespace
}  // namespace caserepo::engine
