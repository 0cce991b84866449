// A UUID's 16 bytes and its canonical text (8-4-4-4-12 hex digits, 36
// characters, letters all lowercase or all uppercase), both ways. Used by
// the caseId generator and by the dictionaries, which keep such a text as
// its 16 bytes (engine/value_text.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace caserepo::util {

inline constexpr std::size_t kUuidChars = 36;

namespace uuid_text_detail {

// Two hex digits per byte value, each case: a UUID renders in 16 copies of
// two bytes (a get renders the caseId it compared, then the one it returns).
using HexPairs = std::array<char, 512>;
constexpr HexPairs hex_pairs(const char* digits) {
  HexPairs out{};
  for (std::size_t v = 0; v < 256; ++v) {
    out[2 * v] = digits[v >> 4];
    out[2 * v + 1] = digits[v & 0xF];
  }
  return out;
}
inline constexpr HexPairs kLowerPairs = hex_pairs("0123456789abcdef");
inline constexpr HexPairs kUpperPairs = hex_pairs("0123456789ABCDEF");

}  // namespace uuid_text_detail

// Writes the 36 characters of the UUID `bytes` (16 of them) to `out`.
inline void format_uuid(const std::uint8_t* bytes, bool upper, char* out) noexcept {
  static constexpr std::uint8_t kAt[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
  const char* pairs = upper ? uuid_text_detail::kUpperPairs.data() : uuid_text_detail::kLowerPairs.data();
  for (std::size_t b = 0; b < 16; ++b) std::memcpy(out + kAt[b], pairs + 2 * bytes[b], 2);
  out[8] = out[13] = out[18] = out[23] = '-';
}

// Whether `text` is a canonical UUID (see above); if so, its 16 bytes and
// whether its letters are uppercase. Mixed case is not canonical.
inline bool parse_uuid(std::string_view text, std::uint8_t (&out)[16], bool& upper) noexcept {
  if (text.size() != kUuidChars) return false;
  bool seen_lower = false, seen_upper = false;
  std::size_t k = 0;
  for (std::size_t i = 0; i < kUuidChars; ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
      seen_lower = true;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
      seen_upper = true;
    } else {
      return false;
    }
    out[k / 2] = static_cast<std::uint8_t>(k % 2 == 0 ? v << 4 : out[k / 2] | v);
    ++k;
  }
  if (seen_lower && seen_upper) return false;
  upper = seen_upper;
  return true;
}

}  // namespace caserepo::util
