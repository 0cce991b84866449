#include "engine/store.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <numeric>
#include <utility>

#include "util/two_at_a_time.h"

namespace caserepo::engine {
namespace {

// Rebuild well before 32-bit positions run out.
constexpr std::uint64_t kPositionLimit = (std::uint64_t{1} << 32) - (std::uint64_t{1} << 24);

Timestamp to_timestamp(std::int64_t ms) { return Timestamp(std::chrono::milliseconds(ms)); }

// Largest first: caseId has nearly a value per entry.
constexpr std::array<Field, kFieldCount> kBuildOrder = {Field::kCaseId,   Field::kBusinessKey, Field::kClientId,
                                                        Field::kStatus,   Field::kCaseType,    Field::kClientType,
                                                        Field::kSource};

}  // namespace

Store::Store() { dicts_[index_of(Field::kCaseId)].enable_hints(); }

std::optional<std::string> Store::joined_case(const CreateRequest& request) const {
  if (request.caseId) return request.caseId;
  if (request.businessKey) {
    if (const auto* v = dicts_[index_of(Field::kBusinessKey)].find(*request.businessKey)) {
      const EntryRecord& newest = slots_[v->payload.last_slot()];
      TextScratch scratch;
      return std::string(dicts_[index_of(Field::kCaseId)].at(newest.code(Field::kCaseId)).text.view(scratch));
    }
  }
  return std::nullopt;
}

bool Store::conflicts(std::string_view caseId, std::string_view clientId, std::string_view caseType) const {
  const std::optional<std::uint32_t> newest = newest_slot(caseId);
  if (!newest) return false;
  const EntryRecord& r = slots_[*newest];
  return dicts_[index_of(Field::kClientId)].at(r.code(Field::kClientId)).text != clientId ||
         dicts_[index_of(Field::kCaseType)].at(r.code(Field::kCaseType)).text != caseType;
}

const Posting* Store::case_entries(std::string_view caseId) const {
  const auto* v = dicts_[index_of(Field::kCaseId)].find(caseId);
  return v ? &v->payload : nullptr;
}

std::optional<std::uint32_t> Store::newest_slot(std::string_view caseId) const {
  const auto found = dicts_[index_of(Field::kCaseId)].find_hinted(caseId, [&](std::uint32_t slot) {
    if (slot < slots_.size()) prefetch(slot);  // a candidate's hint: not checked yet
  });
  if (found.value == nullptr) return std::nullopt;
  assert(found.hint == found.value->payload.last_slot());
  return found.hint;
}

std::uint32_t Store::new_touch(std::uint32_t slot) {
  touch_slot_.push_back(slot);
  return static_cast<std::uint32_t>(touch_slot_.size() - 1);
}

Store::UpdateKeys Store::update_keys_at(std::uint32_t p) const {
  const Compaction& c = compaction_[static_cast<int>(Space::kUpdate)];
  if (p >= c.write && p < c.read) return {c.gap_key, c.gap_ms};
  std::uint32_t slot = touch_slot_[p];
  if (slot == kTombstone) {
    // Keys ascend over the live positions, so the next one's keys keep the
    // order: at least every key before, at most every key after.
    roaring_uint32_iterator_t it;
    roaring_init_iterator(&live_.in(Space::kUpdate).roaring, &it);
    if (!roaring_move_uint32_iterator_equalorlarger(&it, p)) {
      return {next_touch_seq_, last_stamp_};  // none: at least every key so far, at most every key to come
    }
    // Past a compaction's gap (tombstones below its write cursor): the
    // gap's keys, which are at most those after it.
    if (p < c.write && it.current_value >= c.write) return {c.gap_key, c.gap_ms};
    slot = touch_slot_[it.current_value];
  }
  const EntryRecord& r = slots_[slot];
  return {r.touch_seq, r.update_ms};
}

std::uint32_t Store::intern_nullable(Field f, const std::optional<std::string>& text) {
  return text ? intern(f, std::string_view(*text)) : kNoValue;
}

std::uint32_t Store::intern_description(const std::optional<std::string>& text) {
  if (!text) return kNoValue;
  const auto& v = descriptions_.intern(*text, tuning_.rehash_step);
  ++v.payload;
  return v.code;
}

void Store::intern_fields(EntryRecord& r, const CreateRequest& request) {
  r.codes[index_of(Field::kBusinessKey)] = intern_nullable(Field::kBusinessKey, request.businessKey);
  r.codes[index_of(Field::kCaseType)] = intern(Field::kCaseType, *request.caseType);
  r.codes[index_of(Field::kClientId)] = intern(Field::kClientId, request.clientId);
  r.codes[index_of(Field::kClientType)] = intern(Field::kClientType, request.clientType);
  r.codes[index_of(Field::kStatus)] = intern(Field::kStatus, request.status);
  r.codes[index_of(Field::kSource)] = intern_nullable(Field::kSource, request.source);
  r.description = intern_description(request.statusDescription);
}

void Store::release_description(std::uint32_t code) {
  if (code == kNoValue) return;
  const auto& v = descriptions_.at(code);
  if (--v.payload == 0) descriptions_.erase(code);
}

void Store::index(std::uint32_t slot, bool current) {
  const EntryRecord& r = slots_[slot];
  const std::uint32_t touch = slot_touch_[slot];
  for (Field f : kAllFields) {
    if (r.code(f) == kNoValue) continue;
    dicts_[index_of(f)].at(r.code(f)).payload.add(slot, touch, touches());
  }
  live_.add(slot, touch);
  if (current) current_.add(slot, touch);
}

void Store::unindex(std::uint32_t slot) {
  const EntryRecord& r = slots_[slot];
  const std::uint32_t touch = slot_touch_[slot];
  for (Field f : kAllFields) {
    if (r.code(f) == kNoValue) continue;
    dicts_[index_of(f)].at(r.code(f)).payload.remove(slot, touch);
  }
  live_.remove(slot, touch);
  current_.remove(slot, touch);
}

std::uint32_t Store::insert(const CreateRequest& request, std::int64_t stamp_ms) {
  assert(request.caseId && request.caseType);
  assert(stamp_ms >= last_stamp_);
  last_stamp_ = stamp_ms;
  maybe_rebuild();

  const auto slot = static_cast<std::uint32_t>(slots_.size());
  EntryRecord r;
  r.seq = next_seq_++;
  r.touch_seq = next_touch_seq_++;
  r.creation_ms = stamp_ms;
  r.update_ms = stamp_ms;
  slot_touch_.push_back(new_touch(slot));
  // One probe for the caseId: its code, and its hint (the case's newest
  // entry) moved to this entry.
  const auto [case_value, previous] =
      dicts_[index_of(Field::kCaseId)].intern_exchanging_hint(*request.caseId, slot, tuning_.rehash_step);
  r.codes[index_of(Field::kCaseId)] = case_value.code;
  // The case's previous current entry steps down.
  if (previous != FieldDictionary::kNoHint) current_.remove(previous, slot_touch_[previous]);
  intern_fields(r, request);
  slots_.push_back(r);
  index(slot, /*current=*/true);
  ++live_count_;
  return slot;
}

void Store::reserve_more(std::size_t n) {
  slots_.reserve(slots_.size() + n);
  slot_touch_.reserve(slot_touch_.size() + n);
  touch_slot_.reserve(touch_slot_.size() + n);
  dicts_[index_of(Field::kCaseId)].reserve(dicts_[index_of(Field::kCaseId)].size() + n);
}

namespace {
// The next n elements' room in v's capacity.
template <class Vector>
std::span<const std::byte> next_room(const Vector& v, std::size_t n) {
  return std::as_bytes(std::span<const typename Vector::value_type>(v.data() + v.size(), std::min(n, v.capacity() - v.size())));
}
// The table of `dict`, and the next values that `entries` more entries will
// add to it at its rate so far (a quarter more; none before there is a rate).
template <class Dict>
void add_value_room(Dict& dict, std::size_t entries, std::size_t entries_so_far,
                    std::vector<std::span<const std::byte>>& room) {
  for (auto r : dict.table_room()) {
    if (!r.empty()) room.push_back(r);
  }
  if (entries_so_far == 0) return;
  const std::uint64_t values = std::uint64_t{dict.code_bound()} * entries / entries_so_far * 5 / 4;
  for (auto r : dict.room_for(static_cast<std::uint32_t>(std::min<std::uint64_t>(values, entries)))) room.push_back(r);
}
}  // namespace

std::vector<std::span<const std::byte>> Store::room_for(std::size_t entries) {
  std::vector<std::span<const std::byte>> room = {next_room(slots_, entries), next_room(slot_touch_, entries),
                                                  next_room(touch_slot_, entries)};
  for (auto& dict : dicts_) add_value_room(dict, entries, slots_.size(), room);
  add_value_room(descriptions_, entries, slots_.size(), room);
  return room;
}

void Store::update(std::string_view caseId, const Patch& patch, std::int64_t stamp_ms) {
  assert(stamp_ms >= last_stamp_);
  last_stamp_ = stamp_ms;
  maybe_rebuild();

  std::vector<std::uint32_t> members;
  case_entries(caseId)->for_each_slot([&](std::uint32_t s) { members.push_back(s); });
  const std::uint32_t newest = members.back();
  // Values are interned before any entry is unindexed, so a value the case
  // is leaving cannot be erased and re-coded half way through.
  std::optional<std::uint32_t> set[kFieldCount];
  auto change = [&](Field f, const std::optional<std::string>& text) {
    set[index_of(f)] = intern_nullable(f, text);
  };
  if (patch.caseType) change(Field::kCaseType, patch.caseType);
  if (patch.clientId) change(Field::kClientId, patch.clientId);
  if (patch.clientType) change(Field::kClientType, patch.clientType);
  if (patch.status) change(Field::kStatus, patch.status);
  if (patch.businessKey) change(Field::kBusinessKey, *patch.businessKey);
  if (patch.source) change(Field::kSource, *patch.source);

  // Empty postings are erased at the end, once no entry refers to them.
  std::vector<std::pair<Field, std::uint32_t>> left;
  for (std::uint32_t slot : members) {
    unindex(slot);
    EntryRecord& r = slots_[slot];
    for (Field f : kAllFields) {
      const auto& code = set[index_of(f)];
      if (!code || *code == r.code(f)) continue;
      if (r.code(f) != kNoValue) left.emplace_back(f, r.code(f));
      r.codes[index_of(f)] = *code;
    }
    if (patch.statusDescription) {
      release_description(r.description);
      r.description = intern_description(*patch.statusDescription);
    }
    touch_slot_[slot_touch_[slot]] = kTombstone;
    r.touch_seq = next_touch_seq_++;
    r.update_ms = stamp_ms;
    slot_touch_[slot] = new_touch(slot);
    index(slot, slot == newest);
  }
  for (auto [f, code] : left) {
    auto& dict = dicts_[index_of(f)];
    if (const auto* v = dict.find(code); v != nullptr && v->payload.empty()) dict.erase(code);
  }
}

std::uint64_t Store::remove(std::string_view caseId) {
  std::vector<std::uint32_t> members;
  case_entries(caseId)->for_each_slot([&](std::uint32_t s) { members.push_back(s); });
  for (std::uint32_t slot : members) {
    unindex(slot);
    EntryRecord& r = slots_[slot];
    for (Field f : kAllFields) {
      const std::uint32_t code = r.code(f);
      if (code == kNoValue) continue;
      auto& dict = dicts_[index_of(f)];
      if (dict.at(code).payload.empty()) dict.erase(code);
    }
    release_description(r.description);
    touch_slot_[slot_touch_[slot]] = kTombstone;
    r.codes.fill(kNoValue);  // a hole: seq and creation_ms stay for binary search
    r.description = kNoValue;
    --live_count_;
  }
  return members.size();
}

StoredEntry Store::stored(std::uint32_t slot) const {
  const EntryRecord& r = slots_[slot];
  Entry e = materialize(slot);
  return StoredEntry{r.seq, r.touch_seq, r.creation_ms, r.update_ms, std::move(e.caseId), std::move(e.businessKey),
                     std::move(e.caseType), std::move(e.clientId), std::move(e.clientType), std::move(e.status),
                     std::move(e.statusDescription), std::move(e.source)};
}

std::optional<std::uint64_t> Store::export_after(std::uint64_t after_seq, std::size_t max,
                                                 std::vector<StoredEntry>& out) const {
  // Slots are in seq order, holes included (key_at).
  std::uint32_t slot = 0;
  for (std::uint32_t hi = slot_count(); slot < hi;) {
    const std::uint32_t mid = slot + (hi - slot) / 2;
    if (key_at(Space::kCreation, mid) <= after_seq) slot = mid + 1; else hi = mid;
  }
  std::optional<std::uint64_t> last;
  for (std::size_t n = 0; slot < slots_.size() && n < max; ++slot) {
    if (!slots_[slot].live()) continue;
    out.push_back(stored(slot));
    last = slots_[slot].seq;
    ++n;
  }
  return last;
}

void Store::export_case(std::string_view caseId, std::vector<StoredEntry>& out) const {
  if (const Posting* entries = case_entries(caseId)) entries->for_each_slot([&](std::uint32_t slot) { out.push_back(stored(slot)); });
}

std::optional<std::string> Store::restore(StoreImage image) {
  assert(slots_.empty());
  const auto n = static_cast<std::uint32_t>(image.entry_count());
  slots_.resize(n);
  for (std::uint32_t slot = 0; slot < n; ++slot) {
    EntryRecord& r = slots_[slot];
    r.seq = image.seq[slot];
    r.creation_ms = image.creation_ms[slot];
    for (Field f : kAllFields) r.codes[index_of(f)] = image.codes[index_of(f)][slot];
    r.description = image.description[slot];
  }
  slot_touch_.resize(n);
  for (std::uint32_t t = 0; t < n; ++t) {
    slot_touch_[image.touch_slot[t]] = t;
    EntryRecord& r = slots_[image.touch_slot[t]];
    r.touch_seq = image.touch_seq[t];
    r.update_ms = image.touch_ms[t];
  }
  touch_slot_ = std::move(image.touch_slot);
  // Copied into the records above: freed now, not after the postings are built.
  image.touch_seq = {};
  image.touch_ms = {};
  live_count_ = n;
  next_seq_ = image.counters.next_seq;
  next_touch_seq_ = image.counters.next_touch_seq;
  last_stamp_ = image.counters.last_stamp_ms;

  // A fresh dictionary hands out codes 0, 1, 2...: value i gets code i
  // again (Dictionary::add refuses a text listed twice).
  auto restore_descriptions = [&]() -> std::optional<std::string> {
    descriptions_.reserve(image.descriptions.size());
    for (std::uint32_t i = 0; i < image.descriptions.size(); ++i) {
      if (descriptions_.add(image.descriptions[i]) == nullptr) return "statusDescription value listed twice";
    }
    for (std::uint32_t code : image.description) {
      if (code != kNoValue) ++descriptions_.at(code).payload;
    }
    return std::nullopt;
  };
  std::vector<std::uint32_t> newest;
  std::optional<std::string> bad[kFieldCount + 1];
  util::run_two_at_a_time(kFieldCount + 1, [&](std::size_t task) {
    if (task == kFieldCount) {
      bad[task] = restore_descriptions();
      return;
    }
    const Field f = kBuildOrder[task];
    bad[task] = build_field(f, image.codes[index_of(f)], touches(), &image.values[index_of(f)],
                            f == Field::kCaseId ? &newest : nullptr);
  });
  for (auto& b : bad) {
    if (b) return b;
  }
  build_sets(newest);
  return std::nullopt;
}

EntryView Store::view(std::uint32_t slot, ViewScratch& scratch) const {
  const EntryRecord& r = slots_[slot];
  // The fields with a value per case or client are cache misses of their
  // own (the others' few values stay cached): start all of them at once.
  for (Field f : {Field::kBusinessKey, Field::kClientId}) {
    if (r.code(f) != kNoValue) __builtin_prefetch(&dicts_[index_of(f)].at(r.code(f)));
  }
  if (r.description != kNoValue) __builtin_prefetch(&descriptions_.at(r.description));
  auto text = [&](Field f) -> std::string_view {
    return dicts_[index_of(f)].at(r.code(f)).text.view(scratch[index_of(f)]);
  };
  auto nullable = [&](Field f) -> std::optional<std::string_view> {
    if (r.code(f) == kNoValue) return std::nullopt;
    return text(f);
  };
  EntryView v;
  v.caseId = text(Field::kCaseId);
  v.businessKey = nullable(Field::kBusinessKey);
  v.caseType = text(Field::kCaseType);
  v.clientId = text(Field::kClientId);
  v.clientType = text(Field::kClientType);
  v.status = text(Field::kStatus);
  if (r.description != kNoValue) v.statusDescription = std::string_view(descriptions_.at(r.description).text);
  v.source = nullable(Field::kSource);
  v.creationDate = to_timestamp(r.creation_ms);
  v.updateDate = to_timestamp(r.update_ms);
  return v;
}

Entry Store::materialize(std::uint32_t slot) const {
  ViewScratch scratch;
  return view(slot, scratch).to_entry();
}

std::size_t Store::posting_bytes() const {
  std::size_t total = live_.bytes() + current_.bytes();
  for (const auto& dict : dicts_) dict.for_each([&](const auto& v) { total += v.payload.bytes(); });
  return total;
}

namespace {

// malloc rounds a request up to 16 bytes and adds 8 of its own.
template <class Text>
std::size_t text_bytes(const Text& t) { return t.heap_bytes() == 0 ? 0 : (t.heap_bytes() + 8 + 15) / 16 * 16; }

}  // namespace

std::size_t Store::memory_bytes() const {
  std::size_t total = slots_.capacity() * sizeof(EntryRecord) + slot_touch_.capacity() * sizeof(std::uint32_t) +
                      touch_slot_.capacity() * sizeof(std::uint32_t);
  total += posting_bytes();
  for (const auto& dict : dicts_) {
    total += dict.heap_bytes();
    dict.for_each([&](const auto& v) { total += text_bytes(v.text); });
  }
  total += descriptions_.heap_bytes();
  descriptions_.for_each([&](const auto& v) { total += text_bytes(v.text); });
  return total;
}

void Store::maybe_rebuild() {
  const std::uint64_t live = live_count_;
  const std::uint64_t waste[2] = {slots_.size() - live, touch_slot_.size() - live};
  // Compaction: once holes/tombstones outnumber live entries (and the
  // tuning minimum), so both spaces stay O(live): a step per write, or all
  // at once near the 32-bit position limit (and for tests).
  const std::uint64_t allowed = std::max(live, tuning_.min_waste_for_rebuild);
  const std::uint64_t step = tuning_.compaction_step;
  auto due = [&](Space s) { return waste[static_cast<int>(s)] > allowed || compaction_[static_cast<int>(s)].active; };
  if (slots_.size() >= kPositionLimit || (step == 0 && due(Space::kCreation))) {
    rebuild();
    return;
  }
  if (touch_slot_.size() >= kPositionLimit || (step == 0 && due(Space::kUpdate))) {
    renumber_update_order();  // updates made the waste: slots can stay
    return;
  }
  for (Space space : {Space::kCreation, Space::kUpdate}) {
    Compaction& c = compaction_[static_cast<int>(space)];
    if (!c.active && waste[static_cast<int>(space)] > allowed) c = Compaction{.active = true};
    if (c.active) compact_step(space, step);
  }
}

void Store::compact_step(Space space, std::uint64_t positions) {
  const bool slots = space == Space::kCreation;
  Compaction& c = compaction_[static_cast<int>(space)];
  const auto end = static_cast<std::uint32_t>(slots ? slots_.size() : touch_slot_.size());
  assert(c.active && c.read <= end && positions > 0);
  auto finish = [&] {  // the space ends at the write cursor
    if (slots) {
      slots_.resize(c.write);
      slot_touch_.resize(c.write);
    } else {
      touch_slot_.resize(c.write);
    }
    give_back_room();
    c = {};
    ++rebuilds_;
  };
  if (c.read == end) {  // nothing to walk (begin_compaction on an empty space)
    finish();
    return;
  }
  const std::uint32_t stop = end - c.read <= positions ? end : c.read + static_cast<std::uint32_t>(positions);
  // The gap this step leaves reads as the keys of the last position it
  // walks, read here before anything moves (nothing calls key_at during the
  // step): every key moved below it is at most that, every key after at
  // least that, so binary searches still work. stop - 1 >= c.read: not in
  // the gap so far.
  c.gap_key = key_at(space, stop - 1);
  c.gap_ms = ms_at(space, stop - 1);
  // The entry at position p, or kTombstone.
  auto entry_at = [&](std::uint32_t p) { return slots ? (slots_[p].live() ? p : kTombstone) : touch_slot_[p]; };
  std::array<bool, kFieldCount> in_bulk;
  for (std::size_t f = 0; f < kFieldCount; ++f) in_bulk[f] = dicts_[f].size() <= tuning_.compaction_bulk_values;
  std::vector<std::uint32_t> moved_to(stop - c.read, kTombstone);  // by position walked
  bool moved = false;
  // Entries in update order are scattered over the slots and the values:
  // each move's cache misses (the record, then the postings of its values)
  // start a few positions ahead, so that they overlap.
  constexpr std::uint32_t kRecordsAhead = 16, kValuesAhead = 8;
  for (std::uint32_t p = c.read; p < stop; ++p) {
    if (!slots && p + kRecordsAhead < stop && touch_slot_[p + kRecordsAhead] != kTombstone) {
      prefetch(touch_slot_[p + kRecordsAhead]);
    }
    if (p + kValuesAhead < stop) {
      if (const std::uint32_t ahead = entry_at(p + kValuesAhead); ahead != kTombstone) prefetch_postings(ahead, in_bulk);
    }
    const std::uint32_t slot = entry_at(p);
    if (slot == kTombstone) continue;
    moved_to[p - c.read] = c.write;
    if (p != c.write) {
      if (slots) {
        move_slot(p, c.write, in_bulk);
      } else {
        move_touch(slot, p, c.write, in_bulk);
      }
      moved = true;
    }
    ++c.write;
  }
  if (moved) {
    std::vector<std::uint32_t> scratch;
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      if (!in_bulk[f]) continue;
      for (std::uint32_t code = 0, bound = dicts_[f].code_bound(); code < bound; ++code) {
        if (const FieldDictionary::Value* v = dicts_[f].find(code)) {
          v->payload.move_range(space, c.read, moved_to, scratch);
        }
      }
    }
    move_range(live_.by_space[static_cast<int>(space)], c.read, moved_to, scratch);
    move_range(current_.by_space[static_cast<int>(space)], c.read, moved_to, scratch);
  }
  if (stop == end) {
    finish();
    return;
  }
  // What this step walked and did not fill with moved entries is now gap:
  // holes or tombstones (the gap before it already is).
  for (std::uint32_t p = std::max(c.write, c.read); p < stop; ++p) {
    if (slots) {
      slots_[p].codes.fill(kNoValue);
      slots_[p].description = kNoValue;
    } else {
      touch_slot_[p] = kTombstone;
    }
  }
  c.read = stop;
}

void Store::prefetch_postings(std::uint32_t slot, const std::array<bool, kFieldCount>& in_bulk) const {
  const EntryRecord& r = slots_[slot];
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    if (!in_bulk[f] && r.codes[f] != kNoValue) __builtin_prefetch(&dicts_[f].at(r.codes[f]).payload);
  }
}

void Store::move_slot(std::uint32_t from, std::uint32_t to, const std::array<bool, kFieldCount>& in_bulk) {
  const EntryRecord& r = slots_[from];
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    if (!in_bulk[f] && r.codes[f] != kNoValue) dicts_[f].at(r.codes[f]).payload.move(Space::kCreation, from, from, to);
  }
  touch_slot_[slot_touch_[from]] = to;
  if (is_current(from)) {  // the case's newest entry: its caseId's hint follows it
    auto& ids = dicts_[index_of(Field::kCaseId)];
    TextScratch scratch;
    ids.set_hint(ids.at(r.code(Field::kCaseId)).text.view(scratch), to);
  }
  slots_[to] = r;
  slot_touch_[to] = slot_touch_[from];
}

void Store::move_touch(std::uint32_t slot, std::uint32_t from, std::uint32_t to,
                       const std::array<bool, kFieldCount>& in_bulk) {
  const EntryRecord& r = slots_[slot];
  assert(slot_touch_[slot] == from);
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    if (!in_bulk[f] && r.codes[f] != kNoValue) dicts_[f].at(r.codes[f]).payload.move(Space::kUpdate, slot, from, to);
  }
  slot_touch_[slot] = to;
  touch_slot_[to] = slot;
}

void Store::renumber_update_order() {
  ++rebuilds_;
  compaction_[static_cast<int>(Space::kUpdate)] = {};  // whatever its steps left is renumbered with the rest
  const auto positions = static_cast<std::uint32_t>(touch_slot_.size());
  util::LargeVector<std::uint32_t> renumbered(positions, kTombstone);
  std::uint32_t next = 0;
  for (std::uint32_t t = 0; t < positions; ++t) {
    if (touch_slot_[t] != kTombstone) renumbered[t] = next++;
  }
  // Independent passes, the largest first, two at a time: each field's
  // postings, the slots' touch positions, the touch columns, live_/current_.
  constexpr std::size_t kSlots = kFieldCount, kColumns = kFieldCount + 1, kSets = kFieldCount + 2;
  static_assert(kFieldCount == 7, "kOrder lists every field of kBuildOrder");
  static constexpr std::array<std::size_t, kFieldCount + 3> kOrder = {0, 1, 2, kSlots, kColumns, 3, 4, 5, 6, kSets};
  util::run_two_at_a_time(kOrder.size(), [&](std::size_t i) {
    const std::size_t task = kOrder[i];
    std::vector<std::uint32_t> scratch;
    if (task == kSlots) {  // slot order: a streaming pass, not a miss per touch
      for (std::uint32_t slot = 0; slot < slots_.size(); ++slot) {
        if (slots_[slot].live()) slot_touch_[slot] = renumbered[slot_touch_[slot]];
      }
    } else if (task == kColumns) {  // in place: t' <= t
      for (std::uint32_t t = 0; t < positions; ++t) {
        if (renumbered[t] == kTombstone) continue;
        touch_slot_[renumbered[t]] = touch_slot_[t];
      }
      touch_slot_.resize(next);
    } else if (task == kSets) {
      live_.by_space[1] = Bitmap();
      live_.by_space[1].addRange(0, next);
      live_.by_space[1].runOptimize();
      current_.by_space[1] = renumbered_bitmap(current_.by_space[1], renumbered, scratch);
      current_.by_space[1].runOptimize();
    } else {
      // In code order: the order the values were made, so mostly the order
      // of their nodes in memory (hash order costs a cache miss per value:
      // 2x slower at 1M).
      const FieldDictionary& dict = dicts_[index_of(kBuildOrder[task])];
      for (std::uint32_t c = 0, bound = dict.code_bound(); c < bound; ++c) {
        if (const FieldDictionary::Value* v = dict.find(c)) v->payload.renumber_touches(renumbered, scratch);
      }
    }
  });
}

// Renumbers slots and touch positions densely (keeping seq and touch_seq,
// which tokens and ties refer to) and rebuilds every posting. O(n):
// counting sorts and bitsets, no comparison sort.
void Store::rebuild() {
  ++rebuilds_;
  compaction_ = {};  // both orders are renumbered, whatever the steps left
  // In place (a live entry's new slot and touch position are never above
  // its old ones), so the records and touch columns need no fresh memory:
  // at 1M entries most of the pause was the page faults of new copies
  // (bench/notes.md, stop 28). Their capacity stays (give_back_room).
  util::LargeVector<std::uint32_t> new_slot(slots_.size(), kTombstone);
  std::uint32_t live = 0;
  for (std::uint32_t slot = 0; slot < slots_.size(); ++slot) {
    if (!slots_[slot].live()) continue;
    new_slot[slot] = live;
    if (live != slot) {
      slots_[live] = slots_[slot];
      slot_touch_[live] = slot_touch_[slot];
    }
    ++live;
  }
  slots_.resize(live);
  slot_touch_.resize(live);
  // Update order: the touch positions still in use, in the order they are.
  std::uint32_t next = 0;
  for (std::uint32_t t = 0; t < touch_slot_.size(); ++t) {
    if (touch_slot_[t] == kTombstone) continue;
    const std::uint32_t slot = new_slot[touch_slot_[t]];
    slot_touch_[slot] = next;
    touch_slot_[next] = slot;
    ++next;
  }
  touch_slot_.resize(next);
  give_back_room();
  build_postings(columns());
}

void Store::give_back_room() {
  if (slots_.size() < slots_.capacity() / 4) {
    slots_.shrink_to_fit();
    slot_touch_.shrink_to_fit();
  }
  if (touch_slot_.size() < touch_slot_.capacity() / 4) {
    touch_slot_.shrink_to_fit();
  }
}

Store::Columns Store::columns() const {
  Columns c;
  for (auto& codes : c.codes) codes.resize(slots_.size());
  for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
    const EntryRecord& r = slots_[slot];
    for (std::size_t f = 0; f < kFieldCount; ++f) c.codes[f][slot] = r.codes[f];
  }
  return c;
}

Store::MembersByCode Store::members_by_code(std::span<const std::uint32_t> codes, std::uint32_t bound) {
  MembersByCode m;
  m.start.assign(std::size_t{bound} + 1, 0);
  for (std::uint32_t c : codes) {
    if (c != kNoValue) ++m.start[c + 1];
  }
  std::partial_sum(m.start.begin(), m.start.end(), m.start.begin());
  util::LargeVector<std::uint32_t> cursor(m.start.begin(), m.start.end() - 1);
  m.slots.resize(m.start[bound]);
  for (std::uint32_t slot = 0; slot < codes.size(); ++slot) {
    const std::uint32_t c = codes[slot];
    if (c != kNoValue) m.slots[cursor[c]++] = slot;
  }
  return m;
}

void Store::assign(Posting& posting, std::span<const std::uint32_t> slots, std::span<const std::uint32_t> touch,
                   PostingScratch& scratch) {
  if (slots.size() <= Posting::kPromoteAt) {
    posting.assign_small(slots);
    return;
  }
  scratch.touches.clear();
  for (const std::uint32_t slot : slots) scratch.touches.push_back(touch[slot]);
  // Entries never updated keep touch order = slot order.
  if (!std::is_sorted(scratch.touches.begin(), scratch.touches.end())) {
    std::sort(scratch.touches.begin(), scratch.touches.end());
  }
  posting.assign_big(slots, scratch.touches);
}

std::optional<std::string> Store::build_field(Field f, std::span<const std::uint32_t> codes,
                                              std::span<const std::uint32_t> touch, const TextColumn* values,
                                              std::vector<std::uint32_t>* newest) {
  auto& dict = dicts_[index_of(f)];
  const std::uint32_t bound = values ? static_cast<std::uint32_t>(values->size()) : dict.code_bound();
  if (values) dict.reserve(values->size());
  const MembersByCode m = members_by_code(codes, bound);
  PostingScratch scratch;
  if (newest) newest->assign(bound, FieldDictionary::kNoHint);
  for (std::uint32_t c = 0; c < bound; ++c) {
    const FieldDictionary::Value* v;
    if (values) {
      v = dict.add((*values)[c]);
      if (v == nullptr) return std::string(field_name(f)) + " value listed twice";
    } else if ((v = dict.find(c)) == nullptr) {
      continue;  // a free code
    }
    assign(v->payload, m.of(c), touch, scratch);
    if (newest) (*newest)[c] = m.of(c).back();
  }
  if (newest) dict.set_hints(*newest);  // caseId: each case's newest slot is its hint
  return std::nullopt;
}

void Store::build_postings(const Columns& columns) {
  std::vector<std::uint32_t> newest;
  util::run_two_at_a_time(kFieldCount, [&](std::size_t task) {
    const Field f = kBuildOrder[task];
    build_field(f, columns.codes[index_of(f)], touches(), nullptr, f == Field::kCaseId ? &newest : nullptr);
  });
  build_sets(newest);
}

void Store::build_sets(std::span<const std::uint32_t> newest_by_code) {
  const auto n = static_cast<std::uint32_t>(slots_.size());
  live_ = DualBitmap{};
  live_.by_space[0].addRange(0, n);
  live_.by_space[1].addRange(0, n);
  // Both orders sorted through a bitset over the positions: O(n / 64 + k)
  // instead of two O(k log k) sorts (a 1M-entry rebuild: 131 -> 99 ms,
  // median of eight in one process).
  std::vector<std::uint64_t> marks((n + 63) / 64);
  auto sorted_marks = [&](std::vector<std::uint32_t>& out) {
    out.clear();
    for (std::size_t w = 0; w < marks.size(); ++w) {
      for (std::uint64_t bits = std::exchange(marks[w], 0); bits != 0; bits &= bits - 1) {
        out.push_back(static_cast<std::uint32_t>(w * 64 + std::countr_zero(bits)));
      }
    }
  };
  for (std::uint32_t slot : newest_by_code) {
    if (slot != FieldDictionary::kNoHint) marks[slot / 64] |= std::uint64_t{1} << (slot % 64);
  }
  std::vector<std::uint32_t> newest;
  sorted_marks(newest);
  std::vector<std::uint32_t> touches;
  touches.reserve(newest.size());
  for (std::uint32_t slot : newest) {
    const std::uint32_t t = slot_touch_[slot];
    marks[t / 64] |= std::uint64_t{1} << (t % 64);
  }
  sorted_marks(touches);
  current_ = DualBitmap{};
  current_.by_space[0].addMany(newest.size(), newest.data());
  current_.by_space[1].addMany(touches.size(), touches.data());
  for (auto* d : {&live_, &current_}) {
    d->by_space[0].runOptimize();
    d->by_space[1].runOptimize();
  }
}

}  // namespace caserepo::engine
