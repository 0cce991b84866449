#include "engine/store_image.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "caserepo/requests.h"
#include "engine/validation.h"
#include "util/two_at_a_time.h"

namespace caserepo::engine {
namespace {

// Positions are 32-bit, and the Store compacts well before they run out.
constexpr std::uint64_t kMaxEntries = (std::uint64_t{1} << 32) - (std::uint64_t{1} << 24);

class Interner {
 public:
  explicit Interner(TextColumn& column) : column_(column) {}
  std::uint32_t code(std::string_view text) {
    auto [it, added] = codes_.try_emplace(text, static_cast<std::uint32_t>(column_.size()));
    if (added) column_.push_back(text);
    return it->second;
  }

 private:
  TextColumn& column_;
  std::unordered_map<std::string_view, std::uint32_t> codes_;  // views into the entries
};

bool nullable(Field f) { return f == Field::kBusinessKey || f == Field::kSource; }

// Valid strings, each used (used[i] != 0), packed consistently. (That
// they are distinct, Store::restore finds as it interns them.)
std::optional<std::string> check_column(const TextColumn& column, std::string_view name, std::size_t max_bytes,
                                        const std::vector<std::uint8_t>& used) {
  if (!column.ends.empty() && column.ends.back() != column.bytes.size()) return std::string(name) + " values are packed wrongly";
  std::uint64_t previous_end = 0;
  for (std::size_t i = 0; i < column.size(); ++i) {
    if (column.ends[i] < previous_end) return std::string(name) + " values are packed wrongly";
    previous_end = column.ends[i];
    const std::string_view text = column[i];
    if (check_text(name, text, max_bytes)) return "invalid " + std::string(name) + " value";
    if (!used[i]) return std::string(name) + " value used by no entry";
  }
  return std::nullopt;
}

// Marks each code's value used; false on a code out of range (or a null
// where none is allowed).
bool mark_used(const std::vector<std::uint32_t>& codes, std::size_t value_count, bool may_be_null,
               std::vector<std::uint8_t>& used) {
  used.assign(value_count, 0);
  for (std::uint32_t c : codes) {
    if (c == kNoValue) {
      if (!may_be_null) return false;
    } else if (c >= value_count) {
      return false;
    } else {
      used[c] = 1;
    }
  }
  return true;
}

}  // namespace

StoreImage image_of(std::span<const StoredEntry> entries, const StoreCounters& counters) {
  StoreImage image;
  image.counters = counters;
  const std::size_t n = entries.size();
  image.seq.reserve(n);
  image.creation_ms.reserve(n);
  for (const StoredEntry& e : entries) {
    image.seq.push_back(e.seq);
    image.creation_ms.push_back(e.creation_ms);
  }
  // One column at a time, two at once (each has its own interner).
  using ValueOf = std::optional<std::string_view> (*)(const StoredEntry&);
  using V = std::optional<std::string_view>;
  static constexpr ValueOf kValueOf[kFieldCount + 1] = {
      [](const StoredEntry& e) -> V { return e.caseId; },
      [](const StoredEntry& e) -> V { return e.businessKey; },
      [](const StoredEntry& e) -> V { return e.caseType; },
      [](const StoredEntry& e) -> V { return e.clientId; },
      [](const StoredEntry& e) -> V { return e.clientType; },
      [](const StoredEntry& e) -> V { return e.status; },
      [](const StoredEntry& e) -> V { return e.source; },
      [](const StoredEntry& e) -> V { return e.statusDescription; },
  };
  util::run_two_at_a_time(kFieldCount + 1, [&](std::size_t column) {
    const bool description = column == kFieldCount;
    Interner interner(description ? image.descriptions : image.values[column]);
    std::vector<std::uint32_t>& codes = description ? image.description : image.codes[column];
    codes.reserve(n);
    for (const StoredEntry& e : entries) {
      const V v = kValueOf[column](e);
      codes.push_back(v ? interner.code(*v) : kNoValue);
    }
  });

  // Update order: by touch_seq (ties, which check_image rejects, by slot).
  image.touch_slot.resize(n);
  std::iota(image.touch_slot.begin(), image.touch_slot.end(), 0u);
  std::stable_sort(image.touch_slot.begin(), image.touch_slot.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return entries[a].touch_seq < entries[b].touch_seq; });
  image.touch_seq.reserve(n);
  image.touch_ms.reserve(n);
  for (std::uint32_t slot : image.touch_slot) {
    image.touch_seq.push_back(entries[slot].touch_seq);
    image.touch_ms.push_back(entries[slot].update_ms);
  }
  return image;
}

std::optional<std::string> check_image(const StoreImage& image) {
  const std::size_t n = image.seq.size();
  if (n > kMaxEntries) return "more entries than a store holds";
  bool sizes_match = image.creation_ms.size() == n && image.description.size() == n && image.touch_slot.size() == n &&
                     image.touch_seq.size() == n && image.touch_ms.size() == n;
  for (const auto& codes : image.codes) sizes_match = sizes_match && codes.size() == n;
  if (!sizes_match) return "entry arrays of different lengths";

  std::vector<std::uint8_t> used;
  for (Field f : kAllFields) {
    const auto& column = image.values[index_of(f)];
    if (!mark_used(image.codes[index_of(f)], column.size(), nullable(f), used)) {
      return std::string(field_name(f)) + " code out of range";
    }
    if (auto bad = check_column(column, field_name(f), kMaxFieldBytes, used)) return bad;
  }
  if (!mark_used(image.description, image.descriptions.size(), true, used)) return "statusDescription code out of range";
  if (auto bad = check_column(image.descriptions, "statusDescription", kMaxDescriptionBytes, used)) return bad;

  const StoreCounters& c = image.counters;
  for (std::size_t i = 0; i < n; ++i) {
    if (image.seq[i] == 0 || image.seq[i] >= c.next_seq) return "entry seq beyond the counters";
    if (i > 0 && (image.seq[i] <= image.seq[i - 1] || image.creation_ms[i] < image.creation_ms[i - 1])) {
      return "entries out of creation order";
    }
  }
  std::vector<std::uint8_t> seen(n, 0);
  for (std::size_t t = 0; t < n; ++t) {
    const std::uint32_t slot = image.touch_slot[t];
    if (slot >= n || seen[slot]) return "update order is not a permutation of the entries";
    seen[slot] = 1;
    if (image.touch_seq[t] == 0 || image.touch_seq[t] >= c.next_touch_seq || image.touch_ms[t] > c.last_stamp_ms ||
        image.touch_ms[t] < image.creation_ms[slot]) {
      return "entry update beyond the counters or before its creation";
    }
    if (t > 0 && (image.touch_seq[t] <= image.touch_seq[t - 1] || image.touch_ms[t] < image.touch_ms[t - 1])) {
      return "entries out of update order";
    }
  }
  return std::nullopt;
}

}  // namespace caserepo::engine
