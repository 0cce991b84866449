// ValueText: a dictionary value's text, kept inside the value itself when it
// is at most kInline bytes (a canonical UUID caseId, 36 bytes, fits), on the
// heap otherwise.
//
// std::string keeps only 15 bytes inline, so every generated caseId cost a
// 48-byte allocation beside its dictionary value, and every lookup by
// caseId a second cache miss to compare the text. Here the text shares the
// value's cache line. 40 bytes: the text (or a heap pointer and a length)
// in the first 39, and in the last one its length, or kOnHeap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace caserepo::engine {

// Room for a text a dictionary value does not keep as characters (a UUID
// kept as 16 bytes, key_text.h), written when the text is read.
struct TextScratch {
  char bytes[36];
};

class ValueText {
 public:
  static constexpr std::size_t kInline = 39;

  ValueText() noexcept { bytes_[kInline] = 0; }
  explicit ValueText(std::string_view text) { set(text); }
  ValueText(const ValueText&) = delete;
  ValueText& operator=(const ValueText&) = delete;
  ~ValueText() { release(); }

  void assign(std::string_view text) {
    release();
    set(text);
  }
  // Frees a heap text: an erased value keeps no memory.
  void reset() noexcept {
    release();
    bytes_[kInline] = 0;
  }

  std::string_view view() const noexcept {
    if (!on_heap()) return {bytes_, static_cast<std::uint8_t>(bytes_[kInline])};
    return {heap_data(), heap_size()};
  }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: a text is used as one
  // As KeyText's (key_text.h): a ValueText always holds its characters.
  std::string_view view(TextScratch&) const noexcept { return view(); }

  // Bytes allocated for the text (0 when inline).
  std::size_t heap_bytes() const noexcept { return on_heap() ? heap_size() : 0; }

  friend bool operator==(const ValueText& a, std::string_view b) noexcept { return a.view() == b; }

 private:
  static constexpr char kOnHeap = static_cast<char>(0xFF);

  bool on_heap() const noexcept { return bytes_[kInline] == kOnHeap; }
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
    if (text.size() <= kInline) {
      if (!text.empty()) std::memcpy(bytes_, text.data(), text.size());
      bytes_[kInline] = static_cast<char>(text.size());
      return;
    }
    char* data = new char[text.size()];
    std::memcpy(data, text.data(), text.size());
    const std::size_t size = text.size();
    std::memcpy(bytes_, &data, sizeof data);
    std::memcpy(bytes_ + sizeof data, &size, sizeof size);
    bytes_[kInline] = kOnHeap;
  }
  void release() noexcept {
    if (on_heap()) delete[] heap_data();
  }

  alignas(8) char bytes_[kInline + 1];
};

static_assert(sizeof(ValueText) == 40);
static_assert(ValueText::kInline < 0xFF, "the last byte holds an inline length or kOnHeap");

}  // namespace caserepo::engine
