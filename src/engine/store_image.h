// StoreImage: a Store's state as flat arrays — each field's distinct values
// once, then one code per entry and field, then the update order — the
// shape snapshot files hold (docs/format.md "Snapshots").
//
// Restoring from an image interns each distinct value once and builds every
// posting in bulk from sorted position lists; restoring from one
// StoredEntry per entry interned every string of every entry and added
// positions one at a time (see bench/notes.md "Snapshot v2").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/fields.h"
#include "engine/stored_entry.h"
#include "util/growable_array.h"

namespace caserepo::engine {

// Strings packed back to back: value i is bytes[ends[i-1], ends[i]).
struct TextColumn {
  std::string bytes;
  std::vector<std::uint64_t> ends;

  std::size_t size() const noexcept { return ends.size(); }
  std::string_view operator[](std::size_t i) const {
    const std::uint64_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
  void push_back(std::string_view s) {
    bytes += s;
    ends.push_back(bytes.size());
  }
};

struct StoreImage {
  StoreCounters counters;
  // Distinct values per field (index = code) and of statusDescription.
  std::array<TextColumn, kFieldCount> values;
  TextColumn descriptions;
  // Per entry, in creation order (slot order).
  std::vector<std::uint64_t> seq;
  std::vector<std::int64_t> creation_ms;
  std::array<std::vector<std::uint32_t>, kFieldCount> codes;  // kNoValue: null
  std::vector<std::uint32_t> description;                      // kNoValue: null
  // Per touch position, in update order: which entry, its touch_seq and update_ms.
  // (The store takes touch_slot over as it is, util/growable_array.h; the
  // keys go into the records.)
  util::GrowableArray<std::uint32_t> touch_slot;
  util::GrowableArray<std::uint64_t> touch_seq;
  util::GrowableArray<std::int64_t> touch_ms;

  std::size_t entry_count() const noexcept { return seq.size(); }
};

// The image of `entries` (in increasing seq). Never fails: check_image says
// whether the result is a state a Store can hold.
StoreImage image_of(std::span<const StoredEntry> entries, const StoreCounters& counters);

// The invariants Store::restore relies on, or what breaks them: arrays of
// matching lengths, valid values each used by some entry, codes in range
// (null only where allowed), seqs and dates in order and within the
// counters, the update order a permutation ordered by touch_seq. Values
// listed twice are left to Store::restore, which finds them as it interns.
std::optional<std::string> check_image(const StoreImage& image);

}  // namespace caserepo::engine
