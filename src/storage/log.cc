#include "storage/log.h"

#include <algorithm>

#include "util/crc32c.h"

namespace caserepo::storage {
namespace {

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

std::size_t record_header_size(std::uint32_t version) {
  return version == 1 ? kRecordHeaderSizeV1 : kRecordHeaderSize;
}

bool valid_type(char t) {
  const auto v = static_cast<RecordType>(static_cast<unsigned char>(t));
  return v == RecordType::kCreate || v == RecordType::kUpdate || v == RecordType::kRemove || v == RecordType::kStream;
}

// What is at `pos`, read as a record of the given framing version.
struct Probe {
  enum Kind {
    kIntact,
    kIncompleteHeader,  // the file ends inside the record header
    kBadHeader,         // v2: the header checksum fails
    kTooLong,           // the length is over kMaxRecordPayload
    kPastEnd,           // the record runs past the end of the file
    kBadPayload,        // v2: the payload checksum fails; v1: the record checksum fails
    kBadType,           // checksums hold, but the type is unknown
  } kind;
  std::uint32_t length = 0;
  std::uint64_t seq = 0;
  RecordType type{};

  std::uint64_t end(std::uint64_t pos, std::uint32_t version) const {
    return pos + record_header_size(version) + length;
  }
};

Probe probe(std::string_view bytes, std::uint64_t pos, std::uint32_t version) {
  const std::size_t header = record_header_size(version);
  if (bytes.size() - pos < header) return {Probe::kIncompleteHeader};
  const char* p = bytes.data() + pos;
  if (version != 1 && get_u32(p) != util::crc32c(p + 4, header - 4)) return {Probe::kBadHeader};
  Probe r{Probe::kIntact, get_u32(p + 4), get_u64(p + 9), static_cast<RecordType>(static_cast<unsigned char>(p[8]))};
  if (r.length > kMaxRecordPayload) return {Probe::kTooLong, r.length, r.seq, r.type};
  if (bytes.size() - pos - header < r.length) return {Probe::kPastEnd, r.length, r.seq, r.type};
  const bool checks = version == 1 ? get_u32(p) == util::crc32c(p + 4, header - 4 + r.length)
                                   : get_u32(p + 17) == util::crc32c(p + header, r.length);
  if (!checks) return {Probe::kBadPayload, r.length, r.seq, r.type};
  if (!valid_type(p[8])) return {Probe::kBadType, r.length, r.seq, r.type};
  return r;
}

std::string describe(const Probe& r) {
  switch (r.kind) {
    case Probe::kIncompleteHeader: return "incomplete record header";
    case Probe::kBadHeader: return "record header checksum mismatch";
    case Probe::kTooLong: return "record length " + std::to_string(r.length) + " over the limit";
    case Probe::kPastEnd: return "record of " + std::to_string(r.length) + " bytes runs past the end of the file";
    case Probe::kBadPayload: return "record checksum mismatch";
    case Probe::kBadType: return "unknown record type " + std::to_string(static_cast<int>(r.type));
    case Probe::kIntact: break;
  }
  return "intact record";
}

// Where the run of zero bytes that ends the file starts.
std::uint64_t trailing_zeros_start(std::string_view bytes) {
  std::uint64_t z = bytes.size();
  while (z > 0 && bytes[z - 1] == 0) --z;
  return z;
}

// Could the bytes from `pos` on be a crash in the middle of appending the
// record that starts there? A crash leaves a prefix of what was written;
// unsynced pages may also read back as zeros (a file extended but not
// written). So: all zeros; or the file ends inside the header; or a header
// that checks out whose record runs past the end; or a record prefix whose
// remainder is zeros from a page boundary on. A record whose bytes are all
// there but fail their checksum is damage, not a tear — whatever the bytes.
bool tail_shaped(std::string_view bytes, std::uint64_t pos, std::uint32_t version, const Probe& r) {
  const std::uint64_t zeros = trailing_zeros_start(bytes);
  if (zeros <= pos) return true;
  switch (r.kind) {
    case Probe::kIncompleteHeader:
    case Probe::kPastEnd:  // v2: the header checksum held, so the length is what was written
      return true;
    case Probe::kBadHeader:
    case Probe::kBadPayload:
    case Probe::kTooLong: {
      if (r.kind == Probe::kTooLong && version != 1) return false;  // a checked header never says that
      const std::uint64_t page = (std::max(zeros, pos + 1) + kPageSize - 1) / kPageSize * kPageSize;
      if (page >= bytes.size()) return false;
      // A header that fails its checksum may only be cut by the zeros.
      return r.kind != Probe::kBadHeader || page - pos < record_header_size(version);
    }
    default:
      return false;
  }
}

// Counts the intact records after `from` with a plausible seq (at least
// `expected`, and no more than one per minimal record size further on).
void find_intact_after(std::string_view bytes, std::uint64_t from, std::uint64_t expected,
                       std::uint32_t version, Damage& d) {
  const std::size_t header = record_header_size(version);
  const std::uint64_t max_seq = expected + (bytes.size() - std::min<std::uint64_t>(from, bytes.size())) / header + 1;
  for (std::uint64_t q = from + 1; q + header <= bytes.size();) {
    const char* p = bytes.data() + q;
    const std::uint64_t seq = get_u64(p + 9);
    if (valid_type(p[8]) && seq >= expected && seq <= max_seq) {
      const Probe r = probe(bytes, q, version);
      if (r.kind == Probe::kIntact) {
        if (d.intact_after++ == 0) d.first_intact_offset = q;
        d.last_intact_seq = std::max(d.last_intact_seq, seq);
        q = r.end(q, version);
        continue;
      }
    }
    ++q;
  }
}

}  // namespace

std::string encode_log_header(std::uint64_t first_seq) {
  std::string out(kLogMagic);
  put_u32(out, kLogVersion);
  put_u64(out, first_seq);
  put_u32(out, util::crc32c(out));
  return out;
}

void append_record(std::string& out, RecordType type, std::uint64_t seq, std::string_view payload) {
  const std::size_t at = out.size();
  out.append(4, '\0');  // header_crc, filled below
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  put_u64(out, seq);
  put_u32(out, util::crc32c(payload));
  util::set_u32(out, at, util::crc32c(out.data() + at + 4, kRecordHeaderSize - 4));
  out.append(payload);
}

std::string encode_record(RecordType type, std::uint64_t seq, std::string_view payload) {
  std::string out;
  out.reserve(kRecordHeaderSize + payload.size());
  append_record(out, type, seq, payload);
  return out;
}

SegmentReader::SegmentReader(std::string_view bytes, std::uint64_t name_seq) : bytes_(bytes), name_seq_(name_seq) {
  read_header();
}

void SegmentReader::read_header() {
  if (bytes_.size() < kLogHeaderSize) {
    // A crash right after the file was created leaves a prefix of the header.
    const std::string_view magic = kLogMagic.substr(0, std::min(bytes_.size(), kLogMagic.size()));
    return header_damage(0, "incomplete file header", all_zero(bytes_) || bytes_.substr(0, magic.size()) == magic);
  }
  if (all_zero(bytes_.substr(0, kLogHeaderSize))) return header_damage(0, "zeroed file header", all_zero(bytes_));
  if (bytes_.substr(0, 8) != kLogMagic) return header_damage(0, "not a caserepo log (bad magic)", false);
  if (get_u32(bytes_.data() + 20) != util::crc32c(bytes_.data(), 20)) {
    return header_damage(0, "file header checksum mismatch", false);
  }
  const std::uint32_t version = get_u32(bytes_.data() + 8);
  if (version < kOldestLogVersion || version > kLogVersion) {
    return header_damage(8, "log format version " + std::to_string(version) + " is not supported", false);
  }
  first_seq_ = get_u64(bytes_.data() + 12);
  if (first_seq_ != name_seq_) {
    return header_damage(12, "file header says the segment starts at seq " + std::to_string(first_seq_) +
                                 ", its name at " + std::to_string(name_seq_), false);
  }
  version_ = version;
  pos_ = kLogHeaderSize;
  expected_ = first_seq_;
}

void SegmentReader::header_damage(std::uint64_t offset, std::string what, bool tail) {
  Damage d{offset, std::move(what), tail};
  for (std::uint32_t v : {kLogVersion, kOldestLogVersion}) find_intact_after(bytes_, offset, name_seq_, v, d);
  damage_ = std::move(d);
}

std::optional<LogRecord> SegmentReader::next() {
  if (version_ == 0 || damage_ || pos_ >= bytes_.size()) return std::nullopt;
  const Probe r = probe(bytes_, pos_, version_);
  if (r.kind != Probe::kIntact || r.seq != expected_) {
    Damage d{pos_, r.kind != Probe::kIntact ? describe(r)
                                            : "record seq " + std::to_string(r.seq) + " where " +
                                                  std::to_string(expected_) + " was expected",
             r.kind != Probe::kIntact && tail_shaped(bytes_, pos_, version_, r)};
    find_intact_after(bytes_, pos_, expected_, version_, d);
    damage_ = std::move(d);
    return std::nullopt;
  }
  const LogRecord record{r.type, r.seq, bytes_.substr(pos_ + record_header_size(version_), r.length), pos_};
  ++expected_;
  pos_ = r.end(pos_, version_);
  return record;
}

SegmentScan scan_segment(std::string_view bytes, std::uint64_t name_seq) {
  constexpr std::size_t kRecordsToEstimateFrom = 1024;
  SegmentReader reader(bytes, name_seq);
  SegmentScan scan;
  while (std::optional<LogRecord> record = reader.next()) {
    scan.records.push_back(*record);
    if (scan.records.size() == kRecordsToEstimateFrom) {
      // Room for the rest at the first records' average size, and a quarter
      // more: a long segment's list is not regrown and copied as it fills
      // (that was a quarter of a 1M-record scan).
      const std::uint64_t average = (reader.good_bytes() - kLogHeaderSize) / kRecordsToEstimateFrom + 1;
      scan.records.reserve(static_cast<std::size_t>((bytes.size() - kLogHeaderSize) / average * 5 / 4));
    }
  }
  scan.version = reader.version();
  scan.first_seq = reader.first_seq();
  scan.good_bytes = reader.good_bytes();
  scan.damage = reader.damage();
  return scan;
}

Error damage_error(const std::string& path, const Damage& d) {
  std::string m = path + " at offset " + std::to_string(d.offset) + ": " + d.what;
  if (d.intact_after > 0) {
    m += "; " + std::to_string(d.intact_after) + " intact record(s) follow (the first at offset " +
         std::to_string(d.first_intact_offset) + ", up to seq " + std::to_string(d.last_intact_seq) +
         "), so this is not a torn tail";
  } else if (d.tail_shaped) {
    m += " (a torn tail)";
  }
  return Error::Corruption(m);
}

}  // namespace caserepo::storage
