// Dictionary: a field's distinct values, each with a 32-bit code and a
// payload (its Posting, or a reference count).
//
// Values live in an array by code (codes of erased values are reused, so it
// stays dense): turning a stored entry back into strings is one indexed
// load per field, the hot path of get and search. The array grows in chunks
// that never move, so a Value's address is stable for its life. A text of
// up to 39 bytes lives inside its Value (ValueText); the field dictionaries
// keep 19 bytes, or a UUID's 16 (KeyText).
//
// Text -> code goes through an open-addressed table of 8-byte slots (32 bits
// of the text's hash, the code), linear probing, deletion by backward shift:
// a lookup reads one or two slots of one cache line, then the one candidate
// value whose hash bits match; growing rehashes from the slots alone,
// without touching a value. (A node-based hash set cost a bucket, a node and
// two links per value — ~50 bytes — and a cache miss more per lookup.)
//
// Growing is incremental: the full table becomes the old one, a table twice
// its size starts empty (zero pages, util/zeroed_array.h: a slot is stored
// complemented, so an empty one is 0), and each intern or add moves the
// next kRehashStep slots of the old table over, on to the end of a probe
// run. Lookups read the new table, then the old one while it has slots
// left; nothing is inserted into the old one, so its unwalked runs stay
// whole (the walk stops only after a slot that was already empty).
// At 10M entries (6.3M caseIds) one create rehashing into 16M slots took
// 280-296 ms (bench/notes.md, stop 31).
//
// Hints (optional, enable_hints()): a 32-bit word per value, kept in an
// array beside the table at its slot's index, so a lookup learns it before
// it reads the value to compare texts. The caseId dictionary keeps each
// case's newest entry there: get can then read that entry's record while
// it compares the caseId's text, instead of after it (one dependent cache
// miss less; bench/notes.md, stop 29).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/value_text.h"
#include "util/huge_page_allocator.h"
#include "util/zeroed_array.h"

namespace caserepo::engine {

// Text: how a value keeps its text, ValueText or KeyText (value_text.h);
// either gives it back through view(TextScratch&).
template <class Payload, class Text = ValueText>
class Dictionary {
 public:
  struct Value {
    Text text;
    std::uint32_t code;
    mutable Payload payload;  // not a key: safe to change in place
  };

  Dictionary() = default;
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;
  ~Dictionary() {
    for (std::uint32_t c = 0; c < next_code_; ++c) value(c).~Value();
    for (std::size_t k = 0; k < chunks_.size(); ++k) {
      if (chunks_[k]) free_chunk(k);
    }
  }

  const Value* find(std::string_view text) const {
    if (table_.empty()) return nullptr;
    const std::uint32_t tag = tag_of(text);
    if (const std::uint64_t w = table_.slots[slot_of(table_, text, tag)]; w != kEmpty) return &value(code_of(w));
    if (growing()) {
      if (const std::uint64_t w = old_.slots[slot_of(old_, text, tag)]; w != kEmpty) return &value(code_of(w));
    }
    return nullptr;
  }
  // nullptr for a code never given or freed.
  const Value* find(std::uint32_t code) const {
    if (code >= next_code_) return nullptr;
    const Value& v = value(code);
    return v.code == code ? &v : nullptr;
  }
  // REQUIRES: the code exists.
  const Value& at(std::uint32_t code) const { return value(code); }

  // --- batched lookups -------------------------------------------------------
  // A lookup of `text` in two steps started early, for a caller that knows
  // its next lookups (a log replay): their cache misses then overlap
  // instead of following one another. Only ever hints to the CPU.

  // The hash bits a lookup of `text` starts from (any thread may compute them).
  static std::uint32_t tag_of(std::string_view text) noexcept {
    return static_cast<std::uint32_t>(std::hash<std::string_view>{}(text) >> 32);
  }
  // Step 1: starts loading the table slot (and hint) a lookup with `tag` reads first.
  void prefetch_slot(std::uint32_t tag) const noexcept {
    if (table_.empty()) return;
    const std::size_t i = tag & table_.mask();
    __builtin_prefetch(&table_.slots[i]);
    if (hints_enabled_) __builtin_prefetch(&table_.hints[i]);
  }
  // Step 2, once the slot is loaded: starts loading the first value whose
  // hash bits match `tag`, and calls on_candidate(hint) for it when hints
  // are enabled.
  template <class OnCandidate>
  void prefetch_value(std::uint32_t tag, OnCandidate&& on_candidate) const {
    if (table_.empty()) return;
    for (std::size_t i = tag & table_.mask(); table_.slots[i] != kEmpty; i = (i + 1) & table_.mask()) {
      if (tag_in(table_.slots[i]) != tag) continue;
      const auto* v = reinterpret_cast<const char*>(&value(code_of(table_.slots[i])));
      __builtin_prefetch(v);
      __builtin_prefetch(v + sizeof(Value) - 1);  // a Value may straddle two cache lines
      if (hints_enabled_) on_candidate(table_.hints[i]);
      return;
    }
  }

  // --- hints -----------------------------------------------------------------
  static constexpr std::uint32_t kNoHint = ~std::uint32_t{0};
  // From now on every value has a hint, kNoHint until set.
  void enable_hints() {
    hints_enabled_ = true;
    for (Table* t : {&table_, &old_}) {
      t->hints = util::ZeroedArray<std::uint32_t>(t->size());
      for (std::size_t i = 0; i < t->size(); ++i) {
        if (t->slots[i] != kEmpty) t->hints[i] = kNoHint;
      }
    }
  }
  struct Found {
    const Value* value;  // nullptr when `text` is not there
    std::uint32_t hint;
  };
  // REQUIRES: hints enabled. Calls on_candidate(hint) for a value whose
  // hash bits match before its text is compared (a caller prefetches what
  // the hint points at, so that miss overlaps the compare's).
  template <class OnCandidate>
  Found find_hinted(std::string_view text, OnCandidate&& on_candidate) const {
    if (table_.empty()) return {nullptr, kNoHint};
    const std::uint32_t tag = tag_of(text);
    if (Found f = find_hinted_in(table_, text, tag, on_candidate); f.value != nullptr || !growing()) return f;
    return find_hinted_in(old_, text, tag, on_candidate);
  }
  // intern(), with the value's hint set to `hint` in the same probe.
  // Returns the value and the hint it had (kNoHint for a new value).
  // REQUIRES: hints enabled.
  std::pair<const Value&, std::uint32_t> intern_exchanging_hint(std::string_view text, std::uint32_t hint,
                                                                std::size_t rehash_step = kRehashStep) {
    const Place p = intern_place(text, rehash_step);  // a new value's hint is kNoHint (insert_at)
    return {value_at(p), std::exchange(p.table->hints[p.slot], hint)};
  }
  // REQUIRES: hints enabled; `text` there.
  void set_hint(std::string_view text, std::uint32_t hint) {
    const std::uint32_t tag = tag_of(text);
    if (const std::size_t i = slot_of(table_, text, tag); table_.slots[i] != kEmpty) {
      table_.hints[i] = hint;
    } else {
      old_.hints[slot_of(old_, text, tag)] = hint;
    }
  }
  // Every value's hint from its code: value c gets by_code[c]. REQUIRES:
  // hints enabled; by_code.size() >= code_bound(). (Bulk building: one
  // pass over the table, no text hashed again.)
  void set_hints(std::span<const std::uint32_t> by_code) {
    for (Table* t : {&table_, &old_}) {
      for (std::size_t i = 0; i < t->size(); ++i) {
        if (t->slots[i] != kEmpty) t->hints[i] = by_code[code_of(t->slots[i])];
      }
    }
  }

  // Slots of the old table each intern or add moves while the table grows
  // (the walk is sequential; each move is one random write to the new table).
  static constexpr std::size_t kRehashStep = 256;

  // The value for `text`, added with an empty payload when new (one probe,
  // two while growing). `rehash_step`: see kRehashStep; 0 grows at once.
  const Value& intern(std::string_view text, std::size_t rehash_step = kRehashStep) {
    return value_at(intern_place(text, rehash_step));
  }

  // Adds `text` with the next code (a freed one first); nullptr when it is
  // already there. Bulk loading of distinct values calls it directly.
  const Value* add(std::string_view text, std::size_t rehash_step = kRehashStep) {
    make_room(rehash_step);
    const std::uint32_t tag = tag_of(text);
    const std::size_t i = slot_of(table_, text, tag);
    if (table_.slots[i] != kEmpty) return nullptr;
    if (growing() && old_.slots[slot_of(old_, text, tag)] != kEmpty) return nullptr;
    return &insert_at(i, tag, text);
  }

  void erase(std::uint32_t code) {
    if (find(code) == nullptr) return;
    Value& v = value(code);
    TextScratch scratch;
    const std::uint32_t tag = tag_of(v.text.view(scratch));
    if (!erase_from(table_, tag, code)) erase_from(old_, tag, code);
    v.text.reset();
    v.code = kFree;
    v.payload = Payload{};
    free_codes_.push_back(code);
    --size_;
  }

  std::size_t size() const noexcept { return size_; }
  // One past the highest code ever given (codes of erased values included).
  std::uint32_t code_bound() const noexcept { return next_code_; }
  // Room for n values, made at once (bulk loading).
  void reserve(std::size_t n) {
    std::size_t want = 16;
    while (n * 4 > want * 3) want *= 2;
    if (want <= table_.size()) return;
    finish_growing();
    start_growing(want);
    finish_growing();
  }
  // The storage of the next `n` new codes' values, their chunks allocated
  // now if they were not (untouched: a page costs memory once written), as
  // ranges of bytes, one per chunk; nothing is constructed there. A log
  // replay pre-faults them on its helper thread, so that the kernel zeroes
  // the pages there and not in the apply (decode_ahead.h).
  std::vector<std::span<const std::byte>> room_for(std::uint32_t n) {
    std::vector<std::span<const std::byte>> room;
    const std::uint64_t end = std::min<std::uint64_t>(std::uint64_t{next_code_} + n, kMaxCodes);
    for (std::uint64_t code = next_code_; code < end;) {
      const auto [k, offset] = locate(static_cast<std::uint32_t>(code));
      const std::size_t count = std::min<std::uint64_t>(chunk_size(k) - offset, end - code);
      room.push_back(std::as_bytes(std::span<const Value>(chunk(k) + offset, count)));
      code += count;
    }
    return room;
  }

  // The table's bytes (slots and hints): new values write it at random
  // places, so a replay pre-faults all of it (a fresh table's pages are
  // zero pages until written, util/zeroed_array.h).
  std::array<std::span<const std::byte>, 2> table_room() const {
    return {table_.slots.bytes(), table_.hints.bytes()};
  }

  // Whether an old table still has slots to move (tests).
  bool growing() const noexcept { return !old_.empty(); }
  // Occupied slots of both tables: size() unless a slot was left behind (tests).
  std::size_t slots_in_use() const {
    std::size_t n = 0;
    for (const Table* t : {&table_, &old_}) {
      for (std::size_t i = 0; i < t->size(); ++i) n += t->slots[i] != kEmpty;
    }
    return n;
  }
  // Bytes of the tables and the value array (texts and payloads' own heap not included).
  std::size_t heap_bytes() const {
    std::size_t chunk_bytes = 0;
    for (std::size_t k = 0; k < chunks_.size() && chunks_[k]; ++k) chunk_bytes += chunk_size(k) * sizeof(Value);
    return table_.bytes() + old_.bytes() + chunk_bytes + free_codes_.capacity() * sizeof(std::uint32_t);
  }

  // In code order.
  template <class F>
  void for_each(F&& f) const {
    for (std::uint32_t c = 0; c < next_code_; ++c) {
      if (const Value& v = value(c); v.code == c) f(v);
    }
  }

 private:
  // A slot holds ~((hash bits << 32) | code): an empty one is 0, so a
  // fresh table needs no writing (util/zeroed_array.h).
  static constexpr std::uint64_t kEmpty = 0;
  static constexpr std::uint32_t kFree = ~std::uint32_t{0};
  // Chunk k holds kFirstChunk << k values, from code kFirstChunk * (2^k - 1).
  static constexpr std::uint32_t kFirstChunk = 64;
  static constexpr std::uint64_t kMaxCodes = std::uint64_t{kFree};  // codes 0 .. 2^32 - 2

  static std::uint64_t slot_word(std::uint32_t tag, std::uint32_t code) noexcept {
    return ~((std::uint64_t{tag} << 32) | code);
  }
  static std::uint32_t tag_in(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(~w >> 32); }
  static std::uint32_t code_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(~w); }

  struct Table {
    util::ZeroedArray<std::uint64_t> slots;  // size a power of two
    util::ZeroedArray<std::uint32_t> hints;  // beside slots, when enabled; an empty slot's is unused
    std::size_t size() const noexcept { return slots.size(); }
    bool empty() const noexcept { return slots.empty(); }
    std::size_t mask() const noexcept { return slots.size() - 1; }
    std::size_t bytes() const noexcept { return slots.size() * sizeof(std::uint64_t) + hints.size() * sizeof(std::uint32_t); }
  };

  // REQUIRES: t not empty. The slot holding `text`, or the empty slot ending its probe run.
  std::size_t slot_of(const Table& t, std::string_view text, std::uint32_t tag) const {
    std::size_t i = tag & t.mask();
    for (; t.slots[i] != kEmpty; i = (i + 1) & t.mask()) {
      if (tag_in(t.slots[i]) == tag && value(code_of(t.slots[i])).text == text) break;
    }
    return i;
  }
  template <class OnCandidate>
  Found find_hinted_in(const Table& t, std::string_view text, std::uint32_t tag, OnCandidate& on_candidate) const {
    for (std::size_t i = tag & t.mask(); t.slots[i] != kEmpty; i = (i + 1) & t.mask()) {
      if (tag_in(t.slots[i]) != tag) continue;
      const std::uint32_t hint = t.hints[i];
      on_candidate(hint);
      const Value& v = value(code_of(t.slots[i]));
      if (v.text == text) return {&v, hint};
    }
    return {nullptr, kNoHint};
  }
  // Removes `code` from t if it is there (its hash bits: tag).
  bool erase_from(Table& t, std::uint32_t tag, std::uint32_t code) {
    if (t.empty()) return false;
    std::size_t i = tag & t.mask();
    for (; code_of(t.slots[i]) != code; i = (i + 1) & t.mask()) {
      if (t.slots[i] == kEmpty) return false;
    }
    // Backward shift: pull later slots of the run into the hole, so that no
    // lookup meets an empty slot before its value.
    for (std::size_t j = (i + 1) & t.mask(); t.slots[j] != kEmpty; j = (j + 1) & t.mask()) {
      const std::size_t home = tag_in(t.slots[j]) & t.mask();
      if (((j - home) & t.mask()) >= ((j - i) & t.mask())) {  // home not in (i, j]: may move to i
        t.slots[i] = t.slots[j];
        if (hints_enabled_) t.hints[i] = t.hints[j];
        i = j;
      }
    }
    t.slots[i] = kEmpty;
    return true;
  }

  // Room in the table for one more value (at most 3/4 full), moving
  // `rehash_step` slots of a growth under way first.
  void make_room(std::size_t rehash_step) {
    if (growing()) move_old_slots(rehash_step == 0 ? SIZE_MAX : rehash_step);
    if ((size_ + 1) * 4 <= table_.size() * 3) return;
    finish_growing();  // not done yet (tiny steps): done now
    start_growing(table_.size() < 16 ? 16 : table_.size() * 2);
    if (rehash_step == 0) finish_growing();
  }
  // REQUIRES: not growing.
  void start_growing(std::size_t capacity) {
    Table fresh;  // made first: on bad_alloc nothing has changed
    fresh.slots = util::ZeroedArray<std::uint64_t>(capacity);
    if (hints_enabled_) fresh.hints = util::ZeroedArray<std::uint32_t>(capacity);
    old_ = std::move(table_);
    table_ = std::move(fresh);
    next_old_ = 0;
    old_left_ = old_.size();
  }
  // Moves at least n slots of the old table (all that are left, at most),
  // then on to an empty one: a run is never left half moved, where a
  // lookup starting in its moved part would stop before the rest. (A run
  // that wraps past the last slot is no exception: the first step moves
  // its tail from slot 0, and the lookups of its head, at the end, stop
  // before slot 0.)
  void move_old_slots(std::size_t n) {
    bool at_run_end = false;
    for (std::size_t walked = 0; old_left_ > 0 && (walked < n || !at_run_end); ++walked, --old_left_) {
      const std::size_t k = next_old_;
      next_old_ = (k + 1) & old_.mask();
      const std::uint64_t w = old_.slots[k];
      at_run_end = w == kEmpty;
      if (at_run_end) continue;
      std::size_t i = tag_in(w) & table_.mask();
      while (table_.slots[i] != kEmpty) i = (i + 1) & table_.mask();
      table_.slots[i] = w;
      if (hints_enabled_) table_.hints[i] = old_.hints[k];
      old_.slots[k] = kEmpty;
    }
    if (old_left_ == 0) old_ = Table{};
  }
  void finish_growing() {
    if (growing()) move_old_slots(SIZE_MAX);
  }
  // Where a value's slot is: the table, or the old one while growing.
  struct Place {
    Table* table;
    std::size_t slot;
  };
  const Value& value_at(const Place& p) const { return value(code_of(p.table->slots[p.slot])); }
  // The slot holding `text`, added first when new (intern()'s probe).
  Place intern_place(std::string_view text, std::size_t rehash_step) {
    make_room(rehash_step);
    const std::uint32_t tag = tag_of(text);
    const std::size_t i = slot_of(table_, text, tag);
    if (table_.slots[i] != kEmpty) return {&table_, i};
    if (growing()) {
      if (const std::size_t j = slot_of(old_, text, tag); old_.slots[j] != kEmpty) return {&old_, j};
    }
    insert_at(i, tag, text);
    return {&table_, i};
  }
  // `text` into empty slot i with the next code (a freed one first).
  Value& insert_at(std::size_t i, std::uint32_t tag, std::string_view text) {
    std::uint32_t code;
    if (free_codes_.empty()) {
      code = next_code_;
      new (slot_for_new_code()) Value{Text(text), code, Payload{}};
      ++next_code_;
    } else {
      code = free_codes_.back();
      free_codes_.pop_back();
      Value& v = value(code);
      v.text.assign(text);
      v.code = code;
    }
    table_.slots[i] = slot_word(tag, code);
    if (hints_enabled_) table_.hints[i] = kNoHint;
    ++size_;
    return value(code);
  }
  static std::size_t chunk_size(std::size_t k) noexcept { return std::size_t{kFirstChunk} << k; }
  static std::pair<std::size_t, std::size_t> locate(std::uint32_t code) noexcept {
    const std::uint64_t n = std::uint64_t{code} / kFirstChunk + 1;
    const auto k = static_cast<std::size_t>(std::bit_width(n) - 1);
    return {k, code - kFirstChunk * ((std::uint64_t{1} << k) - 1)};
  }
  Value& value(std::uint32_t code) const noexcept {
    const auto [k, offset] = locate(code);
    return chunks_[k][offset];
  }
  // Raw storage for code next_code_ (its chunk allocated, not constructed,
  // on first use: untouched pages of a large chunk cost no memory).
  void* slot_for_new_code() {
    const auto [k, offset] = locate(next_code_);
    return chunk(k) + offset;
  }
  // Chunk k, allocated if it was not.
  Value* chunk(std::size_t k) {
    if (!chunks_[k]) {
      const std::size_t bytes = chunk_size(k) * sizeof(Value);
      // The large chunks (caseIds, clients, business keys) on huge pages:
      // util/huge_page_allocator.h.
      chunks_[k] = static_cast<Value*>(util::maps_huge(bytes) ? util::map_huge(bytes)
                                                                 : ::operator new(bytes, std::align_val_t{alignof(Value)}));
    }
    return chunks_[k];
  }
  void free_chunk(std::size_t k) noexcept {
    const std::size_t bytes = chunk_size(k) * sizeof(Value);
    if (util::maps_huge(bytes)) {
      util::unmap_huge(chunks_[k], bytes);
    } else {
      ::operator delete(chunks_[k], std::align_val_t{alignof(Value)});
    }
  }
  Table table_;
  Table old_;  // while growing: the slots not moved yet
  std::size_t next_old_ = 0;  // the next slot of old_ to move
  std::size_t old_left_ = 0;  // slots of old_ not walked yet
  bool hints_enabled_ = false;
  std::array<Value*, 27> chunks_{};    // 64 << 26 > 2^32 codes
  std::vector<std::uint32_t> free_codes_;
  std::uint32_t next_code_ = 0;
  std::size_t size_ = 0;
};

}  // namespace caserepo::engine
