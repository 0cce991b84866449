#include "storage/snapshot.h"

#include <algorithm>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/stream.hpp>

#include "engine/validation.h"
#include "storage/format.h"
#include "util/crc32c.h"

namespace caserepo::storage {
namespace {

constexpr auto kArchiveFlags = boost::archive::no_header | boost::archive::no_codecvt;

// Strings: u32 length (checked before allocating) + bytes.
void save_text(boost::archive::binary_oarchive& ar, const std::string& s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  ar << n;
  ar.save_binary(s.data(), s.size());
}
void load_text(boost::archive::binary_iarchive& ar, std::string& s) {
  std::uint32_t n = 0;
  ar >> n;
  if (n > kMaxDescriptionBytes) throw std::runtime_error("string length " + std::to_string(n) + " over the limit");
  s.resize(n);
  ar.load_binary(s.data(), n);
}
void save_opt(boost::archive::binary_oarchive& ar, const std::optional<std::string>& s) {
  const std::uint8_t present = s ? 1 : 0;
  ar << present;
  if (s) save_text(ar, *s);
}
void load_opt(boost::archive::binary_iarchive& ar, std::optional<std::string>& s) {
  std::uint8_t present = 0;
  ar >> present;
  if (present > 1) throw std::runtime_error("bad presence byte");
  if (present) {
    s.emplace();
    load_text(ar, *s);
  }
}

std::string encode_frame(const engine::StoredEntry* begin, const engine::StoredEntry* end) {
  std::string payload;
  {
    boost::iostreams::stream<boost::iostreams::back_insert_device<std::string>> out(payload);
    boost::archive::binary_oarchive ar(out, kArchiveFlags);
    const auto count = static_cast<std::uint32_t>(end - begin);
    ar << count;
    for (const auto* e = begin; e != end; ++e) {
      ar << e->seq << e->touch_seq << e->creation_ms << e->update_ms;
      save_text(ar, e->caseId);
      save_opt(ar, e->businessKey);
      save_text(ar, e->caseType);
      save_text(ar, e->clientId);
      save_text(ar, e->clientType);
      save_text(ar, e->status);
      save_opt(ar, e->statusDescription);
      save_opt(ar, e->source);
    }
  }
  std::string frame;
  put_u32(frame, util::crc32c(payload));
  put_u32(frame, static_cast<std::uint32_t>(payload.size()));
  frame += payload;
  return frame;
}

void decode_frame(std::string_view payload, std::vector<engine::StoredEntry>& out) {
  boost::iostreams::stream<boost::iostreams::array_source> in(payload.data(), payload.size());
  boost::archive::binary_iarchive ar(in, kArchiveFlags);
  std::uint32_t count = 0;
  ar >> count;
  if (count == 0 || count > kSnapshotFrameEntries) throw std::runtime_error("frame entry count " + std::to_string(count));
  for (std::uint32_t i = 0; i < count; ++i) {
    engine::StoredEntry e;
    ar >> e.seq >> e.touch_seq >> e.creation_ms >> e.update_ms;
    load_text(ar, e.caseId);
    load_opt(ar, e.businessKey);
    load_text(ar, e.caseType);
    load_text(ar, e.clientId);
    load_text(ar, e.clientType);
    load_text(ar, e.status);
    load_opt(ar, e.statusDescription);
    load_opt(ar, e.source);
    out.push_back(std::move(e));
  }
  if (in.peek() != std::char_traits<char>::eof()) throw std::runtime_error("frame has trailing bytes");
}

Error corruption(const std::string& name, std::uint64_t offset, const std::string& what) {
  return Error::Corruption(name + " at offset " + std::to_string(offset) + ": " + what);
}

// The invariants the store is built on; a snapshot breaking them is damaged.
std::optional<std::string> check_entries(const SnapshotData& d) {
  using engine::check_text;
  std::vector<std::pair<std::uint64_t, std::int64_t>> touches;
  touches.reserve(d.entries.size());
  const engine::StoredEntry* prev = nullptr;
  for (const auto& e : d.entries) {
    if (prev && (e.seq <= prev->seq || e.creation_ms < prev->creation_ms)) return "entries out of creation order";
    if (e.seq >= d.counters.next_seq || e.touch_seq >= d.counters.next_touch_seq || e.update_ms < e.creation_ms ||
        e.update_ms > d.counters.last_stamp_ms) {
      return "entry beyond the snapshot's counters";
    }
    for (const std::string* s : {&e.caseId, &e.caseType, &e.clientId, &e.clientType, &e.status}) {
      if (check_text("field", *s, kMaxFieldBytes)) return "invalid field value";
    }
    for (const auto* s : {&e.businessKey, &e.source}) {
      if (*s && check_text("field", **s, kMaxFieldBytes)) return "invalid field value";
    }
    if (e.statusDescription && check_text("statusDescription", *e.statusDescription, kMaxDescriptionBytes)) {
      return "invalid statusDescription";
    }
    touches.emplace_back(e.touch_seq, e.update_ms);
    prev = &e;
  }
  std::sort(touches.begin(), touches.end());
  for (std::size_t i = 1; i < touches.size(); ++i) {
    if (touches[i].first == touches[i - 1].first || touches[i].second < touches[i - 1].second) {
      return "entries out of update order";
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::uint64_t> write_snapshot(Env& env, const std::string& path, const SnapshotData& d) {
  auto file = env.open_writable(path, /*truncate=*/true);
  if (!file.ok()) return file.error();
  std::string header(kSnapshotMagic);
  put_u32(header, kSnapshotVersion);
  put_u64(header, d.covered_seq);
  put_u64(header, d.entries.size());
  put_u64(header, d.counters.next_seq);
  put_u64(header, d.counters.next_touch_seq);
  put_u64(header, static_cast<std::uint64_t>(d.counters.last_stamp_ms));
  put_u32(header, util::crc32c(header));
  std::uint64_t size = header.size();
  if (auto s = (*file)->append(header); !s.ok()) return s.error();
  std::uint64_t frames = 0;
  for (std::size_t i = 0; i < d.entries.size(); i += kSnapshotFrameEntries) {
    const auto* begin = d.entries.data() + i;
    const auto* end = d.entries.data() + std::min<std::size_t>(d.entries.size(), i + kSnapshotFrameEntries);
    const std::string frame = encode_frame(begin, end);
    if (auto s = (*file)->append(frame); !s.ok()) return s.error();
    size += frame.size();
    ++frames;
  }
  std::string footer(kSnapshotFooterMagic);
  put_u64(footer, frames);
  put_u64(footer, d.entries.size());
  put_u32(footer, util::crc32c(footer));
  if (auto s = (*file)->append(footer); !s.ok()) return s.error();
  if (auto s = (*file)->sync(); !s.ok()) return s.error();
  if (auto s = (*file)->close(); !s.ok()) return s.error();
  return size + footer.size();
}

Result<SnapshotData> parse_snapshot(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kSnapshotHeaderSize + kSnapshotFooterSize) return corruption(name, 0, "file is too short");
  const char* h = bytes.data();
  if (bytes.substr(0, 8) != kSnapshotMagic) return corruption(name, 0, "not a caserepo snapshot (bad magic)");
  if (get_u32(h + 52) != util::crc32c(h, 52)) return corruption(name, 0, "header checksum mismatch");
  if (get_u32(h + 8) != kSnapshotVersion) return corruption(name, 8, "snapshot version is not supported");
  SnapshotData d;
  d.covered_seq = get_u64(h + 12);
  const std::uint64_t count = get_u64(h + 20);
  d.counters.next_seq = get_u64(h + 28);
  d.counters.next_touch_seq = get_u64(h + 36);
  d.counters.last_stamp_ms = static_cast<std::int64_t>(get_u64(h + 44));
  // Each entry takes at least 40 bytes: a count beyond the file's size is a lie.
  if (count > bytes.size() / 40) return corruption(name, 20, "entry count larger than the file can hold");
  d.entries.reserve(count);

  const std::uint64_t footer_at = bytes.size() - kSnapshotFooterSize;
  const char* f = bytes.data() + footer_at;
  if (std::string_view(f, 8) != kSnapshotFooterMagic || get_u32(f + 24) != util::crc32c(f, 24)) {
    return corruption(name, footer_at, "footer missing or damaged (snapshot incomplete)");
  }
  const std::uint64_t frames = get_u64(f + 8);
  if (get_u64(f + 16) != count) return corruption(name, footer_at, "footer and header disagree on the entry count");

  std::uint64_t pos = kSnapshotHeaderSize;
  for (std::uint64_t i = 0; i < frames; ++i) {
    if (footer_at - pos < kFrameHeaderSize) return corruption(name, pos, "frame header runs into the footer");
    const std::uint32_t crc = get_u32(bytes.data() + pos);
    const std::uint32_t length = get_u32(bytes.data() + pos + 4);
    if (length > kMaxFramePayload || length > footer_at - pos - kFrameHeaderSize) {
      return corruption(name, pos, "frame length " + std::to_string(length) + " is impossible");
    }
    const std::string_view payload = bytes.substr(pos + kFrameHeaderSize, length);
    if (util::crc32c(payload) != crc) return corruption(name, pos, "frame checksum mismatch");
    try {
      decode_frame(payload, d.entries);
    } catch (const std::exception& e) {
      return corruption(name, pos, std::string("frame does not decode: ") + e.what());
    }
    if (d.entries.size() > count) return corruption(name, pos, "more entries than the header says");
    pos += kFrameHeaderSize + length;
  }
  if (pos != footer_at) return corruption(name, pos, "bytes between the last frame and the footer");
  if (d.entries.size() != count) return corruption(name, pos, "fewer entries than the header says");
  if (auto bad = check_entries(d)) return corruption(name, kSnapshotHeaderSize, *bad);
  return d;
}

}  // namespace caserepo::storage
