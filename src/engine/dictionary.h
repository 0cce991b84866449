// Dictionary: a field's distinct values, each with a 32-bit code and a
// payload (its Posting, or a reference count).
//
// Values live in an array by code (codes of erased values are reused, so it
// stays dense): turning a stored entry back into strings is one indexed
// load per field, the hot path of get and search. The array grows in chunks
// that never move, so a Value's address is stable for its life. A text of
// up to 39 bytes (a generated caseId) lives inside its Value (ValueText).
//
// Text -> code goes through an open-addressed table of 8-byte slots (32 bits
// of the text's hash, the code), linear probing, deletion by backward shift:
// a lookup reads one or two slots of one cache line, then the one candidate
// value whose hash bits match; growing rehashes from the slots alone,
// without touching a value. (A node-based hash set cost a bucket, a node and
// two links per value — ~50 bytes — and a cache miss more per lookup.)
//
// Hints (optional, enable_hints()): a 32-bit word per value, kept in an
// array beside the table at its slot's index, so a lookup learns it before
// it reads the value to compare texts. The caseId dictionary keeps each
// case's newest entry there: get can then read that entry's record while
// it compares the caseId's text, instead of after it (one dependent cache
// miss less; bench/notes.md, stop 29).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/value_text.h"
#include "util/huge_page_allocator.h"

namespace caserepo::engine {

template <class Payload>
class Dictionary {
 public:
  struct Value {
    ValueText text;
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
    const std::size_t i = slot_of(text, tag_of(text));
    return table_[i] == kEmpty ? nullptr : &value(static_cast<std::uint32_t>(table_[i]));
  }
  // nullptr for a code never given or freed.
  const Value* find(std::uint32_t code) const {
    if (code >= next_code_) return nullptr;
    const Value& v = value(code);
    return v.code == code ? &v : nullptr;
  }
  // REQUIRES: the code exists.
  const Value& at(std::uint32_t code) const { return value(code); }

  // --- hints -----------------------------------------------------------------
  static constexpr std::uint32_t kNoHint = ~std::uint32_t{0};
  // From now on every value has a hint, kNoHint until set.
  void enable_hints() {
    hints_enabled_ = true;
    hints_.assign(table_.size(), kNoHint);
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
    for (std::size_t i = tag & mask(); table_[i] != kEmpty; i = (i + 1) & mask()) {
      if (static_cast<std::uint32_t>(table_[i] >> 32) != tag) continue;
      const std::uint32_t hint = hints_[i];
      on_candidate(hint);
      const Value& v = value(static_cast<std::uint32_t>(table_[i]));
      if (v.text == text) return {&v, hint};
    }
    return {nullptr, kNoHint};
  }
  // REQUIRES: hints enabled; `text` there.
  void set_hint(std::string_view text, std::uint32_t hint) { hints_[slot_of(text, tag_of(text))] = hint; }
  // Every value's hint from its code: value c gets by_code[c]. REQUIRES:
  // hints enabled; by_code.size() >= code_bound(). (Bulk building: one
  // pass over the table, no text hashed again.)
  void set_hints(std::span<const std::uint32_t> by_code) {
    for (std::size_t i = 0; i < table_.size(); ++i) {
      if (table_[i] != kEmpty) hints_[i] = by_code[static_cast<std::uint32_t>(table_[i])];
    }
  }

  // The value for `text`, added with an empty payload when new (one probe).
  const Value& intern(std::string_view text) {
    make_room();
    const std::uint32_t tag = tag_of(text);
    const std::size_t i = slot_of(text, tag);
    return table_[i] == kEmpty ? insert_at(i, tag, text) : value(static_cast<std::uint32_t>(table_[i]));
  }

  // Adds `text` with the next code (a freed one first); nullptr when it is
  // already there. Bulk loading of distinct values calls it directly.
  const Value* add(std::string_view text) {
    make_room();
    const std::uint32_t tag = tag_of(text);
    const std::size_t i = slot_of(text, tag);
    return table_[i] == kEmpty ? &insert_at(i, tag, text) : nullptr;
  }

  void erase(std::uint32_t code) {
    if (find(code) == nullptr) return;
    Value& v = value(code);
    std::size_t i = tag_of(v.text) & mask();
    while (static_cast<std::uint32_t>(table_[i]) != code) i = (i + 1) & mask();
    // Backward shift: pull later slots of the run into the hole, so that no
    // lookup meets an empty slot before its value.
    for (std::size_t j = (i + 1) & mask(); table_[j] != kEmpty; j = (j + 1) & mask()) {
      const std::size_t home = static_cast<std::uint32_t>(table_[j] >> 32) & mask();
      if (((j - home) & mask()) >= ((j - i) & mask())) {  // home not in (i, j]: may move to i
        table_[i] = table_[j];
        if (hints_enabled_) hints_[i] = hints_[j];
        i = j;
      }
    }
    table_[i] = kEmpty;
    if (hints_enabled_) hints_[i] = kNoHint;
    v.text.reset();
    v.code = kFree;
    v.payload = Payload{};
    free_codes_.push_back(code);
    --size_;
  }

  std::size_t size() const noexcept { return size_; }
  // One past the highest code ever given (codes of erased values included).
  std::uint32_t code_bound() const noexcept { return next_code_; }
  void reserve(std::size_t n) {
    std::size_t want = 16;
    while (n * 4 > want * 3) want *= 2;
    if (want > table_.size()) grow(want);
  }
  // Bytes of the table and the value array (texts and payloads' own heap not included).
  std::size_t heap_bytes() const {
    std::size_t chunk_bytes = 0;
    for (std::size_t k = 0; k < chunks_.size() && chunks_[k]; ++k) chunk_bytes += chunk_size(k) * sizeof(Value);
    return table_.capacity() * sizeof(std::uint64_t) + hints_.capacity() * sizeof(std::uint32_t) + chunk_bytes +
           free_codes_.capacity() * sizeof(std::uint32_t);
  }

  // In code order.
  template <class F>
  void for_each(F&& f) const {
    for (std::uint32_t c = 0; c < next_code_; ++c) {
      if (const Value& v = value(c); v.code == c) f(v);
    }
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static constexpr std::uint32_t kFree = ~std::uint32_t{0};
  // Chunk k holds kFirstChunk << k values, from code kFirstChunk * (2^k - 1).
  static constexpr std::uint32_t kFirstChunk = 64;

  static std::uint32_t tag_of(std::string_view text) noexcept {
    return static_cast<std::uint32_t>(std::hash<std::string_view>{}(text) >> 32);
  }
  std::size_t mask() const noexcept { return table_.size() - 1; }
  // REQUIRES: a table. The slot holding `text`, or the empty slot ending its probe run.
  std::size_t slot_of(std::string_view text, std::uint32_t tag) const {
    std::size_t i = tag & mask();
    for (; table_[i] != kEmpty; i = (i + 1) & mask()) {
      if (static_cast<std::uint32_t>(table_[i] >> 32) == tag && value(static_cast<std::uint32_t>(table_[i])).text == text) {
        break;
      }
    }
    return i;
  }
  // Room in the table for one more value (at most 3/4 full).
  void make_room() {
    if ((size_ + 1) * 4 > table_.size() * 3) grow(table_.size() < 16 ? 16 : table_.size() * 2);
  }
  // `text` into empty slot i with the next code (a freed one first).
  Value& insert_at(std::size_t i, std::uint32_t tag, std::string_view text) {
    std::uint32_t code;
    if (free_codes_.empty()) {
      code = next_code_;
      new (slot_for_new_code()) Value{ValueText(text), code, Payload{}};
      ++next_code_;
    } else {
      code = free_codes_.back();
      free_codes_.pop_back();
      Value& v = value(code);
      v.text.assign(text);
      v.code = code;
    }
    table_[i] = (std::uint64_t{tag} << 32) | code;  // hints_[i] is kNoHint already (an empty slot's)
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
    if (!chunks_[k]) {
      const std::size_t bytes = chunk_size(k) * sizeof(Value);
      // The large chunks (caseIds, clients, business keys) on huge pages:
      // util/huge_page_allocator.h.
      chunks_[k] = static_cast<Value*>(util::maps_huge(bytes) ? util::map_huge(bytes)
                                                                 : ::operator new(bytes, std::align_val_t{alignof(Value)}));
    }
    return chunks_[k] + offset;
  }
  void free_chunk(std::size_t k) noexcept {
    const std::size_t bytes = chunk_size(k) * sizeof(Value);
    if (util::maps_huge(bytes)) {
      util::unmap_huge(chunks_[k], bytes);
    } else {
      ::operator delete(chunks_[k], std::align_val_t{alignof(Value)});
    }
  }
  void grow(std::size_t capacity) {
    util::LargeVector<std::uint64_t> old(capacity, kEmpty);
    old.swap(table_);
    util::LargeVector<std::uint32_t> old_hints;
    if (hints_enabled_) {
      old_hints.assign(capacity, kNoHint);
      old_hints.swap(hints_);
    }
    for (std::size_t k = 0; k < old.size(); ++k) {
      const std::uint64_t s = old[k];
      if (s == kEmpty) continue;
      std::size_t i = static_cast<std::uint32_t>(s >> 32) & mask();
      while (table_[i] != kEmpty) i = (i + 1) & mask();
      table_[i] = s;
      if (hints_enabled_) hints_[i] = old_hints[k];
    }
  }

  util::LargeVector<std::uint64_t> table_;  // (hash bits << 32) | code, or kEmpty; size a power of two
  util::LargeVector<std::uint32_t> hints_;  // beside table_, when enabled
  bool hints_enabled_ = false;
  std::array<Value*, 27> chunks_{};    // 64 << 26 > 2^32 codes
  std::vector<std::uint32_t> free_codes_;
  std::uint32_t next_code_ = 0;
  std::size_t size_ = 0;
};

}  // namespace caserepo::engine
