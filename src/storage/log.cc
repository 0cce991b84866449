#include "storage/log.h"

#include <algorithm>

#include "util/crc32c.h"

namespace caserepo::storage {
namespace {

Error corruption(const std::string& name, std::uint64_t offset, const std::string& what) {
  return Error::Corruption(name + " at offset " + std::to_string(offset) + ": " + what);
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

std::string encode_log_header(std::uint64_t first_seq) {
  std::string out(kLogMagic);
  put_u32(out, kLogVersion);
  put_u64(out, first_seq);
  put_u32(out, util::crc32c(out));
  return out;
}

std::string encode_record(RecordType type, std::uint64_t seq, std::string_view payload) {
  std::string out(4, '\0');  // crc, filled below
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  put_u64(out, seq);
  out.append(payload);
  const std::uint32_t crc = util::crc32c(out.data() + 4, out.size() - 4);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(crc >> (8 * i));
  return out;
}

Result<SegmentScan> scan_segment(std::string_view bytes, bool is_last, const std::string& name) {
  SegmentScan scan;
  // A crash right after the file was created can leave a short or zeroed header.
  if (bytes.size() < kLogHeaderSize || (is_last && all_zero(bytes.substr(0, kLogHeaderSize)))) {
    if (is_last && (bytes.size() < kLogHeaderSize || all_zero(bytes))) {
      scan.torn = true;
      scan.torn_reason = "incomplete file header";
      return scan;  // good_bytes 0: the header is rewritten
    }
    return corruption(name, 0, "file header is incomplete");
  }
  if (bytes.substr(0, 8) != kLogMagic) return corruption(name, 0, "not a caserepo log (bad magic)");
  if (get_u32(bytes.data() + 20) != util::crc32c(bytes.data(), 20)) return corruption(name, 0, "file header checksum mismatch");
  if (get_u32(bytes.data() + 8) != kLogVersion) {
    return corruption(name, 8, "log format version " + std::to_string(get_u32(bytes.data() + 8)) + " is not supported");
  }
  scan.first_seq = get_u64(bytes.data() + 12);
  std::uint64_t pos = kLogHeaderSize;
  std::uint64_t expected = scan.first_seq;

  auto torn_or_corrupt = [&](const std::string& what, bool nothing_after) -> Result<SegmentScan> {
    if (is_last && (nothing_after || all_zero(bytes.substr(pos)))) {
      scan.torn = true;
      scan.torn_reason = what + " at offset " + std::to_string(pos);
      scan.good_bytes = pos;
      return scan;
    }
    return corruption(name, pos, what);
  };

  while (pos < bytes.size()) {
    const std::uint64_t left = bytes.size() - pos;
    if (left < kRecordHeaderSize) return torn_or_corrupt("incomplete record header", true);
    const char* p = bytes.data() + pos;
    const std::uint32_t length = get_u32(p + 4);
    if (length > kMaxRecordPayload) return torn_or_corrupt("record length " + std::to_string(length) + " over the limit", false);
    if (left < kRecordHeaderSize + length) return torn_or_corrupt("record extends past the end of the file", true);
    const std::uint64_t end = pos + kRecordHeaderSize + length;
    if (get_u32(p) != util::crc32c(p + 4, kRecordHeaderSize - 4 + length)) {
      return torn_or_corrupt("record checksum mismatch", end == bytes.size());
    }
    const auto type = static_cast<RecordType>(static_cast<unsigned char>(p[8]));
    if (type != RecordType::kCreate && type != RecordType::kUpdate && type != RecordType::kRemove) {
      return corruption(name, pos, "unknown record type " + std::to_string(static_cast<int>(p[8])));
    }
    const std::uint64_t seq = get_u64(p + 9);
    if (seq != expected) {
      return corruption(name, pos, "record seq " + std::to_string(seq) + " where " + std::to_string(expected) + " was expected");
    }
    scan.records.push_back(LogRecord{type, seq, bytes.substr(pos + kRecordHeaderSize, length), pos});
    ++expected;
    pos = end;
  }
  scan.good_bytes = pos;
  return scan;
}

}  // namespace caserepo::storage
