// The size of an intersection of several Roaring bitmaps, computed without
// materialising it (nor any pairwise intersection): container by container,
// bitsets ANDed word by word and popcounted, the smallest array or run
// probed against the others (galloping: each probe resumes where the
// previous one stopped, as the members come in order). Debian's CRoaring
// 0.2.66 has this only for two bitmaps (roaring_bitmap_and_cardinality); a
// search with three or four common values used to materialise the first
// ANDs, most of its time. Two bitmaps come here too: that build counts bits
// without the popcnt instruction (baseline x86-64) and tests an array's
// members against a bitset one dependent step at a time, most of a facet
// count's time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/posting.h"

namespace caserepo::engine {

// |b[0] ∩ b[1] ∩ ... ∩ b[n-1]|. REQUIRES: n ≥ 1.
std::uint64_t and_cardinality(std::span<const Bitmap* const> bitmaps);

// b[0] ∩ b[1] ∩ ... ∩ b[n-1], built container by container: bitsets ANDed
// word by word (CRoaring's own AND counts their bits without popcnt), the
// other kinds by CRoaring's container AND. REQUIRES: n ≥ 1.
Bitmap intersection(std::span<const Bitmap* const> bitmaps);

// Membership tests of values in one direction (ascending or descending)
// against one bitmap, each resuming where the previous one stopped: the
// container by galloping over the keys, the member by galloping within the
// container. A lazy intersection's walk tests every member of its smallest
// operand this way; Bitmap::contains binary-searched the whole container
// each time (a rare status and a rare caseType at 1M, 992 members walked
// against arrays of ~900 for 8 matches: 24 µs alone, 18 µs with this).
class MonotoneProbe {
 public:
  // `bitmap` must outlive the probe and not change while it is used.
  MonotoneProbe(const Bitmap& bitmap, bool descending);

  // REQUIRES: v not below (ascending) or not above (descending) the
  // previous call's.
  bool contains(std::uint32_t v);

 private:
  void load(std::int32_t index);

  const roaring_array_t& ra_;
  bool descending_;
  std::int32_t index_;         // the container at or past the last key asked for
  std::int32_t loaded_ = -1;   // the container data_ is
  const void* data_ = nullptr;
  std::uint8_t type_ = 0;
  std::int32_t at_ = 0;        // the position within it the last test stopped at
};

// column[m] for every member m of `members`, in the members' order: a run
// of members is one contiguous copy (a date range's matches are mostly
// runs), where CRoaring would list the members and each be looked up.
// REQUIRES: every member < column.size().
std::vector<std::uint32_t> gather(const Bitmap& members, std::span<const std::uint32_t> column);

}  // namespace caserepo::engine
