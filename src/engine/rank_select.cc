#include "engine/rank_select.h"

#include <bit>

#include <roaring/containers/containers.h>

#include "util/cpu_features.h"

namespace caserepo::engine {
namespace {

// Set bits in words[0, n).
[[gnu::always_inline]] inline std::uint64_t count_bits_body(const std::uint64_t* words, std::uint32_t n) {
  std::uint64_t c = 0;
  for (std::uint32_t w = 0; w < n; ++w) c += static_cast<std::uint64_t>(std::popcount(words[w]));
  return c;
}
// The position of the set bit with k set bits below it. REQUIRES: k below
// the number of set bits in words[0, 1024).
[[gnu::always_inline]] inline std::uint32_t select_bit_body(const std::uint64_t* words, std::uint64_t k) {
  for (std::uint32_t w = 0;; ++w) {
    const auto c = static_cast<std::uint64_t>(std::popcount(words[w]));
    if (k < c) {
      std::uint64_t bits = words[w];
      for (; k > 0; --k) bits &= bits - 1;
      return w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits));
    }
    k -= c;
  }
}
// Each built twice, the CPU picks (util/cpu_features.h).
__attribute__((target("popcnt"))) std::uint64_t count_bits_popcnt(const std::uint64_t* words, std::uint32_t n) {
  return count_bits_body(words, n);
}
__attribute__((target("popcnt"))) std::uint32_t select_bit_popcnt(const std::uint64_t* words, std::uint64_t k) {
  return select_bit_body(words, k);
}
std::uint64_t count_bits(const std::uint64_t* words, std::uint32_t n) {
  return util::has_popcnt() ? count_bits_popcnt(words, n) : count_bits_body(words, n);
}
std::uint32_t select_bit(const std::uint64_t* words, std::uint64_t k) {
  return util::has_popcnt() ? select_bit_popcnt(words, k) : select_bit_body(words, k);
}

}  // namespace

std::uint64_t rank(const Bitmap& bitmap, std::uint32_t x) {
  const roaring_array_t& ra = bitmap.roaring.high_low_container;
  const auto key = static_cast<std::uint16_t>(x >> 16);
  const auto low = static_cast<std::uint16_t>(x);
  std::uint64_t n = 0;
  for (std::int32_t i = 0; i < ra.size && ra.keys[i] <= key; ++i) {
    std::uint8_t type = ra.typecodes[i];
    const void* c = container_unwrap_shared(ra.containers[i], &type);
    if (ra.keys[i] < key) {
      n += static_cast<std::uint64_t>(container_get_cardinality(c, type));
    } else if (type == BITSET_CONTAINER_TYPE_CODE) {
      const std::uint64_t* words = static_cast<const bitset_container_t*>(c)->array;
      const std::uint64_t up_to_low = ~std::uint64_t{0} >> (63 - (low & 63));  // bits 0..low%64
      n += count_bits(words, low >> 6) + static_cast<std::uint64_t>(std::popcount(words[low >> 6] & up_to_low));
    } else {
      n += static_cast<std::uint64_t>(container_rank(c, type, low));
    }
  }
  return n;
}

std::optional<std::uint32_t> select(const Bitmap& bitmap, std::uint64_t rank) {
  const roaring_array_t& ra = bitmap.roaring.high_low_container;
  for (std::int32_t i = 0; i < ra.size; ++i) {
    std::uint8_t type = ra.typecodes[i];
    const void* c = container_unwrap_shared(ra.containers[i], &type);
    const auto card = static_cast<std::uint64_t>(container_get_cardinality(c, type));
    if (rank >= card) {
      rank -= card;
      continue;
    }
    const std::uint32_t high = std::uint32_t{ra.keys[i]} << 16;
    if (type == BITSET_CONTAINER_TYPE_CODE) return high | select_bit(static_cast<const bitset_container_t*>(c)->array, rank);
    std::uint32_t start = 0, element = 0;
    container_select(c, type, &start, static_cast<std::uint32_t>(rank), &element);
    return high | element;
  }
  return std::nullopt;
}

}  // namespace caserepo::engine
