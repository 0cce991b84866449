// The Store's sort keys by position (key_at, ms_at), which every binary
// search of a date range or a page token relies on: ascending over every
// position of both spaces — holes, tombstones, and a compaction's gap
// included — and, at an entry's own position, exactly its record's keys.
// The update order keeps no keys of its own (a tombstone reads as the next
// live position), so this is checked after every write of a random mix of
// creates, updates and removes, with compaction running in small steps.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>

#include "engine/store.h"

namespace caserepo::engine {
namespace {

void expect_keys_ascend_and_match_records(const Store& store, int step) {
  for (Space space : {Space::kCreation, Space::kUpdate}) {
    const bool creation = space == Space::kCreation;
    const std::uint32_t n = creation ? store.slot_count() : store.touch_count();
    std::uint64_t last_key = 0;
    std::int64_t last_ms = std::numeric_limits<std::int64_t>::min();
    for (std::uint32_t p = 0; p < n; ++p) {
      const std::uint64_t key = store.key_at(space, p);
      const std::int64_t ms = store.ms_at(space, p);
      ASSERT_GE(key, last_key) << "step " << step << (creation ? " slot " : " touch ") << p;
      ASSERT_GE(ms, last_ms) << "step " << step << (creation ? " slot " : " touch ") << p;
      last_key = key;
      last_ms = ms;
      // An entry at its own position, not a hole, a tombstone or a stale
      // copy in a compaction's gap: its slot and touch position name each other.
      const std::uint32_t slot = creation ? p : store.slot_at_touch(p);
      if (slot == kTombstone || !store.record(slot).live()) continue;
      const std::uint32_t touch = store.touch_of(slot);
      if (touch >= store.touch_count() || store.slot_at_touch(touch) != slot || (!creation && touch != p)) continue;
      const EntryRecord& r = store.record(slot);
      ASSERT_EQ(key, creation ? r.seq : r.touch_seq) << "step " << step << " position " << p;
      ASSERT_EQ(ms, creation ? r.creation_ms : r.update_ms) << "step " << step << " position " << p;
    }
  }
}

TEST(StoreTest, KeysAscendOverEveryPositionAndMatchEachEntrysRecordThroughWritesAndCompactionSteps) {
  for (const std::uint64_t compaction_step : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{5}}) {
    std::mt19937_64 rng(31 + compaction_step);
    Store store;
    store.tuning().min_waste_for_rebuild = 8;
    store.tuning().compaction_step = compaction_step;
    std::map<std::string, std::string> client_of;  // caseId -> clientId (a case keeps its client)
    std::int64_t now = 1'700'000'000'000;
    int next_case = 0;
    for (int step = 0; step < 1500; ++step) {
      now += static_cast<std::int64_t>(rng() % 3);  // ties included
      const std::int64_t stamp = store.next_stamp(now);
      const std::uint64_t op = rng() % 10;
      auto some_case = [&] { return std::next(client_of.begin(), static_cast<std::ptrdiff_t>(rng() % client_of.size())); };
      if (op < 4 || client_of.size() < 3) {
        CreateRequest r;
        if (!client_of.empty() && rng() % 3 == 0) {  // another entry of a case
          const auto it = some_case();
          r.caseId = it->first;
          r.clientId = it->second;
        } else {
          r.caseId = "case-" + std::to_string(next_case++);
          r.clientId = "client-" + std::to_string(rng() % 20);
          client_of[*r.caseId] = r.clientId;
        }
        r.caseType = "type";
        r.clientType = "retail";
        r.status = "open";
        store.insert(r, stamp);
      } else if (op < 8) {
        Patch patch;
        patch.status = "status-" + std::to_string(rng() % 4);
        store.update(some_case()->first, patch, stamp);
      } else {
        const auto it = some_case();
        store.remove(it->first);
        client_of.erase(it);
      }
      expect_keys_ascend_and_match_records(store, step);
      if (HasFatalFailure()) return;
    }
    EXPECT_GT(store.rebuild_count(), 0u) << "compaction never ran: the gap and tombstone cases went unchecked";
  }
}

}  // namespace
}  // namespace caserepo::engine
