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
void load_text(boost::archive::binary_iarchive& ar, std::string& s) {
  std::uint32_t n = 0;
  ar >> n;
  if (n > kMaxDescriptionBytes) throw std::runtime_error("string length " + std::to_string(n) + " over the limit");
  s.resize(n);
  ar.load_binary(s.data(), n);
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

// Version 1: one record per entry.
void decode_v1_frame(std::string_view payload, std::vector<engine::StoredEntry>& out) {
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

}  // namespace


namespace {

using OArchive = boost::archive::binary_oarchive;
using IArchive = boost::archive::binary_iarchive;

// Bytes a version-2 entry takes at least: its row in the entries and the
// touches sections. An entry count beyond the file's size is a lie.
constexpr std::uint64_t kV2EntryBytes = 8 + 8 + 4 * engine::kFieldCount + 4 + 4 + 8 + 8;
constexpr std::uint64_t kV1EntryBytes = 40;

template <class Array>
void save_array(OArchive& ar, const Array& v, std::size_t begin, std::size_t n) {
  ar.save_binary(v.data() + begin, n * sizeof(v[0]));
}
// Appends n elements to v (the caller has bounded n).
template <class Array>
void load_array(IArchive& ar, Array& v, std::size_t n) {
  const std::size_t old = v.size();
  v.resize(old + n);
  ar.load_binary(v.data() + old, n * sizeof(v[0]));
}

// Column 0-6: a field's values; 7: statusDescription's.
template <class Image>
auto& column_at(Image& image, std::size_t column) {
  return column < engine::kFieldCount ? image.values[column] : image.descriptions;
}

// Version 2: one section's rows, appended to `image`.
void decode_v2_frame(std::string_view payload, std::uint32_t version, LoadedSnapshot& loaded, std::uint64_t entry_count,
                     std::uint8_t& last_section) {
  engine::StoreImage& image = loaded.image;
  boost::iostreams::stream<boost::iostreams::array_source> in(payload.data(), payload.size());
  IArchive ar(in, kArchiveFlags);
  std::uint8_t section = 0;
  ar >> section;
  if (section < last_section) throw std::runtime_error("sections out of order");
  if (section == static_cast<std::uint8_t>(SnapshotSection::kStream) && (version < 3 || last_section == section)) {
    throw std::runtime_error("stream section in a version-2 file, or twice");
  }
  last_section = section;
  auto rows = [&](std::size_t have) {
    std::uint32_t n = 0;
    ar >> n;
    if (n == 0 || n > kSnapshotFrameRows) throw std::runtime_error("frame row count " + std::to_string(n));
    if (have + n > entry_count) throw std::runtime_error("more rows than the header's entry count");
    return n;
  };
  switch (static_cast<SnapshotSection>(section)) {
    case SnapshotSection::kValues: {
      std::uint8_t column = 0;
      ar >> column;
      if (column > engine::kFieldCount) throw std::runtime_error("no value column " + std::to_string(column));
      engine::TextColumn& values = column_at(image, column);
      const std::uint32_t n = rows(values.size());
      std::vector<std::uint32_t> lengths;
      load_array(ar, lengths, n);
      std::uint64_t total = 0;
      for (std::uint32_t length : lengths) {
        if (length > kMaxDescriptionBytes) throw std::runtime_error("value length " + std::to_string(length) + " over the limit");
        total += length;
      }
      if (total > payload.size()) throw std::runtime_error("value bytes run past the frame");
      const std::size_t old = values.bytes.size();
      values.bytes.resize(old + total);
      ar.load_binary(values.bytes.data() + old, total);
      std::uint64_t end = old;
      for (std::uint32_t length : lengths) values.ends.push_back(end += length);
      break;
    }
    case SnapshotSection::kEntries: {
      const std::uint32_t n = rows(image.seq.size());
      load_array(ar, image.seq, n);
      load_array(ar, image.creation_ms, n);
      for (auto& codes : image.codes) load_array(ar, codes, n);
      load_array(ar, image.description, n);
      break;
    }
    case SnapshotSection::kTouches: {
      const std::uint32_t n = rows(image.touch_slot.size());
      load_array(ar, image.touch_slot, n);
      load_array(ar, image.touch_seq, n);
      load_array(ar, image.touch_ms, n);
      break;
    }
    case SnapshotSection::kStream:
      ar >> loaded.stream_position;
      break;
    default:
      throw std::runtime_error("unknown section " + std::to_string(section));
  }
  if (in.peek() != std::char_traits<char>::eof()) throw std::runtime_error("frame has trailing bytes");
}

}  // namespace

Result<std::uint64_t> write_snapshot(Env& env, const std::string& path, const SnapshotData& d) {
  const engine::StoreImage image = engine::image_of(d.entries, d.counters);
  auto file = env.open_writable(path, /*truncate=*/true);
  if (!file.ok()) return file.error();
  std::uint64_t size = 0;
  auto append = [&](std::string_view bytes) {
    size += bytes.size();
    return (*file)->append(bytes);
  };
  std::string header(kSnapshotMagic);
  put_u32(header, kSnapshotVersion);
  put_u64(header, d.covered_seq);
  put_u64(header, d.entries.size());
  put_u64(header, d.counters.next_seq);
  put_u64(header, d.counters.next_touch_seq);
  put_u64(header, static_cast<std::uint64_t>(d.counters.last_stamp_ms));
  put_u32(header, util::crc32c(header));
  if (auto s = append(header); !s.ok()) return s.error();

  std::uint64_t frames = 0;
  auto write_frame = [&](SnapshotSection section, auto&& fill) {
    std::string payload;
    {
      boost::iostreams::stream<boost::iostreams::back_insert_device<std::string>> out(payload);
      OArchive ar(out, kArchiveFlags);
      ar << static_cast<std::uint8_t>(section);
      fill(ar);
    }
    std::string frame_header;
    put_u32(frame_header, util::crc32c(payload));
    put_u32(frame_header, static_cast<std::uint32_t>(payload.size()));
    ++frames;
    if (auto s = append(frame_header); !s.ok()) return s;
    return append(payload);
  };

  for (std::uint8_t column = 0; column <= engine::kFieldCount; ++column) {
    const engine::TextColumn& values = column_at(image, column);
    for (std::size_t i = 0; i < values.size();) {
      const std::uint64_t begin = i == 0 ? 0 : values.ends[i - 1];
      std::vector<std::uint32_t> lengths;
      for (std::uint64_t at = begin; i < values.size() && lengths.size() < kSnapshotFrameRows &&
                                     values.ends[i] - begin <= kSnapshotFrameValueBytes;
           ++i) {
        lengths.push_back(static_cast<std::uint32_t>(values.ends[i] - at));
        at = values.ends[i];
      }
      const std::uint64_t end = values.ends[i - 1];
      auto s = write_frame(SnapshotSection::kValues, [&](OArchive& ar) {
        ar << column << static_cast<std::uint32_t>(lengths.size());
        save_array(ar, lengths, 0, lengths.size());
        ar.save_binary(values.bytes.data() + begin, end - begin);
      });
      if (!s.ok()) return s.error();
    }
  }
  // Entries, then the update order: arrays cut into frames of up to
  // kSnapshotFrameRows rows.
  const std::size_t n = image.entry_count();
  auto write_rows = [&](SnapshotSection section, auto&& save_rows) -> Status {
    for (std::size_t i = 0; i < n; i += kSnapshotFrameRows) {
      const auto rows = static_cast<std::uint32_t>(std::min<std::size_t>(kSnapshotFrameRows, n - i));
      auto s = write_frame(section, [&](OArchive& ar) {
        ar << rows;
        save_rows(ar, i, rows);
      });
      if (!s.ok()) return s;
    }
    return ok_status();
  };
  auto s = write_rows(SnapshotSection::kEntries, [&](OArchive& ar, std::size_t i, std::uint32_t rows) {
    save_array(ar, image.seq, i, rows);
    save_array(ar, image.creation_ms, i, rows);
    for (const auto& codes : image.codes) save_array(ar, codes, i, rows);
    save_array(ar, image.description, i, rows);
  });
  if (!s.ok()) return s.error();
  s = write_rows(SnapshotSection::kTouches, [&](OArchive& ar, std::size_t i, std::uint32_t rows) {
    save_array(ar, image.touch_slot, i, rows);
    save_array(ar, image.touch_seq, i, rows);
    save_array(ar, image.touch_ms, i, rows);
  });
  if (!s.ok()) return s.error();
  s = write_frame(SnapshotSection::kStream, [&](OArchive& ar) { ar << d.stream_position; });
  if (!s.ok()) return s.error();

  std::string footer(kSnapshotFooterMagic);
  put_u64(footer, frames);
  put_u64(footer, n);
  put_u32(footer, util::crc32c(footer));
  if (auto s = append(footer); !s.ok()) return s.error();
  if (auto s = (*file)->sync(); !s.ok()) return s.error();
  if (auto s = (*file)->close(); !s.ok()) return s.error();
  return size;
}

Result<LoadedSnapshot> parse_snapshot(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kSnapshotHeaderSize + kSnapshotFooterSize) return corruption(name, 0, "file is too short");
  const char* h = bytes.data();
  if (bytes.substr(0, 8) != kSnapshotMagic) return corruption(name, 0, "not a caserepo snapshot (bad magic)");
  if (get_u32(h + 52) != util::crc32c(h, 52)) return corruption(name, 0, "header checksum mismatch");
  const std::uint32_t version = get_u32(h + 8);
  if (version < kOldestSnapshotVersion || version > kSnapshotVersion) {
    return corruption(name, 8, "snapshot version " + std::to_string(version) + " is not supported");
  }
  LoadedSnapshot loaded;
  engine::StoreImage& image = loaded.image;
  loaded.covered_seq = get_u64(h + 12);
  const std::uint64_t count = get_u64(h + 20);
  image.counters.next_seq = get_u64(h + 28);
  image.counters.next_touch_seq = get_u64(h + 36);
  image.counters.last_stamp_ms = static_cast<std::int64_t>(get_u64(h + 44));
  if (count > bytes.size() / (version == 1 ? kV1EntryBytes : kV2EntryBytes)) {
    return corruption(name, 20, "entry count larger than the file can hold");
  }

  const std::uint64_t footer_at = bytes.size() - kSnapshotFooterSize;
  const char* f = bytes.data() + footer_at;
  if (std::string_view(f, 8) != kSnapshotFooterMagic || get_u32(f + 24) != util::crc32c(f, 24)) {
    return corruption(name, footer_at, "footer missing or damaged (snapshot incomplete)");
  }
  const std::uint64_t frames = get_u64(f + 8);
  if (get_u64(f + 16) != count) return corruption(name, footer_at, "footer and header disagree on the entry count");

  std::vector<engine::StoredEntry> v1_entries;  // version 1 only
  if (version == 1) {
    v1_entries.reserve(count);
  } else {
    image.seq.reserve(count);
    image.creation_ms.reserve(count);
    for (auto& codes : image.codes) codes.reserve(count);
    image.description.reserve(count);
    image.touch_slot.reserve(count);
    image.touch_seq.reserve(count);
    image.touch_ms.reserve(count);
  }
  std::uint8_t last_section = 0;
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
      if (version == 1) {
        decode_v1_frame(payload, v1_entries);
        if (v1_entries.size() > count) return corruption(name, pos, "more entries than the header says");
      } else {
        decode_v2_frame(payload, version, loaded, count, last_section);
      }
    } catch (const std::exception& e) {
      return corruption(name, pos, std::string("frame does not decode: ") + e.what());
    }
    pos += kFrameHeaderSize + length;
  }
  if (pos != footer_at) return corruption(name, pos, "bytes between the last frame and the footer");
  if (version == 1) {
    const engine::StoreCounters counters = image.counters;
    image = engine::image_of(v1_entries, counters);
  }
  if (image.entry_count() != count || image.touch_slot.size() != count) {
    return corruption(name, pos, "fewer entries than the header says");
  }
  if (auto bad = engine::check_image(image)) return corruption(name, kSnapshotHeaderSize, *bad);
  return loaded;
}

}  // namespace caserepo::storage
