// Store: the in-memory state of a repository, with no locking and no input
// validation. Repository validates and locks; Store applies fully resolved
// writes deterministically (so replaying a log gives the same state) and
// keeps every index in step.
//
// Layout (see docs/architecture.md):
//   slots_      EntryRecord per slot, in creation order (holes after removes)
//   slot_touch_ per slot, its touch position
//   touch_slot_ per touch position, in update order (tombstones after updates)
//   dicts_      per field: value text <-> code, and the value's Posting
//   live_, current_  all entries / each case's newest entry, in both spaces
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "caserepo/entry.h"
#include "caserepo/requests.h"
#include "engine/dictionary.h"
#include "engine/fields.h"
#include "engine/posting.h"
#include "engine/store_image.h"
#include "engine/stored_entry.h"
#include "util/growable_array.h"
#include "util/huge_page_allocator.h"

namespace caserepo::engine {

struct EntryRecord {
  std::uint64_t seq = 0;        // creation order; persistent; ties of creationDate break by it
  std::uint64_t touch_seq = 0;  // order of the write that set update_ms; ties of updateDate break by it
  std::int64_t creation_ms = 0;  // kept in holes, so slots_ stays sorted by it
  std::int64_t update_ms = 0;
  std::uint32_t description = kNoValue;
  FieldCodes codes{};  // codes[kCaseId] == kNoValue marks a hole

  bool live() const noexcept { return codes[index_of(Field::kCaseId)] != kNoValue; }
  std::uint32_t code(Field f) const noexcept { return codes[index_of(f)]; }
};
// One cache line: a get or a probe of an entry is one miss.
static_assert(sizeof(EntryRecord) == 64);

inline constexpr std::uint32_t kTombstone = kNoValue;

// Knobs with production defaults; tests lower them to reach every code path
// (both plans, compaction) on small data.
struct Tuning {
  std::uint64_t probe_limit = 256;               // largest driver the probe plan walks
  std::uint64_t min_waste_for_rebuild = 1u << 16;  // holes/tombstones before compaction
  // A bitmap plan leaves its ANDs unmaterialised (count by intersection count,
  // page by walking the smaller side) unless a page skips more matches
  // than this; 0 always materialises.
  std::uint64_t lazy_skip_limit = 1000;
  // facets() tallies a match set smaller than this entry by entry; a larger
  // one by intersecting each value's posting (by cardinality only).
  std::uint64_t facet_tally_limit = 4096;
  // A lazy AND is also materialised when its page would walk more than
  // this many members of the smallest operand (a sparse intersection: rare
  // values, each common alone, rarely together).
  std::uint64_t lazy_walk_limit = 4096;
  // Three or more ANDs are all left lazy only when every operand has at
  // least this many members; otherwise all but the last are materialised.
  std::uint64_t lazy_all_min = 1u << 15;
  // Compaction runs a step at a time: each write first walks this many
  // positions of each space being compacted, moving the live entries down
  // over the holes or tombstones, so no write pauses for a renumbering of
  // every posting (seconds at 10M). 0: all at once, on the write that finds
  // the waste.
  std::uint64_t compaction_step = 4096;
  // A step moves the entries of a field with at most this many values value
  // by value (a range of each posting at once), a field with more (caseId,
  // clientId...) entry by entry.
  std::uint64_t compaction_bulk_values = 1024;
  // A dictionary that outgrows its table moves this many slots of it to
  // the new one per value interned (Dictionary::intern), so no write
  // rehashes every value (280 ms at 10M entries). 0: all at once.
  std::uint64_t rehash_step = Dictionary<Posting, KeyText>::kRehashStep;
};

class Store {
 public:
  // A UUID value is kept as its 16 bytes (value_text.h); descriptions keep
  // up to 39 bytes inline (ValueText).
  using FieldDictionary = Dictionary<Posting, KeyText>;
  // A caseId, clientId or businessKey value: one per case, client or key.
  static_assert(sizeof(FieldDictionary::Value) == 48);
  // Room for the texts a view() reads that are not kept as characters.
  using ViewScratch = std::array<TextScratch, kFieldCount>;

  Store();

  Tuning& tuning() noexcept { return tuning_; }
  const Tuning& tuning() const noexcept { return tuning_; }

  // --- writes (REQUIRES: arguments validated and resolved) -----------------

  // The stamp for a write at wall time `now_ms`: never below the previous one.
  std::int64_t next_stamp(std::int64_t now_ms) const noexcept { return now_ms > last_stamp_ ? now_ms : last_stamp_; }

  // The caseId a create joins: its own caseId if given, else the case of the
  // newest entry with its businessKey, else nullopt (a new case).
  std::optional<std::string> joined_case(const CreateRequest& request) const;

  // The case's current entry when `clientId`/`caseType` differ from it.
  bool conflicts(std::string_view caseId, std::string_view clientId, std::string_view caseType) const;

  // REQUIRES: request.caseId and request.caseType set; no conflict.
  // Returns the new entry's slot.
  std::uint32_t insert(const CreateRequest& request, std::int64_t stamp_ms);
  // Room for `n` more entries (a log replay knows how many creates follow):
  // the entry and touch columns and the caseId dictionary grow once.
  void reserve_more(std::size_t n);
  // The memory the next `entries` creates will first write, as byte ranges
  // (a log replay pre-faults them on its helper thread: decode_ahead.h):
  // the room reserve_more() set aside in the columns, and each dictionary's
  // next values at the rate of new values per entry so far (their chunks
  // allocated now, untouched).
  std::vector<std::span<const std::byte>> room_for(std::size_t entries);
  // REQUIRES: the case exists.
  void update(std::string_view caseId, const Patch& patch, std::int64_t stamp_ms);
  // REQUIRES: the case exists. Returns the number of entries removed.
  std::uint64_t remove(std::string_view caseId);

  // --- reads ---------------------------------------------------------------

  const Posting* case_entries(std::string_view caseId) const;
  // The slot of the case's newest entry, or nullopt for an unknown case.
  // Kept as the caseId dictionary's hint (dictionary.h): the entry's record
  // is read while the caseId's text is compared, not after it.
  std::optional<std::uint32_t> newest_slot(std::string_view caseId) const;
  // Starts loading the slot's record (a read of several entries, e.g. a
  // case's history, then waits for their cache misses at once).
  void prefetch(std::uint32_t slot) const {
    __builtin_prefetch(&slots_[slot]);  // one cache line (static_assert at EntryRecord)
  }
  // prefetch() of each entry of a case kept as a short list (up to
  // Posting::kPromoteAt entries; a larger case's bitmap is not walked twice).
  void prefetch_records(const Posting& entries) const {
    if (!entries.is_big()) {
      for (const std::uint32_t slot : entries.small_slots()) prefetch(slot);
    }
  }
  Entry materialize(std::uint32_t slot) const;
  // Valid until the next write, and while `scratch` lives.
  EntryView view(std::uint32_t slot, ViewScratch& scratch) const;

  const EntryRecord& record(std::uint32_t slot) const { return slots_[slot]; }
  std::uint32_t slot_count() const noexcept { return static_cast<std::uint32_t>(slots_.size()); }
  std::uint32_t touch_count() const noexcept { return static_cast<std::uint32_t>(touch_slot_.size()); }
  std::uint32_t slot_at_touch(std::uint32_t touch) const { return touch_slot_[touch]; }
  std::uint32_t touch_of(std::uint32_t slot) const { return slot_touch_[slot]; }
  // The two columns whole, for a pass over many positions: touch_of()
  // of every slot, slot_at_touch() of every touch position.
  std::span<const std::uint32_t> touches() const { return {slot_touch_.data(), slot_touch_.size()}; }
  std::span<const std::uint32_t> slots_by_touch() const { return {touch_slot_.data(), touch_slot_.size()}; }
  // The sort keys at position `p` of a space — seq or touch_seq, and the
  // date in ms — ascending with p, holes and tombstones included (binary
  // searches). A hole keeps its record's keys. A tombstone reads as the
  // next live touch position (the update order keeps no keys of its own:
  // they are the records'). A position between a compaction's cursors
  // reads as the last key its steps walked: what it holds itself may be
  // stale.
  std::uint64_t key_at(Space space, std::uint32_t p) const {
    if (space == Space::kUpdate) return update_keys_at(p).touch_seq;
    if (const Compaction& c = compaction_[0]; p >= c.write && p < c.read) return c.gap_key;
    return slots_[p].seq;
  }
  std::int64_t ms_at(Space space, std::uint32_t p) const {
    if (space == Space::kUpdate) return update_keys_at(p).ms;
    if (const Compaction& c = compaction_[0]; p >= c.write && p < c.read) return c.gap_ms;
    return slots_[p].creation_ms;
  }

  const FieldDictionary& dictionary(Field f) const { return dicts_[index_of(f)]; }
  const DualBitmap& live() const noexcept { return live_; }
  const DualBitmap& current() const noexcept { return current_; }
  bool is_current(std::uint32_t slot) const { return current_.in(Space::kCreation).contains(slot); }

  std::uint64_t entry_count() const noexcept { return live_count_; }
  std::uint64_t case_count() const noexcept { return dicts_[index_of(Field::kCaseId)].size(); }
  std::uint64_t rebuild_count() const noexcept { return rebuilds_; }
  std::size_t posting_bytes() const;
  // Heap bytes of the whole store, counted per structure (allocator
  // overhead estimated at 16 bytes per allocation).
  std::size_t memory_bytes() const;

  // --- snapshots ------------------------------------------------------------

  // Appends up to `max` live entries with a seq above `after_seq` to `out`,
  // in creation order. Returns the seq of the last one, or nullopt if none.
  std::optional<std::uint64_t> export_after(std::uint64_t after_seq, std::size_t max,
                                            std::vector<StoredEntry>& out) const;
  // Appends every entry of the case, oldest first (none for an unknown case).
  void export_case(std::string_view caseId, std::vector<StoredEntry>& out) const;
  StoreCounters counters() const { return {next_seq_, next_touch_seq_, last_stamp_}; }
  // REQUIRES: an empty store; check_image(image) passed (the snapshot
  // reader checks). Interns each distinct value once and builds every
  // posting in bulk. A value listed twice in a column (the one invariant
  // check_image leaves to this, as interning finds it for free) is
  // returned as an error; the store is then unusable.
  std::optional<std::string> restore(StoreImage image);

  // Compaction at once: renumbers slots and touch positions densely and
  // rebuilds every posting. (Writes compact a step at a time: maybe_rebuild.)
  void rebuild();
  // Compaction of the update order alone, when updates made the waste (the
  // slots have few holes): renumbers touch positions densely and each
  // posting's update-order side, leaving slots and the creation-order side
  // as they are. Several times cheaper than rebuild() (bench Compaction).
  void renumber_update_order();
  // Starts compacting both orders now, whatever their waste; the next
  // writes take the steps (the tests interleave them with every operation).
  void begin_compaction() {
    for (Compaction& c : compaction_) {
      if (!c.active) c = Compaction{.active = true};
    }
  }
  // True while a compaction is under way, a step per write
  // (Tuning::compaction_step).
  bool compacting() const noexcept { return compaction_[0].active || compaction_[1].active; }

 private:
  StoredEntry stored(std::uint32_t slot) const;
  std::uint32_t new_touch(std::uint32_t slot);
  struct UpdateKeys {
    std::uint64_t touch_seq;
    std::int64_t ms;
  };
  // key_at/ms_at of touch position p.
  UpdateKeys update_keys_at(std::uint32_t p) const;
  std::uint32_t intern_nullable(Field f, const std::optional<std::string>& text);
  std::uint32_t intern(Field f, std::string_view text) { return dicts_[index_of(f)].intern(text, tuning_.rehash_step).code; }
  std::uint32_t intern_description(const std::optional<std::string>& text);
  // Sets every code of `r` but the caseId's from the request's values.
  void intern_fields(EntryRecord& r, const CreateRequest& request);
  void release_description(std::uint32_t code);
  void index(std::uint32_t slot, bool current);
  void unindex(std::uint32_t slot);
  void maybe_rebuild();
  // One step of the compaction of `space`: walks up to `positions`
  // positions, moving each live entry down to the write cursor; the walk's
  // end finishes it (the space ends at the cursor).
  void compact_step(Space space, std::uint64_t positions);
  // A step's move of one entry down to `to`: move_slot from slot `from`
  // (its record, its row's slot in touch_slot_, its caseId's hint when it
  // is the case's newest entry), move_touch from touch position `from` (its
  // record's touch position, the touch columns); both also move it in the
  // postings of the fields not `in_bulk` (the step moves the rest, and
  // live_/current_, by range afterwards). REQUIRES: nothing live in [to, from).
  void move_slot(std::uint32_t from, std::uint32_t to, const std::array<bool, kFieldCount>& in_bulk);
  void move_touch(std::uint32_t slot, std::uint32_t from, std::uint32_t to,
                  const std::array<bool, kFieldCount>& in_bulk);
  // Starts loading the postings that move_slot/move_touch change (the
  // record already loaded).
  void prefetch_postings(std::uint32_t slot, const std::array<bool, kFieldCount>& in_bulk) const;
  // After a compaction: the records and the touch columns each keep their
  // room for the writes that refill it, unless their entries now fill
  // under a quarter of it.
  void give_back_room();
  // Bulk building, for restore and compaction. REQUIRES for all: slots and
  // touch positions dense (no holes, no tombstones).
  //
  // Entries as columns: one field's codes in slot order (with
  // touches(), each slot's touch position). Walking 4 bytes per entry
  // instead of a 64-byte EntryRecord keeps the passes below in cache.
  struct Columns {
    std::array<util::LargeVector<std::uint32_t>, kFieldCount> codes;
  };
  Columns columns() const;
  // A counting sort of one field's codes: value c's members are
  // slots[start[c], start[c+1]), ascending.
  struct MembersByCode {
    util::LargeVector<std::uint32_t> start;
    util::LargeVector<std::uint32_t> slots;
    std::span<const std::uint32_t> of(std::uint32_t c) const {
      return {slots.data() + start[c], start[c + 1] - start[c]};
    }
  };
  static MembersByCode members_by_code(std::span<const std::uint32_t> codes, std::uint32_t code_bound);
  struct PostingScratch {
    std::vector<std::uint32_t> touches;
  };
  // `touch[s]`: slot s's touch position.
  static void assign(Posting& posting, std::span<const std::uint32_t> slots, std::span<const std::uint32_t> touch,
                     PostingScratch& scratch);
  // One field's postings from its codes; with `values` (restore), interning
  // them first: a value listed twice is returned as an error. With
  // `newest` (caseId only): each value's newest slot by code (kNoHint for a
  // free code), also set as the dictionary's hints.
  std::optional<std::string> build_field(Field f, std::span<const std::uint32_t> codes,
                                         std::span<const std::uint32_t> touch, const TextColumn* values,
                                         std::vector<std::uint32_t>* newest);
  void build_postings(const Columns& columns);
  // live_ and current_, given each case's newest slot by caseId code.
  void build_sets(std::span<const std::uint32_t> newest_by_code);

  // Per entry and per touch position: arrays that grow without a copy
  // (util/growable_array.h), on huge pages once large.
  util::GrowableArray<EntryRecord> slots_;        // 64 bytes an entry
  // Not in EntryRecord: a sort by update date maps thousands of slots to
  // touch positions, reading 4 bytes each instead of a record's cache line;
  // and the record stays one cache line.
  util::GrowableArray<std::uint32_t> slot_touch_;  // touch position (stale in a hole)
  util::GrowableArray<std::uint32_t> touch_slot_;  // slot, or kTombstone
  // The update order's keys (touch_seq, update_ms) are its entries'
  // records': columns of them, kept for tombstones, cost 16 B/entry
  // (update_keys_at reads a tombstone as the next live position instead).
  std::array<FieldDictionary, kFieldCount> dicts_;
  Dictionary<std::uint32_t> descriptions_;  // payload: reference count
  DualBitmap live_;
  DualBitmap current_;
  std::uint64_t live_count_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_touch_seq_ = 1;
  std::int64_t last_stamp_ = std::numeric_limits<std::int64_t>::min();
  std::uint64_t rebuilds_ = 0;
  // A compaction under way, by space: positions below `write` are
  // compacted, [write, read) are holes or tombstones that read as the last
  // key walked (key_at; their own keys are not rewritten, which would cost
  // each step the whole gap: millions after a churn), positions from `read`
  // on are as the writes left them (new entries and writes append there).
  struct Compaction {
    bool active = false;
    std::uint32_t read = 0;
    std::uint32_t write = 0;
    std::uint64_t gap_key = 0;
    std::int64_t gap_ms = 0;
  };
  std::array<Compaction, 2> compaction_;
  Tuning tuning_;
};

}  // namespace caserepo::engine
