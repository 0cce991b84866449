// A dictionary value's text, kept inside the value itself when it is short,
// on the heap otherwise. Two kinds:
//
// - ValueText (40 bytes): up to 39 bytes inline. Descriptions, often 23-39
//   bytes. (std::string keeps only 15 bytes inline, so every generated
//   caseId once cost a 48-byte allocation beside its value and every lookup
//   a second cache miss to compare the text.)
// - KeyText (20 bytes): the field dictionaries (caseId, clientId,
//   businessKey and the few-valued fields). A canonical UUID — 36
//   characters, 8-4-4-4-12 hex digits, its letters all lowercase or all
//   uppercase — is kept as its 16 bytes; other texts up to 19 bytes inline
//   (an 11-digit PESEL, a business key like "BK-42-123456").
//   Issue #9 asks for caseIds that parse as UUIDs in 16 bytes: with 39 bytes
//   of room for every value, a caseId value was 104 bytes (88 with KeyText;
//   56 once its posting shrank to 24 bytes, posting.h; 48 since KeyText is
//   20 bytes, not 24 with 22 inline: with the 4-byte code it fills the 24
//   bytes before the posting, where 4 were padding).
//
// A UUID's characters are not stored (util/uuid_text.h turns them into 16
// bytes and back), so reading one writes them into room the caller gives
// (TextScratch); a comparison renders them and compares,
// which is exact: rendering gives back the text that was stored, letter
// case included. Layout: the text (or a heap pointer and a length) first,
// and in the last byte its length, or kOnHeap, or a UUID's letter case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "util/uuid_text.h"

namespace caserepo::engine {

// Room for a text a value does not keep as characters (a KeyText's UUID),
// written when the text is read.
struct TextScratch {
  char bytes[util::kUuidChars];
};

template <std::size_t Inline, bool Uuids>
class BasicValueText {
 public:
  static constexpr std::size_t kInline = Inline;
  static constexpr std::size_t kUuidChars = util::kUuidChars;

  BasicValueText() noexcept { bytes_[kTagByte] = 0; }
  explicit BasicValueText(std::string_view text) { set(text); }
  BasicValueText(const BasicValueText&) = delete;
  BasicValueText& operator=(const BasicValueText&) = delete;
  ~BasicValueText() { release(); }

  void assign(std::string_view text) {
    release();
    set(text);
  }
  // Frees a heap text: an erased value keeps no memory.
  void reset() noexcept {
    release();
    bytes_[kTagByte] = 0;
  }

  // The text; in `scratch` when it is a UUID (valid while both live).
  std::string_view view(TextScratch& scratch) const noexcept {
    const char tag = bytes_[kTagByte];
    if (is_uuid()) {
      render_uuid(tag == kUuidUpper, scratch.bytes);
      return {scratch.bytes, kUuidChars};
    }
    if (tag == kOnHeap) return {heap_data(), heap_size()};
    return {bytes_, static_cast<std::uint8_t>(tag)};
  }

  // A text that is never a UUID is always held as characters.
  std::string_view view() const noexcept
    requires(!Uuids)
  {
    TextScratch unused;
    return view(unused);
  }
  operator std::string_view() const noexcept  // NOLINT: a text is used as one
    requires(!Uuids)
  {
    return view();
  }

  bool is_uuid() const noexcept {
    return Uuids && (bytes_[kTagByte] == kUuidLower || bytes_[kTagByte] == kUuidUpper);
  }
  // Bytes allocated for the text (0 when inline or a UUID).
  std::size_t heap_bytes() const noexcept { return bytes_[kTagByte] == kOnHeap ? heap_size() : 0; }

  friend bool operator==(const BasicValueText& a, std::string_view b) noexcept {
    TextScratch scratch;
    if (a.is_uuid()) {  // a fixed-size compare, inlined
      if (b.size() != kUuidChars) return false;
      a.render_uuid(a.bytes_[kTagByte] == kUuidUpper, scratch.bytes);
      return std::memcmp(scratch.bytes, b.data(), kUuidChars) == 0;
    }
    return a.view(scratch) == b;
  }

 private:
  static constexpr std::size_t kTagByte = Inline;  // an inline length (0..Inline), or one of:
  static constexpr char kUuidLower = static_cast<char>(0xFD);
  static constexpr char kUuidUpper = static_cast<char>(0xFE);
  static constexpr char kOnHeap = static_cast<char>(0xFF);
  static_assert(Inline < 0xFD && Inline >= 16);

  void render_uuid(bool upper, char (&out)[kUuidChars]) const noexcept {
    util::format_uuid(reinterpret_cast<const std::uint8_t*>(bytes_), upper, out);
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
    if constexpr (Uuids) {
      std::uint8_t uuid[16];
      bool upper = false;
      if (util::parse_uuid(text, uuid, upper)) {
        std::memcpy(bytes_, uuid, sizeof uuid);
        bytes_[kTagByte] = upper ? kUuidUpper : kUuidLower;
        return;
      }
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

  char bytes_[kTagByte + 1];  // a heap pointer and size are copied in and out: no alignment needed
};

using ValueText = BasicValueText<39, false>;
using KeyText = BasicValueText<19, true>;
static_assert(sizeof(ValueText) == 40);
static_assert(sizeof(KeyText) == 20);

}  // namespace caserepo::engine
