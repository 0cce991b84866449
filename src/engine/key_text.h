// KeyText: the text of a field dictionary's value (caseId, clientId,
// businessKey, and the few-valued fields) in 24 bytes. A canonical UUID —
// 36 characters, 8-4-4-4-12 hex digits, its letters all lowercase or all
// uppercase — is kept as its 16 bytes; a text of up to 22 bytes inline; a
// longer one on the heap.
//
// Issue #9 asks for caseIds that parse as UUIDs in 16 bytes. In ValueText
// (40 bytes, value_text.h) a UUID was inline, but every value of every
// field paid for 39 bytes of room: at 1M entries the 400k caseIds alone
// held 16 MB of it. Descriptions, often 23-39 bytes and never UUIDs, keep
// ValueText.
//
// A UUID's characters are not stored, so reading one writes them into room
// the caller gives (TextScratch, value_text.h); a comparison renders them
// (32 table lookups) and compares, which is exact: rendering gives back
// the text that was stored, letter case included.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "engine/value_text.h"

namespace caserepo::engine {
namespace key_text_detail {

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

}  // namespace key_text_detail

class KeyText {
 public:
  static constexpr std::size_t kInline = 22;
  static constexpr std::size_t kUuidChars = 36;

  KeyText() noexcept { bytes_[kTagByte] = 0; }
  explicit KeyText(std::string_view text) { set(text); }
  KeyText(const KeyText&) = delete;
  KeyText& operator=(const KeyText&) = delete;
  ~KeyText() { release(); }

  void assign(std::string_view text) {
    release();
    set(text);
  }
  // Frees a heap text: an erased value keeps no memory.
  void reset() noexcept {
    release();
    bytes_[kTagByte] = 0;
  }

  // The text, in `scratch` when it is a UUID (valid while both live).
  std::string_view view(TextScratch& scratch) const noexcept {
    const char tag = bytes_[kTagByte];
    if (tag == kUuidLower || tag == kUuidUpper) {
      render_uuid(tag == kUuidUpper, scratch.bytes);
      return {scratch.bytes, kUuidChars};
    }
    if (tag == kOnHeap) return {heap_data(), heap_size()};
    return {bytes_, static_cast<std::uint8_t>(tag)};
  }

  bool is_uuid() const noexcept { return bytes_[kTagByte] == kUuidLower || bytes_[kTagByte] == kUuidUpper; }
  // Bytes allocated for the text (0 when inline or a UUID).
  std::size_t heap_bytes() const noexcept { return bytes_[kTagByte] == kOnHeap ? heap_size() : 0; }

  friend bool operator==(const KeyText& a, std::string_view b) noexcept {
    TextScratch scratch;
    if (a.is_uuid()) {  // a fixed-size compare, inlined
      if (b.size() != kUuidChars) return false;
      a.render_uuid(a.bytes_[kTagByte] == kUuidUpper, scratch.bytes);
      return std::memcmp(scratch.bytes, b.data(), kUuidChars) == 0;
    }
    return a.view(scratch) == b;
  }

  // Whether `text` is a canonical UUID (see above); if so, its 16 bytes
  // and whether its letters are uppercase.
  static bool parse_uuid(std::string_view text, unsigned char (&out)[16], bool& upper) noexcept {
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
      if (k % 2 == 0) {
        out[k / 2] = static_cast<unsigned char>(v << 4);
      } else {
        out[k / 2] = static_cast<unsigned char>(out[k / 2] | v);
      }
      ++k;
    }
    if (seen_lower && seen_upper) return false;  // mixed case: kept as text, so it reads back as written
    upper = seen_upper;
    return true;
  }

 private:
  static constexpr std::size_t kTagByte = 23;  // an inline length (0..22), or one of:
  static constexpr char kUuidLower = static_cast<char>(0xFD);
  static constexpr char kUuidUpper = static_cast<char>(0xFE);
  static constexpr char kOnHeap = static_cast<char>(0xFF);

  void render_uuid(bool upper, char (&out)[kUuidChars]) const noexcept {
    static constexpr std::uint8_t kAt[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    const char* pairs = upper ? key_text_detail::kUpperPairs.data() : key_text_detail::kLowerPairs.data();
    for (std::size_t b = 0; b < 16; ++b) std::memcpy(out + kAt[b], pairs + 2 * static_cast<unsigned char>(bytes_[b]), 2);
    out[8] = out[13] = out[18] = out[23] = '-';
  }
  char* heap_data() const noexcept {
    char* data;
    std::memcpy(&data, bytes_, sizeof data);
    return data;
  }
  std::size_t heap_size() const noexcept {
    std::size_t size;
    std::memcpy(&size, bytes_ + sizeof(char*), sizeof size);
    return size;
  }
  void set(std::string_view text) {
    unsigned char uuid[16];
    bool upper = false;
    if (parse_uuid(text, uuid, upper)) {
      std::memcpy(bytes_, uuid, sizeof uuid);
      bytes_[kTagByte] = upper ? kUuidUpper : kUuidLower;
      return;
    }
    if (text.size() <= kInline) {
      if (!text.empty()) std::memcpy(bytes_, text.data(), text.size());
      bytes_[kTagByte] = static_cast<char>(text.size());
      return;
    }
    char* data = new char[text.size()];
    std::memcpy(data, text.data(), text.size());
    const std::size_t size = text.size();
    std::memcpy(bytes_, &data, sizeof data);
    std::memcpy(bytes_ + sizeof data, &size, sizeof size);
    bytes_[kTagByte] = kOnHeap;
  }
  void release() noexcept {
    if (bytes_[kTagByte] == kOnHeap) delete[] heap_data();
  }

  alignas(8) char bytes_[kTagByte + 1];
};

static_assert(sizeof(KeyText) == 24);

}  // namespace caserepo::engine
