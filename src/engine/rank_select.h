// Rank and select on a Roaring bitmap, as Roaring::rank and Roaring::select
// answer them, counting a bitset block's bits with the popcnt instruction
// where the CPU has one. Debian's CRoaring 0.2.66 is built for baseline
// x86-64 and counts them in software, a word at a time: the newest page of
// a common value (a select near the end of a dense block) cost ~5 µs.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/posting.h"

namespace caserepo::engine {

// The number of members ≤ x.
std::uint64_t rank(const Bitmap& bitmap, std::uint32_t x);

// The member with `rank` members below it; nullopt when there are not that
// many.
std::optional<std::uint32_t> select(const Bitmap& bitmap, std::uint64_t rank);

}  // namespace caserepo::engine
